#include "http/upstream.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <map>
#include <stdexcept>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace gh::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr size_t kMaxIdlePerHost = 64;

// Idle connections of this worker thread, by scheme://host:port.
thread_local std::map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_pool;

// The TLS client settings of every https upstream: TLS 1.2 or newer, and peer verification
// against OpenSSL's default CA file and directory. The SSL_CERT_FILE environment variable
// replaces the default file and SSL_CERT_DIR the default directory. The context is created on
// first use, and OpenSSL allows sharing it between threads once it is configured.
ssl::context& upstream_tls_context() {
  static ssl::context context = [] {
    ssl::context created(ssl::context::tls_client);
    if (SSL_CTX_set_min_proto_version(created.native_handle(), TLS1_2_VERSION) != 1) {
      throw std::runtime_error("setting the minimum TLS version of upstream connections failed");
    }
    created.set_default_verify_paths();
    created.set_verify_mode(ssl::verify_peer);
    return created;
  }();
  return context;
}

// True when the peer has closed the connection or sent unexpected bytes while it sat idle;
// such a connection must not carry a new request. On TLS connections a close_notify alert
// also counts as unexpected bytes.
bool is_stale(UpstreamConnection& connection) {
  if (connection.buffer.size() > 0) return true;
  if (connection.tls && SSL_pending(connection.tls->native_handle()) > 0) return true;
  char byte = 0;
  ssize_t received = ::recv(connection.tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (received == 0) return true;  // orderly close
  if (received > 0) return true;   // unrequested data
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Sets SNI (for host names only, as RFC 6066 forbids IP literals there) and the name or
// address that the certificate must match. Returns false when OpenSSL rejects either.
bool prepare_tls_peer(TlsStream& stream, const std::string& host) {
  SSL* handle = stream.native_handle();
  if (is_ip_address(host)) {
    return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), host.c_str()) == 1;
  }
  return SSL_set_tlsext_host_name(handle, host.c_str()) == 1 && SSL_set1_host(handle, host.c_str()) == 1;
}

// The handshake error, with the certificate verification result when that is what failed.
std::string handshake_failure_reason(TlsStream& stream, const boost::system::error_code& ec) {
  long verify_result = SSL_get_verify_result(stream.native_handle());
  if (verify_result == X509_V_OK) return ec.message();
  return fmt::format("{} ({})", ec.message(), X509_verify_cert_error_string(verify_result));
}

}  // namespace

std::string upstream_pool_key(std::string_view host, std::string_view port, bool tls) {
  return fmt::format("{}://{}:{}", tls ? "https" : "http", host, port);
}

asio::awaitable<std::unique_ptr<UpstreamConnection>> acquire_upstream(const std::string& host, const std::string& port,
                                                                      bool tls, Duration timeout, ConnectError& error,
                                                                      std::string& reason) {
  co_return co_await acquire_upstream(upstream_pool_key(host, port, tls), host, port, tls, timeout, error, reason);
}

asio::awaitable<std::unique_ptr<UpstreamConnection>> acquire_upstream(const std::string& pool_key,
                                                                      const std::string& host, const std::string& port,
                                                                      bool tls, Duration timeout, ConnectError& error,
                                                                      std::string& reason) {
  error = ConnectError::none;
  reason.clear();
  if (pool_key.empty()) co_return co_await acquire_upstream(host, port, tls, timeout, error, reason);
  auto pooled = idle_pool.find(pool_key);
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
    reason = "resolving the host failed: " + ec.message();
    co_return nullptr;
  }

  auto connection = std::make_unique<UpstreamConnection>();
  connection->key = pool_key;
  if (tls) {
    connection->tls.emplace(executor, upstream_tls_context());
  } else {
    connection->plain.emplace(executor);
  }
  beast::tcp_stream& stream = connection->tcp();
  if (timeout > Duration::zero()) stream.expires_after(timeout);  // zero: no timeout
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    error = ec == beast::error::timeout ? ConnectError::timed_out : ConnectError::unreachable;
    reason = ec == beast::error::timeout ? "connect timed out" : "connect failed: " + ec.message();
    co_return nullptr;
  }
  stream.socket().set_option(tcp::no_delay(true), ec);

  if (tls) {
    if (!prepare_tls_peer(*connection->tls, host)) {
      error = ConnectError::tls_failed;
      reason = "setting the TLS server name failed";
      co_return nullptr;
    }
    co_await connection->tls->async_handshake(ssl::stream_base::client,
                                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      error = ec == beast::error::timeout ? ConnectError::timed_out : ConnectError::tls_failed;
      reason = "TLS handshake failed: " + handshake_failure_reason(*connection->tls, ec);
      co_return nullptr;
    }
  }
  // Connecting and the handshake used the stream's own timer; the watchdog takes over.
  stream.expires_never();
  connection->watchdog.emplace(stream);
  co_return connection;
}

void release_upstream(std::unique_ptr<UpstreamConnection> connection) {
  auto& idle = idle_pool[connection->key];
  if (idle.size() >= kMaxIdlePerHost) return;
  connection->watchdog->expires_never();
  idle.push_back(std::move(connection));
}

template <bool IsRequest, typename InputStream, typename OutputStream>
asio::awaitable<void> relay_message(InputStream& input, Watchdog& input_watchdog, beast::flat_buffer& input_buffer,
                                    bhttp::parser<IsRequest, bhttp::buffer_body>& parser, OutputStream& output,
                                    Watchdog& output_watchdog,
                                    bhttp::serializer<IsRequest, bhttp::buffer_body>& serializer,
                                    std::span<char> chunk, Duration read_timeout, Duration write_timeout,
                                    boost::system::error_code& ec, bool& read_failed) {
  read_failed = false;
  auto& body = parser.get().body();
  body.data = nullptr;
  body.size = 0;
  body.more = !parser.is_done();

  if (parser.is_done()) {
    // No body: the header and, for chunked framing, the last chunk go out in one write.
    output_watchdog.expires_after(write_timeout);
    co_await bhttp::async_write(output, serializer, asio::redirect_error(asio::use_awaitable, ec));
    ec = output_watchdog.timed_out(ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    co_return;
  }

  // Without body bytes at hand, the next read may wait for a peer that streams, so the
  // header goes out first. With some, the first write below carries the header as well.
  if (input_buffer.size() == 0) {
    output_watchdog.expires_after(write_timeout);
    co_await bhttp::async_write_header(output, serializer, asio::redirect_error(asio::use_awaitable, ec));
    ec = output_watchdog.timed_out(ec);
    if (ec) co_return;
  }

  while (!parser.is_done()) {
    body.data = chunk.data();
    body.size = chunk.size();
    input_watchdog.expires_after(read_timeout);
    co_await bhttp::async_read_some(input, input_buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    ec = input_watchdog.timed_out(ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      read_failed = true;
      co_return;
    }
    // A read can end after a chunk header or chunk extension without any body bytes. An
    // empty buffer must not reach the serializer, because in chunked framing it would write
    // the zero-size last chunk and end the message early.
    const size_t received = chunk.size() - body.size;
    if (received == 0 && !parser.is_done()) {
      if (!serializer.is_header_done() && input_buffer.size() == 0) {
        output_watchdog.expires_after(write_timeout);
        co_await bhttp::async_write_header(output, serializer, asio::redirect_error(asio::use_awaitable, ec));
        ec = output_watchdog.timed_out(ec);
        if (ec) co_return;
      }
      continue;
    }
    body.data = received == 0 ? nullptr : chunk.data();
    body.size = received;
    body.more = !parser.is_done();

    output_watchdog.expires_after(write_timeout);
    co_await bhttp::async_write(output, serializer, asio::redirect_error(asio::use_awaitable, ec));
    ec = output_watchdog.timed_out(ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return;
  }

  if (!serializer.is_done()) {
    body.data = nullptr;
    body.size = 0;
    body.more = false;
    output_watchdog.expires_after(write_timeout);
    co_await bhttp::async_write(output, serializer, asio::redirect_error(asio::use_awaitable, ec));
    ec = output_watchdog.timed_out(ec);
    if (ec == bhttp::error::need_buffer) ec = {};
  }
}

// The proxy reads requests from plain client connections and responses from either kind of
// upstream connection.
template asio::awaitable<void> relay_message<true>(beast::tcp_stream&, Watchdog&, beast::flat_buffer&,
                                                  bhttp::parser<true, bhttp::buffer_body>&, beast::tcp_stream&, Watchdog&,
                                                  bhttp::serializer<true, bhttp::buffer_body>&, std::span<char>, Duration, Duration,
                                                  boost::system::error_code&, bool&);
template asio::awaitable<void> relay_message<true>(beast::tcp_stream&, Watchdog&, beast::flat_buffer&,
                                                  bhttp::parser<true, bhttp::buffer_body>&, TlsStream&, Watchdog&,
                                                  bhttp::serializer<true, bhttp::buffer_body>&, std::span<char>, Duration, Duration,
                                                  boost::system::error_code&, bool&);
template asio::awaitable<void> relay_message<false>(beast::tcp_stream&, Watchdog&, beast::flat_buffer&,
                                                   bhttp::parser<false, bhttp::buffer_body>&, beast::tcp_stream&, Watchdog&,
                                                   bhttp::serializer<false, bhttp::buffer_body>&, std::span<char>, Duration, Duration,
                                                   boost::system::error_code&, bool&);
template asio::awaitable<void> relay_message<false>(TlsStream&, Watchdog&, beast::flat_buffer&,
                                                   bhttp::parser<false, bhttp::buffer_body>&, beast::tcp_stream&, Watchdog&,
                                                   bhttp::serializer<false, bhttp::buffer_body>&, std::span<char>, Duration, Duration,
                                                   boost::system::error_code&, bool&);

}  // namespace gh::http
