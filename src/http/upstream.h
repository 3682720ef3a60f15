// Connections to upstream services: a per-worker keep-alive pool and body relaying.
#pragma once

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>

#include "common/duration.h"

namespace gh::http {

// An open connection to host:port, with its read buffer.
struct UpstreamConnection {
  std::string key;  // host:port
  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer;
  bool reused = false;  // taken from the pool rather than freshly connected
};

enum class ConnectError { none, unreachable, timed_out };

// Returns a pooled idle connection to host:port, or opens one within `timeout`. Pools are
// per worker thread: call this only from a worker's coroutine. The error distinguishes a
// timeout (504) from any other failure (502).
boost::asio::awaitable<std::unique_ptr<UpstreamConnection>> acquire_upstream(
    const std::string& host, const std::string& port, Duration timeout, ConnectError& error);

// Returns a connection whose last response was read completely to the pool of this worker.
// At most 64 idle connections per host:port are kept; the rest are closed.
void release_upstream(std::unique_ptr<UpstreamConnection> connection);

// Streams a message body from `input` (whose parser has read the header) to `output`
// through `serializer`, which must wrap `parser.get()`. Writes the header first. Each read
// waits at most `read_timeout` and each write at most `write_timeout`.
template <bool IsRequest>
boost::asio::awaitable<void> relay_message(
    boost::beast::tcp_stream& input, boost::beast::flat_buffer& input_buffer,
    boost::beast::http::parser<IsRequest, boost::beast::http::buffer_body>& parser,
    boost::beast::tcp_stream& output,
    boost::beast::http::serializer<IsRequest, boost::beast::http::buffer_body>& serializer,
    Duration read_timeout, Duration write_timeout, boost::system::error_code& ec,
    bool& read_failed);

}  // namespace gh::http
