#include "oauth2/endpoints.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/version.h"
#include "http/headers.h"
#include "http/url.h"

namespace gh::oauth2 {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

using RequestMessage = bhttp::request<bhttp::buffer_body>;

enum class BodyRead { ok, too_large, failed };

// Reads the whole request body into `out`, stopping once it exceeds `limit` bytes.
asio::awaitable<BodyRead> read_body(http::Exchange& exchange, std::size_t limit, std::string& out) {
  auto& parser = exchange.parser;
  if (auto length = parser.content_length(); length && *length > limit) co_return BodyRead::too_large;
  std::array<char, 8192> chunk{};
  boost::system::error_code ec;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    exchange.watchdog.expires_after(exchange.options.read_timeout);
    co_await bhttp::async_read_some(exchange.stream, exchange.buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return BodyRead::failed;
    out.append(chunk.data(), chunk.size() - parser.get().body().size);
    if (out.size() > limit) co_return BodyRead::too_large;
  }
  co_return BodyRead::ok;
}

asio::awaitable<bool> send(http::Exchange& exchange, const Response& response) {
  co_return co_await http::write_simple_response(exchange, response.status, response.content_type, response.body,
                                                 response.headers, true);
}

// Runs a blocking TokenService call on the pool and resumes on the caller's worker.
template <typename Function>
asio::awaitable<Response> run_blocking(asio::thread_pool& pool, Function function) {
  co_return co_await asio::co_spawn(
      pool,
      [function = std::move(function)]() -> asio::awaitable<Response> {
        try {
          co_return function();
        } catch (const std::exception& error) {
          spdlog::error("token service: request failed: {}", error.what());
          co_return error_response(server_error());
        }
      },
      asio::use_awaitable);
}

std::string_view trim_trailing_slash(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

std::optional<std::string> header(const RequestMessage& message, bhttp::field name) {
  auto found = message.find(name);
  if (found == message.end()) return std::nullopt;
  return std::string(found->value());
}

bool is_form_content_type(const RequestMessage& message) {
  std::string type = header(message, bhttp::field::content_type).value_or("");
  std::string_view media = std::string_view(type).substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return http::iequals(media, "application/x-www-form-urlencoded");
}

Response method_not_allowed(std::string_view allowed) {
  Response response = error_response(OAuthError{405, "invalid_request", "The request method is not allowed here.", false});
  response.headers.emplace_back("Allow", std::string(allowed));
  return response;
}

Response resource_not_found() {
  return error_response(OAuthError{404, "not_found", "The requested resource could not be found.", false});
}

Response body_too_large(std::size_t limit) {
  return error_response(OAuthError{413, "invalid_request", fmt::format("The request body is larger than {} bytes.", limit), false});
}

Response unreadable_body() { return error_response(invalid_request("The request body could not be read.")); }

// Reads a form-encoded POST body. On failure, `error` contains the response to send.
asio::awaitable<std::optional<Form>> read_form(http::Exchange& exchange, Response& error) {
  RequestMessage& message = exchange.parser.get();
  std::string body;
  BodyRead read = co_await read_body(exchange, kMaxFormBodyBytes, body);
  if (read == BodyRead::too_large) {
    error = body_too_large(kMaxFormBodyBytes);
    co_return std::nullopt;
  }
  if (read == BodyRead::failed) {
    error = unreadable_body();
    co_return std::nullopt;
  }
  if (!body.empty() && !is_form_content_type(message)) {
    error = error_response(invalid_request("The Content-Type must be application/x-www-form-urlencoded."));
    co_return std::nullopt;
  }
  std::optional<Form> form = parse_form(body);
  if (!form) error = error_response(invalid_request("The request body is not a valid form-encoded document."));
  co_return form;
}

class PublicHandler final : public http::RequestHandler {
 public:
  PublicHandler(std::shared_ptr<TokenService> service, std::shared_ptr<asio::thread_pool> pool)
      : service_(std::move(service)), pool_(std::move(pool)) {}

  asio::awaitable<bool> handle(http::Exchange& exchange) override {
    RequestMessage& message = exchange.parser.get();
    http::Target target = http::split_target(message.target());
    std::string path(trim_trailing_slash(target.path));
    bool post = message.method() == bhttp::verb::post;
    bool read = message.method() == bhttp::verb::get || message.method() == bhttp::verb::head;

    if (path == "/oauth2/token" || path == "/oauth2/revoke") {
      if (!post) co_return co_await send(exchange, method_not_allowed("POST"));
      co_return co_await form_endpoint(exchange, path == "/oauth2/token", target.query);
    }

    // GCC 12 miscompiles co_await inside a conditional expression, so each branch is a
    // plain statement.
    Response response = resource_not_found();
    TokenService& service = *service_;
    bool known = path == "/.well-known/jwks.json" || path == "/.well-known/openid-configuration" ||
                 path == "/.well-known/oauth-authorization-server" || path == "/health/alive" || path == "/health/ready";
    if (known && !read) {
      response = method_not_allowed("GET, HEAD");
    } else if (path == "/.well-known/jwks.json") {
      response = co_await run_blocking(*pool_, [&service] { return service.jwks(); });
    } else if (path == "/health/ready") {
      response = co_await run_blocking(*pool_, [&service] { return service.ready(); });
    } else if (path == "/health/alive") {
      response = json_response(200, boost::json::object{{"status", "ok"}});
    } else if (known) {
      response = service.discovery();
    }
    co_return co_await send(exchange, response);
  }

 private:
  asio::awaitable<bool> form_endpoint(http::Exchange& exchange, bool token_endpoint, std::string_view query) {
    // Credentials in a URL end up in access logs and browser history (RFC 6749 §2.3.1).
    for (std::string_view name : {"client_secret", "client_assertion"}) {
      if (http::query_value(query, name)) {
        Response rejected = error_response(invalid_request("Client credentials must be sent in the request body or the "
                                                           "Authorization header, never in the URL."));
        co_return co_await send(exchange, rejected);
      }
    }
    Response error;
    std::optional<Form> form = co_await read_form(exchange, error);
    if (!form) co_return co_await send(exchange, error);

    std::optional<std::string> authorization = header(exchange.parser.get(), bhttp::field::authorization);
    TokenService& service = *service_;
    Form fields = std::move(*form);
    Response response = co_await run_blocking(*pool_, [&service, &fields, &authorization, token_endpoint] {
      return token_endpoint ? service.token(fields, authorization) : service.revoke(fields, authorization);
    });
    co_return co_await send(exchange, response);
  }

  std::shared_ptr<TokenService> service_;
  std::shared_ptr<asio::thread_pool> pool_;
};

class AdminHandler final : public http::RequestHandler {
 public:
  AdminHandler(std::shared_ptr<TokenService> service, std::shared_ptr<asio::thread_pool> pool)
      : service_(std::move(service)), pool_(std::move(pool)) {}

  asio::awaitable<bool> handle(http::Exchange& exchange) override {
    RequestMessage& message = exchange.parser.get();
    http::Target target = http::split_target(message.target());
    std::string_view path = trim_trailing_slash(target.path);
    // Hydra serves every admin route with and without the /admin prefix.
    if (path.starts_with("/admin/")) path.remove_prefix(std::string_view("/admin").size());
    std::string route(path);
    std::string query(target.query);
    bhttp::verb method = message.method();

    if (route == "/oauth2/introspect") {
      if (method != bhttp::verb::post) co_return co_await send(exchange, method_not_allowed("POST"));
      Response error;
      std::optional<Form> form = co_await read_form(exchange, error);
      if (!form) co_return co_await send(exchange, error);
      TokenService& service = *service_;
      Form fields = std::move(*form);
      Response response = co_await run_blocking(*pool_, [&service, &fields] { return service.introspect(fields); });
      co_return co_await send(exchange, response);
    }

    std::string body;
    BodyRead read = co_await read_body(exchange, kMaxAdminBodyBytes, body);
    if (read == BodyRead::too_large) co_return co_await send(exchange, body_too_large(kMaxAdminBodyBytes));
    if (read == BodyRead::failed) co_return co_await send(exchange, unreadable_body());

    TokenService& service = *service_;
    Response response = co_await run_blocking(*pool_, [&service, &route, &query, &body, method] {
      return route_admin(service, route, query, body, method);
    });
    co_return co_await send(exchange, response);
  }

 private:
  static Response route_admin(TokenService& service, const std::string& route, const std::string& query,
                              const std::string& body, bhttp::verb method) {
    bool read = method == bhttp::verb::get || method == bhttp::verb::head;
    if (route == "/health/alive") return read ? json_response(200, boost::json::object{{"status", "ok"}}) : method_not_allowed("GET, HEAD");
    if (route == "/health/ready") return read ? service.ready() : method_not_allowed("GET, HEAD");
    if (route == "/version") return read ? json_response(200, boost::json::object{{"version", kVersion}}) : method_not_allowed("GET, HEAD");

    if (route == "/clients") {
      if (read) return service.list_clients(query);
      if (method == bhttp::verb::post) return service.create_client(body);
      return method_not_allowed("GET, HEAD, POST");
    }
    constexpr std::string_view kClientPrefix = "/clients/";
    if (route.starts_with(kClientPrefix)) {
      std::optional<std::string> id = http::percent_decode(std::string_view(route).substr(kClientPrefix.size()));
      if (!id || id->empty() || id->find('/') != std::string::npos) return resource_not_found();
      if (read) return service.get_client(*id);
      if (method == bhttp::verb::put) return service.update_client(*id, body);
      if (method == bhttp::verb::delete_) return service.delete_client(*id);
      return method_not_allowed("GET, HEAD, PUT, DELETE");
    }

    std::string key_set_route = "/keys/" + std::string(kAccessTokenKeySet);
    if (route == "/keys" || route == key_set_route) {
      if (read) return service.list_keys();
      if (method == bhttp::verb::post && route == key_set_route) return service.rotate_key(body);
      return method_not_allowed(route == "/keys" ? "GET, HEAD" : "GET, HEAD, POST");
    }
    return resource_not_found();
  }

  std::shared_ptr<TokenService> service_;
  std::shared_ptr<asio::thread_pool> pool_;
};

}  // namespace

std::shared_ptr<http::RequestHandler> make_public_handler(std::shared_ptr<TokenService> service,
                                                          std::shared_ptr<asio::thread_pool> pool) {
  return std::make_shared<PublicHandler>(std::move(service), std::move(pool));
}

std::shared_ptr<http::RequestHandler> make_admin_handler(std::shared_ptr<TokenService> service,
                                                         std::shared_ptr<asio::thread_pool> pool) {
  return std::make_shared<AdminHandler>(std::move(service), std::move(pool));
}

}  // namespace gh::oauth2
