#include "http/watchdog.h"

#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>

namespace gh::http {
namespace {

using Clock = std::chrono::steady_clock;
constexpr Clock::time_point kNever = Clock::time_point::max();

}  // namespace

struct Watchdog::State {
  explicit State(boost::beast::tcp_stream& watched) : timer(watched.get_executor()), stream(&watched) {}

  boost::asio::steady_timer timer;
  boost::beast::tcp_stream* stream;    // null once the Watchdog is gone
  Clock::time_point deadline = kNever;  // when pending operations must have finished
  Clock::time_point waiting_for = kNever;  // the expiry of the pending timer wait; kNever when none
  unsigned generation = 0;              // counts timer waits, so a superseded one is ignored
  bool expired = false;                 // the deadline passed and operations were cancelled
};

Watchdog::Watchdog(boost::beast::tcp_stream& stream) : state_(std::make_shared<State>(stream)) {}

Watchdog::~Watchdog() {
  state_->stream = nullptr;
  state_->timer.cancel();
}

void Watchdog::expires_after(Duration timeout) {
  // Zero means no timeout, as in Go's net/http, whose settings these are. A timeout too large
  // for a time point saturates instead of wrapping around to the past.
  const Clock::time_point now = Clock::now();
  if (timeout <= Duration::zero() || timeout >= kNever - now) {
    expires_never();
    return;
  }
  state_->expired = false;
  state_->deadline = now + std::chrono::duration_cast<Clock::duration>(timeout);
  if (state_->deadline < state_->waiting_for) arm(state_);
}

void Watchdog::expires_never() {
  state_->expired = false;
  state_->deadline = kNever;
}

boost::system::error_code Watchdog::timed_out(boost::system::error_code ec) const {
  if (state_->expired && ec == boost::asio::error::operation_aborted) return boost::beast::error::timeout;
  return ec;
}

void Watchdog::arm(const std::shared_ptr<State>& state) {
  // Restarting the timer cancels its pending wait, whose handler then finds an old generation.
  const unsigned generation = ++state->generation;
  state->waiting_for = state->deadline;
  state->timer.expires_at(state->deadline);
  state->timer.async_wait(
      [state, generation](const boost::system::error_code& ec) { fired(state, generation, ec); });
}

void Watchdog::fired(const std::shared_ptr<State>& state, unsigned generation, const boost::system::error_code& ec) {
  if (ec == boost::asio::error::operation_aborted || generation != state->generation || !state->stream) return;
  state->waiting_for = kNever;
  if (state->deadline == kNever) return;  // the next expires_after starts a wait again
  if (Clock::now() < state->deadline) {
    arm(state);
    return;
  }
  state->expired = true;
  boost::system::error_code ignored;
  state->stream->socket().cancel(ignored);
}

}  // namespace gh::http
