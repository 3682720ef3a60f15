#include "pipeline/errors/handlers.h"

#include <fmt/format.h>

#include "pipeline/errors/when.h"

namespace gh::pipeline::errors {
namespace {

namespace bhttp = boost::beast::http;

// Messages shown when verbose is off; the same wording for every cause of a status.
std::string_view generic_message(int status) {
  switch (status) {
    case 400: return "The request was malformed or contained invalid parameters";
    case 401: return "The request could not be authorized";
    case 403: return "The requested action was forbidden";
    case 404: return "The requested resource could not be found";
    case 409: return "The request could not be completed due to a conflict";
    case 415: return "The request's content type is not supported";
    case 429: return "Too many requests";
    case 500: return "An internal server error occurred, please contact the system administrator";
    default: return {};
  }
}

class Json final : public ErrorHandler {
 public:
  Json(bool verbose, std::vector<Condition> when) : verbose_(verbose), when_(std::move(when)) {}

  bool responsible(const Request& request, const Error& error) const override {
    return conditions_hold(when_, request, error);
  }

  ErrorResponse render(const Request& request, const Error& error) const override {
    return ErrorResponse{error.status, error.headers, "application/json",
                         json_error_body(&request, error, verbose_)};
  }

 private:
  bool verbose_;
  std::vector<Condition> when_;
};

std::string query_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

std::string header_value(const Request& request, std::string_view name) {
  auto found = request.headers->find(name);
  return found == request.headers->end() ? std::string() : std::string(found->value());
}

// The URL the client asked for: from X-Forwarded-Proto, -Host and -Uri when present (the
// proxy removes untrusted copies before the pipeline runs), else from the request itself.
std::string original_url(const Request& request) {
  std::string proto = header_value(request, "X-Forwarded-Proto");
  std::string host = header_value(request, "X-Forwarded-Host");
  std::string uri = header_value(request, "X-Forwarded-Uri");
  if (proto.empty()) proto = request.scheme;
  if (host.empty()) host = request.host;
  if (uri.empty()) {
    uri = request.path;
    if (!request.raw_query.empty()) uri += "?" + request.raw_query;
  }
  return proto + "://" + host + uri;
}

class Redirect final : public ErrorHandler {
 public:
  Redirect(std::string to, int code, std::string return_to, std::vector<Condition> when)
      : to_(std::move(to)), code_(code), return_to_(std::move(return_to)), when_(std::move(when)) {}

  bool responsible(const Request& request, const Error& error) const override {
    return conditions_hold(when_, request, error);
  }

  ErrorResponse render(const Request& request, const Error& /*error*/) const override {
    std::string location = to_;
    if (!return_to_.empty()) {
      size_t fragment = location.find('#');
      std::string tail = fragment == std::string::npos ? "" : location.substr(fragment);
      location = location.substr(0, fragment);
      location += location.find('?') == std::string::npos ? '?' : '&';
      location += query_escape(return_to_) + "=" + query_escape(original_url(request));
      location += tail;
    }

    ErrorResponse response{code_, {{"Location", location}}, {}, {}};
    if (request.method == "GET" || request.method == "HEAD") {
      response.content_type = "text/html; charset=utf-8";
      response.body = fmt::format("<a href=\"{}\">{}</a>.\n", location, status_text(code_));
    }
    return response;
  }

 private:
  std::string to_;
  int code_;
  std::string return_to_;
  std::vector<Condition> when_;
};

class WwwAuthenticate final : public ErrorHandler {
 public:
  WwwAuthenticate(std::string realm, std::vector<Condition> when)
      : realm_(std::move(realm)), when_(std::move(when)) {}

  bool responsible(const Request& request, const Error& error) const override {
    return conditions_hold(when_, request, error);
  }

  ErrorResponse render(const Request& /*request*/, const Error& /*error*/) const override {
    return ErrorResponse{401,
                         {{"Www-Authenticate", fmt::format("Basic realm=\"{}\"", realm_)}},
                         "text/plain; charset=utf-8",
                         "Unauthorized\n"};
  }

 private:
  std::string realm_;
  std::vector<Condition> when_;
};

std::string string_or(const boost::json::object& config, std::string_view key, std::string fallback) {
  const boost::json::value* value = config.if_contains(key);
  if (value != nullptr && value->is_string()) return std::string(value->as_string());
  return fallback;
}

}  // namespace

std::string json_error_body(const Request* request, const Error& error, bool verbose) {
  boost::json::object body;
  body["code"] = error.status;
  body["status"] = status_text(error.status);
  if (request != nullptr) {
    std::string request_id = header_value(*request, "X-Request-Id");
    if (!request_id.empty() && request_id.size() <= 128 && http::is_safe_field_value(request_id)) {
      body["request"] = request_id;
    }
  }

  std::string_view generic = generic_message(error.status);
  if (verbose) {
    if (!error.reason.empty()) body["reason"] = error.reason;
    if (!error.details.empty()) body["details"] = error.details;
    body["message"] = error.message;
  } else {
    body["message"] = generic.empty() ? std::string_view(error.message) : generic;
  }
  return boost::json::serialize(boost::json::object{{"error", std::move(body)}});
}

Expected<std::shared_ptr<const ErrorHandler>, std::string> make_json(const boost::json::object& config) {
  auto when = parse_when(config);
  if (!when) return Unexpected{when.error()};
  bool verbose = false;
  if (const boost::json::value* value = config.if_contains("verbose"); value != nullptr && value->is_bool()) {
    verbose = value->as_bool();
  }
  return std::shared_ptr<const ErrorHandler>(std::make_shared<Json>(verbose, std::move(*when)));
}

Expected<std::shared_ptr<const ErrorHandler>, std::string> make_redirect(const boost::json::object& config) {
  auto when = parse_when(config);
  if (!when) return Unexpected{when.error()};
  std::string to = string_or(config, "to", "");
  if (to.empty()) return Unexpected{std::string("to: missing; expected the URL to redirect to")};
  if (!http::is_safe_field_value(to)) return Unexpected{std::string("to: contains CR, LF or NUL")};

  int code = 302;
  if (const boost::json::value* value = config.if_contains("code"); value != nullptr && value->is_int64()) {
    code = value->as_int64() == 301 ? 301 : 302;
  }
  return std::shared_ptr<const ErrorHandler>(std::make_shared<Redirect>(
      std::move(to), code, string_or(config, "return_to_query_param", ""), std::move(*when)));
}

Expected<std::shared_ptr<const ErrorHandler>, std::string> make_www_authenticate(
    const boost::json::object& config) {
  auto when = parse_when(config);
  if (!when) return Unexpected{when.error()};
  std::string realm = string_or(config, "realm", "Please authenticate.");
  if (!http::is_safe_field_value(realm) || realm.find('"') != std::string::npos) {
    return Unexpected{std::string("realm: must not contain quotes, CR, LF or NUL")};
  }
  return std::shared_ptr<const ErrorHandler>(
      std::make_shared<WwwAuthenticate>(std::move(realm), std::move(*when)));
}

}  // namespace gh::pipeline::errors
