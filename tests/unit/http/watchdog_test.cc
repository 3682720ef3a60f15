#include "http/watchdog.h"

#include <chrono>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <gtest/gtest.h>

namespace gh::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A connected pair of loopback sockets: `local` is watched, `peer` plays the other side.
class WatchdogTest : public ::testing::Test {
 protected:
  WatchdogTest() : local(context), peer(context) {
    tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    local.socket().connect(acceptor.local_endpoint());
    acceptor.accept(peer);
  }

  // Starts a one-byte read on `local` that stores its outcome through `watchdog`.
  void start_read(Watchdog& watchdog) {
    outcome.reset();
    asio::async_read(local, asio::buffer(&byte, 1), [&](boost::system::error_code ec, size_t) {
      outcome = watchdog.timed_out(ec);
      finished_at = std::chrono::steady_clock::now();
    });
  }

  // Makes the peer send `letter` 200 ms from now, once the context runs.
  void send_later(char letter) {
    sender.expires_after(200ms);
    sender.async_wait([this, letter](boost::system::error_code) { asio::write(peer, asio::buffer(&letter, 1)); });
  }

  // Runs the context until the read has finished or `limit` has passed.
  void run_for(std::chrono::milliseconds limit) {
    context.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!outcome && std::chrono::steady_clock::now() < deadline) context.run_one_for(10ms);
  }

  asio::io_context context;
  boost::beast::tcp_stream local;
  tcp::socket peer;
  asio::steady_timer sender{context};
  char byte = 0;
  std::optional<boost::system::error_code> outcome;
  std::chrono::steady_clock::time_point finished_at;
};

TEST_F(WatchdogTest, ReadWithoutDataTimesOut) {
  Watchdog watchdog(local);
  watchdog.expires_after(50ms);
  start_read(watchdog);
  run_for(10s);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, boost::beast::error::timeout);
}

TEST_F(WatchdogTest, DataBeforeDeadlineIsRead) {
  Watchdog watchdog(local);
  watchdog.expires_after(10s);
  start_read(watchdog);
  asio::write(peer, asio::buffer("x", 1));
  run_for(10s);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_FALSE(outcome->failed()) << outcome->message();
  EXPECT_EQ(byte, 'x');
}

// The timer waits for the first, far deadline; a nearer one set later must still apply.
TEST_F(WatchdogTest, NearerDeadlineApplies) {
  Watchdog watchdog(local);
  watchdog.expires_after(1h);
  start_read(watchdog);
  asio::write(peer, asio::buffer("x", 1));
  run_for(10s);
  ASSERT_TRUE(outcome.has_value());
  ASSERT_FALSE(outcome->failed());

  const auto started = std::chrono::steady_clock::now();
  watchdog.expires_after(50ms);
  start_read(watchdog);
  run_for(10s);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(*outcome, boost::beast::error::timeout);
  EXPECT_LT(finished_at - started, 5s);
}

// The timer fires at the first deadline, finds that a later one replaced it, and waits again
// instead of cancelling the read.
TEST_F(WatchdogTest, LaterDeadlineKeepsReading) {
  Watchdog watchdog(local);
  watchdog.expires_after(30ms);
  watchdog.expires_after(10s);
  start_read(watchdog);
  send_later('y');
  run_for(10s);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_FALSE(outcome->failed()) << outcome->message();
  EXPECT_EQ(byte, 'y');
}

TEST_F(WatchdogTest, NeverMeansNoTimeout) {
  Watchdog watchdog(local);
  watchdog.expires_after(30ms);
  watchdog.expires_never();
  start_read(watchdog);
  send_later('z');
  run_for(10s);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_FALSE(outcome->failed()) << outcome->message();
}

// Zero turns the timeout off, as in Go's net/http.
TEST_F(WatchdogTest, ZeroMeansNoTimeout) {
  Watchdog watchdog(local);
  watchdog.expires_after(Duration::zero());
  start_read(watchdog);
  send_later('z');
  run_for(10s);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_FALSE(outcome->failed()) << outcome->message();
}

// The largest configurable duration must not wrap the deadline around into the past.
TEST_F(WatchdogTest, HugeTimeoutDoesNotWrap) {
  Watchdog watchdog(local);
  watchdog.expires_after(Duration::max());
  start_read(watchdog);
  send_later('w');
  run_for(10s);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_FALSE(outcome->failed()) << outcome->message();
  EXPECT_EQ(byte, 'w');
}

// Other errors pass through unchanged, and a cancellation that the watchdog did not cause is
// not reported as a timeout.
TEST_F(WatchdogTest, OtherErrorsAreNotTimeouts) {
  Watchdog watchdog(local);
  watchdog.expires_after(10s);
  EXPECT_EQ(watchdog.timed_out(asio::error::operation_aborted), asio::error::operation_aborted);
  EXPECT_EQ(watchdog.timed_out(asio::error::eof), asio::error::eof);
}

// The timer's handler runs after the watchdog is gone and must not touch the stream.
TEST_F(WatchdogTest, DestroyedWhileTimerWaits) {
  {
    Watchdog watchdog(local);
    watchdog.expires_after(20ms);
  }
  asio::steady_timer pause(context, 100ms);
  bool paused = false;
  pause.async_wait([&](boost::system::error_code) { paused = true; });
  context.run_for(1s);
  EXPECT_TRUE(paused);
  EXPECT_TRUE(local.socket().is_open());
}

}  // namespace
}  // namespace gh::http
