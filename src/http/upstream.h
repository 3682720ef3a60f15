// Connections to upstream services: a per-worker keep-alive pool and body relaying.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/duration.h"
#include "http/watchdog.h"

namespace gh::http {

// Maximum bytes of message body that one relay step reads and writes.
inline constexpr std::size_t kRelayChunkBytes = 16 * 1024;

// An open connection to an upstream, with its read buffer. Exactly one of `plain` and `tls`
// is set.
struct UpstreamConnection {
  std::string key;  // scheme://host:port
  std::optional<boost::beast::tcp_stream> plain;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls;
  // The timeouts of reads and writes after the connection is set up (connecting and the TLS
  // handshake use the stream's own timer). Declared after the streams, so it goes first.
  std::optional<Watchdog> watchdog;
  boost::beast::flat_buffer buffer;
  bool reused = false;  // taken from the pool rather than freshly connected
  // Scratch space for message heads written through this connection (see http/wire.h); it
  // keeps its capacity while the connection stays pooled, so most requests allocate nothing.
  std::string head;

  // The TCP layer, which carries the timeouts of both kinds of connection.
  boost::beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }

  // Scratch space for relaying bodies through this connection, allocated on first use and
  // kept while the connection stays pooled. The request and the response relay take turns
  // with it, never both at once.
  std::span<char> relay_chunk() {
    if (!relay_chunk_) relay_chunk_ = std::make_unique_for_overwrite<char[]>(kRelayChunkBytes);
    return {relay_chunk_.get(), kRelayChunkBytes};
  }

 private:
  std::unique_ptr<char[]> relay_chunk_;
};

enum class ConnectError { none, unreachable, timed_out, tls_failed };

// Returns the key of the pool of connections to host:port, for acquire_upstream.
std::string upstream_pool_key(std::string_view host, std::string_view port, bool tls);

// Returns a pooled idle connection to host:port, or opens one within `timeout`. With `tls`,
// a new connection completes a TLS handshake that sends the host as SNI and verifies the
// certificate chain against OpenSSL's default CA file and directory (which SSL_CERT_FILE and
// SSL_CERT_DIR override) and the host name. Pools are per worker thread: call this only from a
// worker's coroutine. The error distinguishes a timeout (504) from any other failure (502),
// and `reason` describes a failure for the log.
boost::asio::awaitable<std::unique_ptr<UpstreamConnection>> acquire_upstream(
    const std::string& host, const std::string& port, bool tls, Duration timeout, ConnectError& error,
    std::string& reason);

// Same as above, with the pool key computed once by upstream_pool_key (computed here when
// empty).
boost::asio::awaitable<std::unique_ptr<UpstreamConnection>> acquire_upstream(
    const std::string& pool_key, const std::string& host, const std::string& port, bool tls, Duration timeout,
    ConnectError& error, std::string& reason);

// Returns a connection whose last response was read completely to the pool of this worker.
// At most 64 idle connections per scheme, host and port are kept, and further ones are closed.
void release_upstream(std::unique_ptr<UpstreamConnection> connection);

// Streams a message from `input` (whose parser has read the header) to `output` through
// `serializer`, which must wrap `parser.get()`, using `chunk` to carry body bytes. The
// header goes out together with the body bytes that `input_buffer` already contains, or on
// its own when there are none, so a peer that streams its body receives the header before the
// first body byte. Each read waits at most `read_timeout` and each write at most
// `write_timeout`, enforced by the watchdog of each side; a timeout sets `ec` to
// beast::error::timeout. Instantiated for tcp_stream and ssl_stream<tcp_stream> on either side.
template <bool IsRequest, typename InputStream, typename OutputStream>
boost::asio::awaitable<void> relay_message(
    InputStream& input, Watchdog& input_watchdog, boost::beast::flat_buffer& input_buffer,
    boost::beast::http::parser<IsRequest, boost::beast::http::buffer_body>& parser,
    OutputStream& output, Watchdog& output_watchdog,
    boost::beast::http::serializer<IsRequest, boost::beast::http::buffer_body>& serializer,
    std::span<char> chunk, Duration read_timeout, Duration write_timeout, boost::system::error_code& ec,
    bool& read_failed);

}  // namespace gh::http
