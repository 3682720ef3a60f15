#include "proxy/proxy.h"

#include <algorithm>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/headers.h"
#include "http/upstream.h"
#include "http/url.h"
#include "http/wire.h"
#include "pipeline/errors/handlers.h"
#include "pipeline/runner.h"
#include "telemetry/log.h"

namespace gh::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace asio::experimental::awaitable_operators;

using RequestMessage = bhttp::request<bhttp::buffer_body>;

// Interim (1xx) responses read before the final one; more is a misbehaving upstream.
constexpr int kMaxInterimResponses = 8;

// Framing facts of the client's message, kept before its hop-by-hop headers are removed.
struct ClientFraming {
  unsigned version = 11;  // the client's HTTP version; the forwarded request is always 1.1
  bool chunked = false;
  bool keep_alive = true;
  bool expect_continue = false;
  std::string upgrade;  // the Upgrade header when the client asked for a protocol switch
};

ClientFraming take_framing(RequestMessage& message) {
  ClientFraming framing;
  framing.version = message.version();
  framing.chunked = message.chunked();
  framing.keep_alive = message.keep_alive();
  auto expect = message.find(bhttp::field::expect);
  framing.expect_continue = expect != message.end() && http::iequals(expect->value(), "100-continue");
  message.erase(bhttp::field::expect);

  auto upgrade = message.find(bhttp::field::upgrade);
  if (upgrade != message.end()) {
    for (auto [connection_it, connection_end] = message.equal_range(bhttp::field::connection); connection_it != connection_end; ++connection_it) {
    const auto& connection = *connection_it;
      std::string lowered(connection.value());
      for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lowered.find("upgrade") != std::string::npos) framing.upgrade = std::string(upgrade->value());
    }
  }
  http::remove_hop_by_hop(message);
  return framing;
}

std::string first_value(const RequestMessage& message, std::string_view name) {
  auto found = message.find(name);
  return found == message.end() ? std::string() : std::string(found->value());
}

// The scheme the client used: https on TLS connections (none yet), else http, unless a trusted
// X-Forwarded-Proto sends http or https.
std::string client_scheme(const RequestMessage& message, bool trusted) {
  if (trusted) {
    std::string forwarded = first_value(message, "X-Forwarded-Proto");
    if (http::iequals(forwarded, "https")) return "https";
    if (http::iequals(forwarded, "http")) return "http";
  }
  return "http";
}

class ProxyHandler final : public http::RequestHandler {
 public:
  explicit ProxyHandler(std::shared_ptr<const pipeline::SnapshotStore> store) : store_(std::move(store)) {}

  asio::awaitable<bool> handle(http::Exchange& exchange) override {
    std::shared_ptr<const pipeline::Snapshot> snapshot = store_->current();
    RequestMessage& message = exchange.parser.get();
    bool trusted = snapshot->settings.proxy.trust_forwarded_headers;
    if (!trusted) http::remove_forwarded(message);
    ClientFraming framing = take_framing(message);

    pipeline::Request request;
    if (!build_request(exchange, message, trusted, request)) {
      co_return co_await http::write_simple_response(
          exchange, 400, "application/json",
          R"({"error":{"code":400,"status":"Bad Request","message":"The request path is not valid"}})", {}, false);
    }

    pipeline::Decision decision = co_await pipeline::decide(*snapshot, request);
    if (!decision.allowed) co_return co_await write_error(exchange, decision.response, framing);

    if (!decision.rule->upstream) {
      pipeline::Error error = pipeline::internal_error(
          "Unable to forward the request because matched rule does not define an upstream URL");
      pipeline::ErrorResponse response = pipeline::render_without_rule(*snapshot, request, error);
      co_return co_await write_error(exchange, response, framing);
    }

    rewrite_for_upstream(message, request, decision, *decision.rule->upstream, framing, exchange, trusted);
    co_return co_await forward(exchange, *decision.rule->upstream, framing, message.method() == bhttp::verb::head);
  }

 private:
  static bool build_request(const http::Exchange& exchange, const RequestMessage& message, bool trusted,
                            pipeline::Request& request) {
    http::Target target = http::split_target(message.target());
    if (target.path.empty() || target.path.front() != '/') return false;
    std::optional<std::string> decoded = http::percent_decode(target.path);
    if (!decoded) return false;

    request.method = std::string(message.method_string());
    request.scheme = client_scheme(message, trusted);
    request.host = first_value(message, "Host");
    request.path = http::normalize_path(*decoded);
    request.raw_query = std::string(target.query);
    request.headers = &message.base();
    request.remote_address = exchange.remote_address;
    return true;
  }

  static void rewrite_for_upstream(RequestMessage& message, const pipeline::Request& request,
                                   const pipeline::Decision& decision, const pipeline::Upstream& upstream,
                                   const ClientFraming& framing, const http::Exchange& exchange, bool trusted) {
    std::string target = http::encode_path(pipeline::upstream_path(upstream, request.path));
    if (!request.raw_query.empty()) target += "?" + request.raw_query;
    message.target(target);
    message.version(11);

    // A header that a mutator sets replaces every copy the client sent, including spellings
    // with '_' for '-' (X_User for X-User): CGI and WSGI servers map both to one variable.
    const auto& mutated = decision.session.header;
    if (!mutated.empty()) {
      for (auto field = message.begin(); field != message.end();) {
        const bool shadowed = std::any_of(mutated.begin(), mutated.end(), [&](const auto& entry) {
          return http::same_name_modulo_underscores(field->name_string(), entry.first);
        });
        field = shadowed ? message.erase(field) : std::next(field);
      }
    }
    for (const auto& [name, value] : mutated) message.set(name, value);

    std::string forwarded_for = trusted ? first_value(message, "X-Forwarded-For") : std::string();
    if (!exchange.remote_address.empty()) {
      forwarded_for = forwarded_for.empty() ? exchange.remote_address
                                            : forwarded_for + ", " + exchange.remote_address;
    }
    if (!forwarded_for.empty()) message.set("X-Forwarded-For", forwarded_for);
    if (!trusted || message.find("X-Forwarded-Proto") == message.end()) {
      message.set("X-Forwarded-Proto", request.scheme);
    }
    if ((!trusted || message.find("X-Forwarded-Host") == message.end()) && !request.host.empty()) {
      message.set("X-Forwarded-Host", request.host);
    }

    if (!upstream.preserve_host) message.set(bhttp::field::host, upstream.authority);
    if (framing.chunked) message.chunked(true);
    if (!framing.upgrade.empty()) {
      message.set(bhttp::field::connection, "Upgrade");
      message.set(bhttp::field::upgrade, framing.upgrade);
    }
  }

  static asio::awaitable<bool> write_error(http::Exchange& exchange, const pipeline::ErrorResponse& response,
                                           const ClientFraming& framing) {
    // The request body was never read, so the connection cannot carry another request
    // unless there was none.
    bool keep_alive = framing.keep_alive && exchange.parser.is_done();
    co_return co_await http::write_simple_response(exchange, static_cast<unsigned>(response.status),
                                                   response.content_type, response.body, response.headers,
                                                   keep_alive);
  }

  static asio::awaitable<void> send_continue(http::Exchange& exchange) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    boost::system::error_code ec;
    exchange.watchdog.expires_after(exchange.options.write_timeout);
    co_await asio::async_write(exchange.stream, asio::buffer(kContinue.data(), kContinue.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<bool> forward(http::Exchange& exchange, const pipeline::Upstream& upstream,
                                const ClientFraming& framing, bool head_request) {
    const http::ListenerOptions& options = exchange.options;
    if (framing.expect_continue && !exchange.parser.is_done()) co_await send_continue(exchange);

    // A pooled connection that the upstream closed while it sat idle fails on first use.
    // A request without a body can be sent again on a fresh connection, once.
    const bool resendable = exchange.parser.is_done();
    std::unique_ptr<http::UpstreamConnection> connection;
    std::optional<bhttp::response_parser<bhttp::buffer_body>> response_parser;
    boost::system::error_code ec;
    for (int attempt = 0;; ++attempt) {
      http::ConnectError connect_error = http::ConnectError::none;
      std::string connect_failure;
      connection = co_await http::acquire_upstream(upstream.pool_key, upstream.host, upstream.port, upstream.tls,
                                                   options.read_timeout, connect_error, connect_failure);
      if (!connection) {
        spdlog::warn("upstream {}://{}:{}: {}", upstream.scheme, upstream.host, upstream.port, connect_failure);
        co_return co_await empty_response(exchange, connect_error == http::ConnectError::timed_out ? 504 : 502);
      }
      const bool may_retry = resendable && connection->reused && attempt == 0;

      bool read_failed = false;
      co_await send_request(exchange, *connection, ec, read_failed);
      if (ec && read_failed) co_return co_await body_read_failed(exchange, ec);
      if (ec && may_retry && ec != beast::error::timeout) continue;
      if (ec) {
        spdlog::warn("upstream {}: sending the request failed: {}", connection->key, ec.message());
        co_return co_await empty_response(exchange, ec == beast::error::timeout ? 504 : 502);
      }

      // Interim responses (100 Continue, 103 Early Hints) are dropped: the proxy handles Expect
      // itself and the client waits for the final response. 101 is final.
      for (int interim = 0; interim < kMaxInterimResponses; ++interim) {
        response_parser.emplace();
        response_parser->body_limit(boost::none);
        response_parser->header_limit(64 * 1024);
        if (head_request) response_parser->skip(true);
        connection->watchdog->expires_after(options.write_timeout);
        if (connection->tls) {
          co_await bhttp::async_read_header(*connection->tls, connection->buffer, *response_parser,
                                            asio::redirect_error(asio::use_awaitable, ec));
        } else {
          co_await bhttp::async_read_header(*connection->plain, connection->buffer, *response_parser,
                                            asio::redirect_error(asio::use_awaitable, ec));
        }
        ec = connection->watchdog->timed_out(ec);
        unsigned status = response_parser->get().result_int();
        if (ec || status < 100 || status >= 200 || status == 101) break;
      }
      if (!ec && response_parser->get().result_int() / 100 == 1 &&
          response_parser->get().result() != bhttp::status::switching_protocols) {
        spdlog::warn("upstream {}: more than {} interim responses", connection->key, kMaxInterimResponses);
        co_return co_await empty_response(exchange, 502);
      }
      bool closed_before_response = ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                                    ec == asio::error::connection_reset;
      if (ec && may_retry && closed_before_response) continue;
      if (ec) {
        spdlog::warn("upstream {}: reading the response failed: {}", connection->key, ec.message());
        co_return co_await empty_response(exchange, ec == beast::error::timeout ? 504 : 502);
      }
      break;
    }

    auto& response = response_parser->get();
    if (response.result() == bhttp::status::switching_protocols) {
      if (!framing.upgrade.empty()) {
        co_await tunnel(exchange, *connection, *response_parser);
        co_return false;
      }
      // The upstream changed protocols although the client never asked: what follows on that
      // connection is not HTTP, so it is closed rather than pooled.
      spdlog::warn("upstream {}: switched protocols without an upgrade request", connection->key);
      co_return co_await empty_response(exchange, 502);
    }

    bool upstream_keep_alive = response.keep_alive();
    bool chunked = response.chunked();
    bool has_length = response.has_content_length();
    http::remove_hop_by_hop(response);
    bool client_keep_alive = framing.keep_alive && framing.version >= 11;
    if (chunked) {
      response.chunked(true);
    } else if (!has_length && !response_parser->is_done()) {
      // A body delimited by closing the connection: re-frame it as chunked for HTTP/1.1.
      if (framing.version >= 11) {
        response.chunked(true);
      } else {
        client_keep_alive = false;
      }
    }
    response.keep_alive(client_keep_alive);

    // A response without a body (to HEAD, 204, 304) goes out as its head alone, chunked or not:
    // Beast's serializer would add a last chunk that the client takes for the next response.
    // RFC 9112 section 6.1 forbids Transfer-Encoding on 204.
    if (response_parser->is_done() && response.result() == bhttp::status::no_content) {
      response.erase(bhttp::field::transfer_encoding);
    }
    if (!chunked || response_parser->is_done()) {
      std::optional<size_t> whole = body_at_hand(*response_parser, connection->buffer);
      if (whole) {
        co_return co_await write_whole_response(exchange, response.base(), std::move(connection), *whole,
                                                upstream_keep_alive, client_keep_alive);
      }
    }

    bool response_read_failed = false;
    bhttp::response_serializer<bhttp::buffer_body> response_serializer(response);
    if (connection->tls) {
      co_await http::relay_message<false>(*connection->tls, *connection->watchdog, connection->buffer, *response_parser,
                                          exchange.stream, exchange.watchdog,
                                          response_serializer, connection->relay_chunk(), options.idle_timeout,
                                          options.write_timeout, ec, response_read_failed);
    } else {
      co_await http::relay_message<false>(*connection->plain, *connection->watchdog, connection->buffer,
                                          *response_parser, exchange.stream, exchange.watchdog,
                                          response_serializer, connection->relay_chunk(), options.idle_timeout,
                                          options.write_timeout, ec, response_read_failed);
    }
    if (ec) co_return false;

    if (upstream_keep_alive && response_parser->is_done()) http::release_upstream(std::move(connection));
    co_return client_keep_alive;
  }

  // Sends the client's request to the upstream: one write of the head when there is no body,
  // else the head and the body streamed from the client. `read_failed` is set when reading from
  // the client failed, as opposed to writing to the upstream.
  static asio::awaitable<void> send_request(http::Exchange& exchange, http::UpstreamConnection& connection,
                                            boost::system::error_code& ec, bool& read_failed) {
    const http::ListenerOptions& options = exchange.options;
    auto& message = exchange.parser.get();
    read_failed = false;
    if (exchange.parser.is_done() && !message.chunked()) {
      co_await send_head(connection, message.base(), options.write_timeout, ec);
      co_return;
    }

    bhttp::request_serializer<bhttp::buffer_body> serializer(message);
    if (connection.tls) {
      co_await http::relay_message<true>(exchange.stream, exchange.watchdog, exchange.buffer, exchange.parser,
                                         *connection.tls, *connection.watchdog, serializer,
                                         connection.relay_chunk(), options.read_timeout, options.write_timeout, ec,
                                         read_failed);
    } else {
      co_await http::relay_message<true>(exchange.stream, exchange.watchdog, exchange.buffer, exchange.parser,
                                         *connection.plain, *connection.watchdog,
                                         serializer, connection.relay_chunk(), options.read_timeout,
                                         options.write_timeout, ec, read_failed);
    }
  }

  // Writes the head of a request without a body to the upstream in one write.
  static asio::awaitable<void> send_head(http::UpstreamConnection& connection,
                                         const bhttp::request_header<>& header, Duration timeout,
                                         boost::system::error_code& ec) {
    connection.head.clear();
    http::append_head(header, connection.head);
    if (!connection.tls) {
      const asio::const_buffer piece = asio::buffer(connection.head);
      const std::span<const asio::const_buffer> pieces(&piece, 1);
      co_await http::write_all(*connection.plain, *connection.watchdog, timeout, pieces, ec);
      co_return;
    }
    connection.watchdog->expires_after(timeout);
    co_await asio::async_write(*connection.tls, asio::buffer(connection.head),
                               asio::redirect_error(asio::use_awaitable, ec));
    ec = connection.watchdog->timed_out(ec);
  }

  // Returns the size of the response body when none of it remains to be read: 0 when the
  // parser is done after the head (HEAD, 204, 304, Content-Length: 0), the Content-Length when
  // the buffer already contains that many bytes. Otherwise the body must be streamed: nullopt.
  static std::optional<size_t> body_at_hand(const bhttp::response_parser<bhttp::buffer_body>& parser,
                                            const beast::flat_buffer& buffer) {
    if (parser.is_done()) return 0;
    const auto declared = parser.content_length();
    if (!declared || *declared > buffer.size()) return std::nullopt;
    return static_cast<size_t>(*declared);
  }

  // Writes the response head and the first `body_size` bytes of the connection's buffer to
  // the client in one write, then returns the connection to the pool when the upstream keeps
  // it open and nothing beyond this response arrived.
  static asio::awaitable<bool> write_whole_response(http::Exchange& exchange, const bhttp::response_header<>& response,
                                                    std::unique_ptr<http::UpstreamConnection> connection,
                                                    size_t body_size, bool upstream_keep_alive,
                                                    bool client_keep_alive) {
    connection->head.clear();
    http::append_head(response, connection->head);
    const std::array<asio::const_buffer, 2> pieces{asio::buffer(connection->head),
                                                   asio::buffer(connection->buffer.data().data(), body_size)};
    const std::span<const asio::const_buffer> whole(pieces);
    boost::system::error_code ec;
    co_await http::write_all(exchange.stream, exchange.watchdog, exchange.options.write_timeout, whole, ec);
    if (ec) co_return false;

    connection->buffer.consume(body_size);
    if (upstream_keep_alive && connection->buffer.size() == 0) http::release_upstream(std::move(connection));
    co_return client_keep_alive;
  }

  // Ends an exchange whose request body could not be read. A body that breaks HTTP framing (a
  // malformed chunk) gets 400, as a malformed head does. A client that went away or timed out
  // gets no response. Either way the caller closes the upstream connection, because it already
  // carries part of the request.
  static asio::awaitable<bool> body_read_failed(http::Exchange& exchange, const boost::system::error_code& ec) {
    const bool malformed = ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category() &&
                           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
    if (!malformed) co_return false;

    spdlog::debug("{} listener: rejected a request body from {}: {}", exchange.options.name, exchange.remote_address,
                  ec.message());
    co_return co_await http::write_simple_response(
        exchange, 400, "application/json",
        R"({"error":{"code":400,"status":"Bad Request","message":"The request body is not valid HTTP/1.1"}})", {},
        false);
  }

  static asio::awaitable<bool> empty_response(http::Exchange& exchange, unsigned status) {
    co_return co_await http::write_simple_response(exchange, status, {}, {}, {}, false);
  }

  // Passes the 101 response to the client, then copies bytes both ways until either side
  // closes (WebSocket and other upgraded protocols).
  static asio::awaitable<void> tunnel(http::Exchange& exchange, http::UpstreamConnection& connection,
                                      bhttp::response_parser<bhttp::buffer_body>& parser) {
    boost::system::error_code ec;
    auto& response = parser.get();
    response.body().data = nullptr;
    response.body().size = 0;
    response.body().more = false;
    bhttp::response_serializer<bhttp::buffer_body> serializer(response);
    exchange.watchdog.expires_after(exchange.options.write_timeout);
    co_await bhttp::async_write_header(exchange.stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;

    exchange.watchdog.expires_never();
    connection.watchdog->expires_never();
    if (connection.tls) {
      co_await splice(exchange, *connection.tls, connection.buffer);
    } else {
      co_await splice(exchange, *connection.plain, connection.buffer);
    }
  }

  // Copies bytes both ways between the client and an upstream stream until either side closes.
  template <typename UpstreamStream>
  static asio::awaitable<void> splice(http::Exchange& exchange, UpstreamStream& upstream,
                                      beast::flat_buffer& upstream_buffer) {
    co_await (pump(exchange.stream, exchange.buffer, upstream) || pump(upstream, upstream_buffer, exchange.stream));
  }

  template <typename FromStream, typename ToStream>
  static asio::awaitable<void> pump(FromStream& from, beast::flat_buffer& pending, ToStream& to) {
    boost::system::error_code ec;
    if (pending.size() > 0) {
      co_await asio::async_write(to, pending.data(), asio::redirect_error(asio::use_awaitable, ec));
      pending.consume(pending.size());
      if (ec) co_return;
    }
    std::array<char, 16 * 1024> chunk{};
    for (;;) {
      size_t read = co_await from.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      co_await asio::async_write(to, asio::buffer(chunk.data(), read), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
  }

  std::shared_ptr<const pipeline::SnapshotStore> store_;
};

}  // namespace

std::shared_ptr<http::RequestHandler> make_proxy_handler(std::shared_ptr<const pipeline::SnapshotStore> store) {
  return std::make_shared<ProxyHandler>(std::move(store));
}

}  // namespace gh::proxy
