#include "http/client.h"

#include <sys/socket.h>

#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>

namespace gh::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// Idle connections kept per peer and thread; more are closed on release.
constexpr std::size_t kMaxIdlePerPeer = 16;
// Largest response header block accepted.
constexpr std::uint32_t kMaxResponseHeaderBytes = 64 * 1024;

struct Target {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string authority;  // Host header value
  std::string path_and_query;
};

Expected<Target, ClientError> parse_target(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) {
    return Unexpected{ClientError{ClientErrorKind::invalid_url, "the URL is not an absolute URI"}};
  }
  Target target;
  if (parsed->scheme() == "https") {
    target.tls = true;
  } else if (parsed->scheme() != "http") {
    return Unexpected{ClientError{ClientErrorKind::invalid_url,
                                  fmt::format("scheme \"{}\" is not supported; expected http or https",
                                              std::string(parsed->scheme()))}};
  }
  if (!parsed->has_authority() || parsed->host().empty()) {
    return Unexpected{ClientError{ClientErrorKind::invalid_url, "the URL has no host"}};
  }
  target.host = parsed->host_address();
  target.port = parsed->has_port() && !parsed->port().empty() ? std::string(parsed->port())
                                                                : (target.tls ? "443" : "80");
  target.authority = std::string(parsed->encoded_host_and_port());
  target.path_and_query = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) target.path_and_query += "?" + std::string(parsed->encoded_query());
  return target;
}

// The TLS settings shared by every https connection: peer verification against the
// system CA store. Created on first use; OpenSSL contexts may be shared between threads
// once configured.
ssl::context& tls_context() {
  static ssl::context context = [] {
    ssl::context created(ssl::context::tls_client);
    created.set_default_verify_paths();
    created.set_verify_mode(ssl::verify_peer);
    return created;
  }();
  return context;
}

struct Connection {
  std::string key;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }
};

// Idle connections of this thread, by io_context and peer.
thread_local std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_connections;

std::string pool_key(const asio::any_io_executor& executor, const Target& target) {
  const void* context = &asio::query(executor, asio::execution::context);
  return fmt::format("{}|{}|{}|{}", context, target.tls ? "https" : "http", target.host, target.port);
}

// True when the peer closed the idle connection or sent unrequested bytes.
bool is_stale(Connection& connection) {
  if (connection.buffer.size() > 0) return true;
  char byte = 0;
  ssize_t received = ::recv(connection.tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (received >= 0) return true;
  return errno != EAGAIN && errno != EWOULDBLOCK;
}

std::unique_ptr<Connection> take_idle(const std::string& key) {
  auto pooled = idle_connections.find(key);
  while (pooled != idle_connections.end() && !pooled->second.empty()) {
    std::unique_ptr<Connection> connection = std::move(pooled->second.back());
    pooled->second.pop_back();
    if (!is_stale(*connection)) return connection;
  }
  return nullptr;
}

void return_idle(std::unique_ptr<Connection> connection) {
  auto& idle = idle_connections[connection->key];
  if (idle.size() >= kMaxIdlePerPeer) return;
  connection->tcp().expires_never();
  idle.push_back(std::move(connection));
}

ClientError transport_error(const boost::system::error_code& ec, const Target& target, std::string_view step) {
  ClientErrorKind kind = ec == beast::error::timeout ? ClientErrorKind::timed_out : ClientErrorKind::unreachable;
  return ClientError{kind, fmt::format("{} {}:{} failed: {}", step, target.host, target.port, ec.message())};
}

bool is_ip_address(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

asio::awaitable<Expected<std::unique_ptr<Connection>, ClientError>> connect(const Target& target, std::string key,
                                                                            Clock::time_point deadline) {
  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code ec;

  // NOTE: name resolution has no deadline of its own; the system resolver's timeout applies.
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(target.host, target.port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Unexpected{transport_error(ec, target, "resolving")};

  auto connection = std::make_unique<Connection>();
  connection->key = std::move(key);
  if (target.tls) {
    connection->tls.emplace(executor, tls_context());
  } else {
    connection->plain.emplace(executor);
  }
  beast::tcp_stream& stream = connection->tcp();
  stream.expires_at(deadline);
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return Unexpected{transport_error(ec, target, "connecting to")};
  stream.socket().set_option(tcp::no_delay(true), ec);

  // NOTE: no automated test covers the https path yet, because the tests cannot add a CA
  // to the system store that verification uses.
  if (target.tls) {
    SSL* handle = connection->tls->native_handle();
    if (!is_ip_address(target.host) && SSL_set_tlsext_host_name(handle, target.host.c_str()) != 1) {
      co_return Unexpected{ClientError{ClientErrorKind::protocol,
                                       fmt::format("setting the TLS server name {} failed", target.host)}};
    }
    connection->tls->set_verify_callback(ssl::host_name_verification(target.host));
    co_await connection->tls->async_handshake(ssl::stream_base::client,
                                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      ClientErrorKind kind = ec == beast::error::timeout ? ClientErrorKind::timed_out : ClientErrorKind::protocol;
      co_return Unexpected{ClientError{
          kind, fmt::format("TLS handshake with {}:{} failed: {}", target.host, target.port, ec.message())}};
    }
  }
  co_return connection;
}

bhttp::request<bhttp::string_body> build_request(const ClientRequest& request, const Target& target) {
  bhttp::request<bhttp::string_body> message;
  bhttp::verb verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown) {
    message.method_string(request.method);
  } else {
    message.method(verb);
  }
  message.target(target.path_and_query);
  message.version(11);
  message.set(bhttp::field::host, target.authority);
  message.set(bhttp::field::user_agent, "gatehouse");
  for (const auto& [name, value] : request.headers) message.insert(name, value);
  message.keep_alive(true);
  message.body() = request.body;
  if (!request.body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put) message.prepare_payload();
  return message;
}

enum class ExchangeOutcome { done, failed_before_response, failed };

// Writes the request and reads the response on `connection`, within the stream's deadline.
template <typename Stream>
asio::awaitable<ExchangeOutcome> exchange(Stream& stream, beast::flat_buffer& buffer,
                                          const bhttp::request<bhttp::string_body>& message,
                                          bhttp::response_parser<bhttp::string_body>& parser,
                                          boost::system::error_code& ec) {
  co_await bhttp::async_write(stream, message, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return ExchangeOutcome::failed_before_response;
  co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return parser.got_some() ? ExchangeOutcome::failed : ExchangeOutcome::failed_before_response;
  co_return ExchangeOutcome::done;
}

ClientError read_error(const boost::system::error_code& ec, const Target& target, std::size_t max_body) {
  if (ec == bhttp::error::body_limit) {
    return ClientError{ClientErrorKind::too_large,
                       fmt::format("the response from {}:{} is larger than {} bytes", target.host, target.port, max_body)};
  }
  if (ec == bhttp::error::header_limit) {
    return ClientError{ClientErrorKind::too_large,
                       fmt::format("the response header from {}:{} is larger than {} bytes", target.host,
                                   target.port, kMaxResponseHeaderBytes)};
  }
  if (ec == beast::error::timeout) return transport_error(ec, target, "reading from");
  const boost::system::error_code http_end_of_stream = bhttp::error::end_of_stream;
  if (ec.category() == http_end_of_stream.category() && ec != http_end_of_stream) {
    return ClientError{ClientErrorKind::protocol,
                       fmt::format("the response from {}:{} is malformed: {}", target.host, target.port, ec.message())};
  }
  return transport_error(ec, target, "reading from");
}

bool is_retry_safe(std::string_view method) { return method == "GET" || method == "HEAD" || method == "OPTIONS"; }

}  // namespace

std::string_view ClientResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

std::string_view to_string(ClientErrorKind kind) {
  switch (kind) {
    case ClientErrorKind::invalid_url:
      return "invalid_url";
    case ClientErrorKind::unreachable:
      return "unreachable";
    case ClientErrorKind::timed_out:
      return "timed_out";
    case ClientErrorKind::too_large:
      return "too_large";
    case ClientErrorKind::protocol:
      return "protocol";
  }
  return "unknown";
}

asio::awaitable<Expected<ClientResponse, ClientError>> fetch(ClientRequest request) {
  auto target = parse_target(request.url);
  if (!target) co_return Unexpected{target.error()};

  const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(request.timeout);
  auto executor = co_await asio::this_coro::executor;
  const std::string key = pool_key(executor, *target);
  const bhttp::request<bhttp::string_body> message = build_request(request, *target);

  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> connection = attempt == 0 ? take_idle(key) : nullptr;
    const bool reused = connection != nullptr;
    if (!connection) {
      auto connected = co_await connect(*target, key, deadline);
      if (!connected) co_return Unexpected{std::move(connected).error()};
      connection = std::move(*connected);
    }
    connection->tcp().expires_at(deadline);

    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(request.max_response_bytes);
    parser.header_limit(kMaxResponseHeaderBytes);
    parser.skip(request.method == "HEAD");
    boost::system::error_code ec;
    ExchangeOutcome outcome = connection->tls
                                  ? co_await exchange(*connection->tls, connection->buffer, message, parser, ec)
                                  : co_await exchange(*connection->plain, connection->buffer, message, parser, ec);

    if (outcome == ExchangeOutcome::failed_before_response && reused && ec != beast::error::timeout &&
        is_retry_safe(request.method)) {
      continue;  // the peer closed the idle connection as the request went out
    }
    if (outcome != ExchangeOutcome::done) co_return Unexpected{read_error(ec, *target, request.max_response_bytes)};

    bhttp::response<bhttp::string_body> response = parser.release();
    ClientResponse out;
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = std::move(response.body());
    if (response.keep_alive()) return_idle(std::move(connection));
    co_return out;
  }
  co_return Unexpected{ClientError{ClientErrorKind::unreachable,
                                   fmt::format("{}:{} closed the connection before responding", target->host,
                                               target->port)}};
}

}  // namespace gh::http
