// Timeouts for a stream's reads and writes without an Asio timer per operation.
//
// Beast's tcp_stream starts a timer wait beside every read and write and cancels it when the
// operation completes. On the proxy's path that is four timer waits per request. Each is
// scheduled and cancelled in the reactor's timer queue, each cancellation is a handler to run,
// and a new earliest deadline costs a timerfd_settime call. Under callgrind that came to about
// a tenth of the instructions of a proxied request, and strace counted one system call more
// per request.
//
// A Watchdog keeps one timer per connection instead. Setting a deadline stores a time, and the
// timer is only restarted when the new deadline is earlier than the one it waits for. When
// the timer fires before the current deadline (the deadline moved on), it waits again. When
// the deadline has passed, it cancels the stream's pending operations, which then fail with
// operation_aborted, and `timed_out` turns that error into beast::error::timeout.
#pragma once

#include <memory>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include "common/duration.h"

namespace gh::http {

class Watchdog {
 public:
  // Watches `stream`, which must outlive the Watchdog or be closed before the Watchdog goes.
  // The stream's own Beast timeout must stay at never while the Watchdog is in use.
  explicit Watchdog(boost::beast::tcp_stream& stream);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Sets the deadline of the next operations to `timeout` from now; zero (or less) means none.
  // Call it before every read or write, because a deadline that passed while no operation was
  // pending is not carried over.
  void expires_after(Duration timeout);

  // Removes the deadline until the next expires_after (idle pooled connections, tunnels).
  void expires_never();

  // Returns `ec`, or beast::error::timeout when this Watchdog cancelled the operation that
  // failed with `ec`.
  boost::system::error_code timed_out(boost::system::error_code ec) const;

 private:
  struct State;
  static void arm(const std::shared_ptr<State>& state);
  static void fired(const std::shared_ptr<State>& state, unsigned generation, const boost::system::error_code& ec);

  // Shared with the pending timer handler, which may run after the Watchdog is gone.
  std::shared_ptr<State> state_;
};

}  // namespace gh::http
