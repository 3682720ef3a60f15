#include "http/upstream.h"

#include <sys/socket.h>

#include <array>
#include <map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace gh::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxIdlePerHost = 64;

// Idle connections of this worker thread, by host:port.
thread_local std::map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_pool;

// True when the peer has closed the connection or sent unexpected bytes while it sat idle;
// such a connection must not carry a new request.
bool is_stale(UpstreamConnection& connection) {
  if (connection.buffer.size() > 0) return true;
  char byte = 0;
  ssize_t received = ::recv(connection.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (received == 0) return true;  // orderly close
  if (received > 0) return true;   // data nobody asked for
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

}  // namespace

asio::awaitable<std::unique_ptr<UpstreamConnection>> acquire_upstream(const std::string& host, const std::string& port,
                                                                      Duration timeout, ConnectError& error) {
  error = ConnectError::none;
  std::string key = host + ":" + port;
  auto pooled = idle_pool.find(key);
  while (pooled != idle_pool.end() && !pooled->second.empty()) {
    std::unique_ptr<UpstreamConnection> connection = std::move(pooled->second.back());
    pooled->second.pop_back();
    if (!is_stale(*connection)) {
      connection->reused = true;
      co_return connection;
    }
  }

  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  boost::system::error_code ec;
  auto endpoints = co_await resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    error = ConnectError::unreachable;
    co_return nullptr;
  }

  auto connection = std::make_unique<UpstreamConnection>(
      UpstreamConnection{key, beast::tcp_stream(executor), beast::flat_buffer(), false});
  connection->stream.expires_after(timeout);
  co_await connection->stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    error = ec == beast::error::timeout ? ConnectError::timed_out : ConnectError::unreachable;
    co_return nullptr;
  }
  connection->stream.socket().set_option(tcp::no_delay(true), ec);
  co_return connection;
}

void release_upstream(std::unique_ptr<UpstreamConnection> connection) {
  auto& idle = idle_pool[connection->key];
  if (idle.size() >= kMaxIdlePerHost) return;
  connection->stream.expires_never();
  idle.push_back(std::move(connection));
}

template <bool IsRequest>
asio::awaitable<void> relay_message(beast::tcp_stream& input, beast::flat_buffer& input_buffer,
                                    bhttp::parser<IsRequest, bhttp::buffer_body>& parser, beast::tcp_stream& output,
                                    bhttp::serializer<IsRequest, bhttp::buffer_body>& serializer,
                                    Duration read_timeout, Duration write_timeout, boost::system::error_code& ec,
                                    bool& read_failed) {
  read_failed = false;
  std::array<char, 16 * 1024> chunk{};
  auto& body = parser.get().body();

  if (parser.is_done()) {
    body.data = nullptr;
    body.size = 0;
    body.more = false;
  } else {
    body.data = nullptr;
    body.size = 0;
    body.more = true;
  }
  output.expires_after(write_timeout);
  co_await bhttp::async_write_header(output, serializer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;

  while (!parser.is_done()) {
    body.data = chunk.data();
    body.size = chunk.size();
    input.expires_after(read_timeout);
    co_await bhttp::async_read_some(input, input_buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      read_failed = true;
      co_return;
    }
    // A read can end after a chunk header or chunk extension without any body bytes. An
    // empty buffer must not reach the serializer, because in chunked framing it would write
    // the zero-size last chunk and end the message early.
    const size_t received = chunk.size() - body.size;
    if (received == 0 && !parser.is_done()) continue;
    body.data = received == 0 ? nullptr : chunk.data();
    body.size = received;
    body.more = !parser.is_done();

    output.expires_after(write_timeout);
    co_await bhttp::async_write(output, serializer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return;
  }

  if (!serializer.is_done()) {
    body.data = nullptr;
    body.size = 0;
    body.more = false;
    output.expires_after(write_timeout);
    co_await bhttp::async_write(output, serializer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
  }
}

template asio::awaitable<void> relay_message<true>(beast::tcp_stream&, beast::flat_buffer&,
                                                  bhttp::parser<true, bhttp::buffer_body>&, beast::tcp_stream&,
                                                  bhttp::serializer<true, bhttp::buffer_body>&, Duration, Duration,
                                                  boost::system::error_code&, bool&);
template asio::awaitable<void> relay_message<false>(beast::tcp_stream&, beast::flat_buffer&,
                                                   bhttp::parser<false, bhttp::buffer_body>&, beast::tcp_stream&,
                                                   bhttp::serializer<false, bhttp::buffer_body>&, Duration, Duration,
                                                   boost::system::error_code&, bool&);

}  // namespace gh::http
