#include "api/api.h"

#include <array>
#include <charconv>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <fmt/format.h>

#include "common/version.h"
#include "http/headers.h"
#include "http/url.h"
#include "pipeline/errors/handlers.h"
#include "pipeline/runner.h"

namespace gh::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using RequestMessage = bhttp::request<bhttp::buffer_body>;

constexpr std::string_view kJson = "application/json; charset=utf-8";
// Named constants rather than literals inside co_await expressions: GCC 12 fails to copy a
// string literal into a coroutine frame ("array used as initializer").
constexpr std::string_view kStatusOk = R"({"status":"ok"})";
constexpr size_t kMaxDiscardedBody = 1024 * 1024;  // bytes of request body the API reads and drops

std::string error_json(int status, std::string_view message) {
  pipeline::Error error{status, std::string(message), {}, {}, {}};
  return pipeline::errors::json_error_body(nullptr, error, true);
}

// Reads and drops the request body so the connection can carry the next request. Returns
// false when the body is larger than the API accepts or cannot be read.
asio::awaitable<bool> discard_body(http::Exchange& exchange) {
  auto& parser = exchange.parser;
  std::array<char, 8192> chunk{};
  size_t total = 0;
  boost::system::error_code ec;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    exchange.watchdog.expires_after(exchange.options.read_timeout);
    co_await bhttp::async_read_some(exchange.stream, exchange.buffer, parser,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) co_return false;
    total += chunk.size() - parser.get().body().size;
    if (total > kMaxDiscardedBody) co_return false;
  }
  co_return true;
}

std::string version_json() { return boost::json::serialize(boost::json::object{{"version", kVersion}}); }

std::optional<int64_t> query_integer(std::string_view query, std::string_view name) {
  std::optional<std::string> text = http::query_value(query, name);
  if (!text || text->empty()) return std::nullopt;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

class ApiHandler final : public http::RequestHandler {
 public:
  explicit ApiHandler(std::shared_ptr<const pipeline::SnapshotStore> store) : store_(std::move(store)) {}

  asio::awaitable<bool> handle(http::Exchange& exchange) override {
    if (!co_await discard_body(exchange)) {
      co_return co_await respond(exchange, 413, error_json(413, std::string_view("The request body is larger than the API accepts")));
    }

    RequestMessage& message = exchange.parser.get();
    http::Target target = http::split_target(message.target());
    std::string_view path = target.path;
    bool read_method = message.method() == bhttp::verb::get || message.method() == bhttp::verb::head;

    if (path == "/decisions" || path.starts_with("/decisions/")) co_return co_await decide(exchange, target);
    if (path == "/health/alive" || path == "/health/ready" || path == "/version" || path == "/rules" ||
        path.starts_with("/rules/") || path == "/.well-known/jwks.json") {
      if (!read_method) co_return co_await respond(exchange, 405, error_json(405, std::string_view("The request method is not allowed")));
    }
    if (path == "/health/alive") co_return co_await respond(exchange, 200, kStatusOk);
    if (path == "/health/ready") co_return co_await ready(exchange);
    if (path == "/version") {
      co_return co_await respond(exchange, 200, version_json());
    }
    if (path == "/rules") co_return co_await list_rules(exchange, target.query);
    if (path.starts_with("/rules/")) co_return co_await get_rule(exchange, path.substr(7));
    if (path == "/.well-known/jwks.json") {
      // NOTE: no id_token mutator exists yet, so no signing key is ever published here.
      co_return co_await respond(exchange, 500,
                                 error_json(500, std::string_view("None of the provided URLs returned a valid JSON Web Key Set.")));
    }
    co_return co_await respond(exchange, 404, error_json(404, std::string_view("The requested resource could not be found")));
  }

 private:
  static asio::awaitable<bool> respond(http::Exchange& exchange, unsigned status, std::string_view body) {
    co_return co_await http::write_simple_response(exchange, status, kJson, std::string(body), {}, true);
  }

  asio::awaitable<bool> ready(http::Exchange& exchange) {
    auto snapshot = store_->current();
    if (snapshot && !snapshot->rules.empty()) co_return co_await respond(exchange, 200, kStatusOk);
    // Oathkeeper returns 503 with a body whose code is 500; clients accept either.
    co_return co_await respond(exchange, 503, error_json(500, std::string_view("no access rules are loaded")));
  }

  asio::awaitable<bool> list_rules(http::Exchange& exchange, std::string_view query) {
    int64_t limit = query_integer(query, "limit").value_or(50);
    int64_t offset = query_integer(query, "offset").value_or(0);
    limit = std::clamp<int64_t>(limit, 0, 500);
    offset = std::max<int64_t>(offset, 0);

    auto snapshot = store_->current();
    boost::json::array rules;
    const auto& all = snapshot->matcher->rules();
    for (size_t i = static_cast<size_t>(offset); i < all.size() && rules.size() < static_cast<size_t>(limit); ++i) {
      rules.push_back(rules::to_json(all[i]));
    }
    co_return co_await respond(exchange, 200, boost::json::serialize(rules));
  }

  asio::awaitable<bool> get_rule(http::Exchange& exchange, std::string_view encoded_id) {
    std::optional<std::string> id = http::percent_decode(encoded_id);
    auto snapshot = store_->current();
    if (id) {
      for (const rules::Rule& rule : snapshot->matcher->rules()) {
        if (rule.id == *id) co_return co_await respond(exchange, 200, boost::json::serialize(rules::to_json(rule)));
      }
    }
    co_return co_await respond(exchange, 404, error_json(404, std::string_view("Unable to find rule")));
  }

  // The decision API: the request to decide is described by X-Forwarded-Method, -Proto,
  // -Host and -Uri, each falling back to this request's own value.
  asio::awaitable<bool> decide(http::Exchange& exchange, const http::Target& target) {
    auto snapshot = store_->current();
    RequestMessage& message = exchange.parser.get();

    // With two copies, the rule would be matched against one while nginx or another front
    // proxy could act on the other.
    for (std::string_view name : kForwardedHeaders) {
      if (message.count(name) > 1) {
        std::string body = error_json(400, fmt::format("more than one {} header", name));
        co_return co_await respond(exchange, 400, std::move(body));
      }
    }

    pipeline::Request request;
    request.method = header_or(message, "X-Forwarded-Method", std::string(message.method_string()));
    request.scheme = header_or(message, "X-Forwarded-Proto", "http");
    request.host = header_or(message, "X-Forwarded-Host", header_or(message, "Host", ""));
    // The scheme and host become part of the string rules match, so they must not carry a
    // path or anything else that could make a request match another rule.
    if (http::iequals(request.scheme, "https") || http::iequals(request.scheme, "http")) {
      for (char& c : request.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      co_return co_await respond(exchange, 400, error_json(400, std::string_view("X-Forwarded-Proto must be http or https")));
    }
    if (!http::is_valid_host(request.host)) {
      co_return co_await respond(exchange, 400, error_json(400, std::string_view("X-Forwarded-Host must be host[:port]")));
    }
    if (!http::is_token(request.method)) {
      co_return co_await respond(exchange, 400, error_json(400, std::string_view("X-Forwarded-Method is not a valid method")));
    }
    std::string raw_path;
    if (auto uri = message.find("X-Forwarded-Uri"); uri != message.end() && !uri->value().empty()) {
      raw_path = std::string(http::split_target(uri->value()).path);
    } else {
      raw_path = std::string(target.path.substr(std::string_view("/decisions").size()));
    }
    std::optional<std::string> decoded = http::percent_decode(raw_path);
    if (!decoded || (!decoded->empty() && decoded->front() != '/')) {
      co_return co_await respond(exchange, 400, error_json(400, std::string_view("The forwarded request path is not valid")));
    }
    request.path = http::normalize_path(*decoded);
    request.raw_query = std::string(target.query);
    request.headers = &message.base();
    request.remote_address = exchange.remote_address;

    pipeline::Decision decision = co_await pipeline::decide(*snapshot, request);
    if (!decision.allowed) {
      const auto& response = decision.response;
      co_return co_await http::write_simple_response(exchange, static_cast<unsigned>(response.status),
                                                     response.content_type, response.body, response.headers, true);
    }

    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [name, value] : decision.session.header) {
      if (http::iequals(name, "Content-Length")) continue;
      headers.emplace_back(name, value);
    }
    co_return co_await http::write_simple_response(exchange, 200, {}, {}, headers, true);
  }

  static constexpr std::array<std::string_view, 4> kForwardedHeaders = {
      "X-Forwarded-Method", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Uri"};

  static std::string header_or(const RequestMessage& message, std::string_view name, std::string fallback) {
    auto found = message.find(name);
    if (found == message.end() || found->value().empty()) return fallback;
    return std::string(found->value());
  }

  std::shared_ptr<const pipeline::SnapshotStore> store_;
};

}  // namespace

std::shared_ptr<http::RequestHandler> make_api_handler(std::shared_ptr<const pipeline::SnapshotStore> store) {
  return std::make_shared<ApiHandler>(std::move(store));
}

}  // namespace gh::api
