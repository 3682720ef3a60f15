#include "pipeline/authn/session_store.h"

#include <atomic>
#include <chrono>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/client.h"
#include "http/headers.h"
#include "http/url.h"
#include "pipeline/config_values.h"
#include "pipeline/remote_call.h"
#include "pipeline/token_from.h"

namespace gh::pipeline::authn {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr std::string_view kSessionStore = "session store";

enum class Credential { cookie, bearer_token };

struct SessionStoreSettings {
  Credential credential = Credential::cookie;
  std::string check_origin;  // scheme://authority of check_session_url
  std::string check_path;    // encoded path of check_session_url
  std::optional<std::string> check_query;  // encoded query of check_session_url, if it has one
  bool preserve_query = true;
  bool preserve_path = false;
  bool preserve_host = false;
  std::string force_method;
  std::vector<std::string> forward_headers;  // canonical names
  http::HeaderList additional_headers;
  std::vector<std::string> only;  // cookie_session: cookie names that make it responsible
  TokenLocation token_from;       // bearer_token
  std::string prefix;             // bearer_token
  bool rfc7662 = false;           // bearer_token: send the token in a form body
  std::string token_parameter = "token";
  text::GjsonPath subject_from;
  text::GjsonPath extra_from;
};

bool has_any_cookie(const Request& request) {
  auto cookie = request.headers->find(boost::beast::http::field::cookie);
  return cookie != request.headers->end() && !cookie->value().empty();
}

bool has_listed_cookie(const Request& request, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (http::find_cookie(*request.headers, name, nullptr)) return true;
  }
  return false;
}

// True when `document` is an introspection response whose token may be used now.
Expected<void, Error> check_active(const json::value& document) {
  const json::object* object = document.if_object();
  if (object == nullptr) return Unexpected(unauthorized("the introspection response is not a JSON object"));
  const json::value* active = object->if_contains("active");
  if (active == nullptr || !active->is_bool()) {
    return Unexpected(unauthorized("the introspection response has no boolean \"active\""));
  }
  if (!active->as_bool()) return Unexpected(unauthorized("Access token is not active"));

  const json::value* exp = object->if_contains("exp");
  if (exp != nullptr && exp->is_number()) {
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (exp->to_number<double>() > 0 && exp->to_number<double>() <= now) {
      return Unexpected(unauthorized("Access token expired"));
    }
  }
  return {};
}

class SessionStore final : public Authenticator {
 public:
  explicit SessionStore(SessionStoreSettings settings) : settings_(std::move(settings)) {}

  asio::awaitable<AuthnResult> authenticate(const Request& request, Session& session) const override {
    std::string token;
    if (settings_.credential == Credential::cookie) {
      const bool responsible = settings_.only.empty() ? has_any_cookie(request)
                                                      : has_listed_cookie(request, settings_.only);
      if (!responsible) co_return AuthnResult::not_responsible();
    } else {
      token = extract_token(request, settings_.token_from);
      if (token.empty() || !token.starts_with(settings_.prefix)) co_return AuthnResult::not_responsible();
    }

    auto outcome = co_await http::fetch(check_request(request, token));
    if (!outcome) co_return AuthnResult::failed(transport_failure(kSessionStore, outcome.error()));

    if (outcome->status == 200) {
      auto identified = identify(outcome->body, session);
      if (!identified) co_return AuthnResult::failed(std::move(identified.error()));
      co_return AuthnResult::authenticated();
    }
    co_return AuthnResult::failed(status_error(*outcome));
  }

 private:
  http::ClientRequest check_request(const Request& request, const std::string& token) const {
    http::ClientRequest call;
    if (settings_.rfc7662) {
      // The endpoint URL is used as configured: its path and query identify the endpoint.
      call.method = settings_.force_method.empty() ? "POST" : settings_.force_method;
      call.url = settings_.check_origin + settings_.check_path +
                 (settings_.check_query ? "?" + *settings_.check_query : std::string());
      call.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
      call.headers.emplace_back("Accept", "application/json");
      call.body = form_encode(settings_.token_parameter) + "=" + form_encode(token);
    } else {
      call.method = settings_.force_method.empty() ? request.method : settings_.force_method;
      call.url = check_url(request);
    }
    forward_headers(request, call.headers);
    for (const auto& [name, value] : settings_.additional_headers) replace_header(call.headers, name, value);
    // Set last, so it wins over additional_headers, as in Oathkeeper.
    if (settings_.preserve_host) replace_header(call.headers, "X-Forwarded-Host", request.host);
    return call;
  }

  std::string check_url(const Request& request) const {
    std::string path = settings_.preserve_path ? settings_.check_path : http::encode_path(request.path);
    if (path.empty()) path = "/";
    std::optional<std::string> query = settings_.check_query;
    if (!settings_.preserve_query) {
      query = request.raw_query.empty() ? std::nullopt : std::optional<std::string>(request.raw_query);
    }
    return settings_.check_origin + path + (query ? "?" + *query : std::string());
  }

  void forward_headers(const Request& request, http::HeaderList& out) const {
    for (const std::string& name : settings_.forward_headers) {
      for (auto [field, end] = request.headers->equal_range(name); field != end; ++field) {
        out.emplace_back(name, std::string(field->value()));
      }
    }
  }

  Expected<void, Error> identify(const std::string& body, Session& session) const {
    boost::system::error_code error;
    json::value document = json::parse(body, error);
    if (settings_.rfc7662) {
      if (error) return Unexpected(unauthorized("the introspection response is not valid JSON"));
      if (auto active = check_active(document); !active) return active;
    } else if (error) {
      // Oathkeeper accepts a non-JSON body; every path then finds nothing.
      document = nullptr;
    }
    return extract_identity(document, settings_.subject_from, settings_.extra_from, session);
  }

  Error status_error(const http::ClientResponse& response) const {
    const int status = response.status;
    if (status == 429) return rate_limited(kSessionStore, response);
    if (status >= 500) return status_failure(kSessionStore, status);
    if (status == 400 && settings_.credential == Credential::bearer_token && !settings_.rfc7662) log_rfc7662_hint();
    return unauthorized(fmt::format("the session store returned status {}", status));
  }

  // A 400 is what an RFC 7662 endpoint returns when the token arrives as a header instead of
  // a form field. The hint is logged once per handler so a misconfigured rule cannot flood
  // the log.
  void log_rfc7662_hint() const {
    if (hinted_.exchange(true)) return;
    spdlog::warn(
        "bearer_token: the session store at {}{} returned 400. If it is an RFC 7662 introspection "
        "endpoint, set introspection.enabled: true on bearer_token, or use the oauth2_introspection "
        "authenticator",
        settings_.check_origin, settings_.check_path);
  }

  SessionStoreSettings settings_;
  mutable std::atomic<bool> hinted_{false};
};

Expected<SessionStoreSettings, std::string> read_common(const json::object& config, Credential credential) {
  SessionStoreSettings settings;
  settings.credential = credential;

  const std::string url = string_at(config, "check_session_url");
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (url.empty() || !parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
      !parsed->has_authority()) {
    return Unexpected(fmt::format("check_session_url \"{}\" must be an absolute http or https URL", url));
  }
  settings.check_origin = fmt::format("{}://{}", parsed->scheme(), std::string_view(parsed->encoded_authority()));
  settings.check_path = std::string(parsed->encoded_path());
  if (parsed->has_query()) settings.check_query = std::string(parsed->encoded_query());

  settings.preserve_query = bool_at(config, "preserve_query", true);
  settings.preserve_path = bool_at(config, "preserve_path");
  settings.preserve_host = bool_at(config, "preserve_host");
  settings.force_method = string_at(config, "force_method");
  settings.additional_headers = headers_at(config, "additional_headers");
  for (const std::string& name : strings_at(config, "forward_http_headers")) {
    settings.forward_headers.push_back(http::canonical_header_name(name));
  }

  const bool default_subject_is_sub = credential == Credential::bearer_token;
  auto subject_from = text::GjsonPath::compile(string_at(config, "subject_from", default_subject_is_sub ? "sub" : "subject"));
  if (!subject_from) return Unexpected("subject_from: " + subject_from.error());
  auto extra_from = text::GjsonPath::compile(string_at(config, "extra_from", "extra"));
  if (!extra_from) return Unexpected("extra_from: " + extra_from.error());
  settings.subject_from = std::move(*subject_from);
  settings.extra_from = std::move(*extra_from);
  return settings;
}

void add_forwarded(SessionStoreSettings& settings, std::string name) {
  for (const std::string& existing : settings.forward_headers) {
    if (existing == name) return;
  }
  settings.forward_headers.push_back(std::move(name));
}

}  // namespace

Expected<void, Error> extract_identity(const json::value& document, const text::GjsonPath& subject_from,
                                       const text::GjsonPath& extra_from, Session& session) {
  std::optional<json::value> subject = subject_from.get(document);
  if (subject && !subject->is_null() && !subject->is_string()) {
    return Unexpected(forbidden(fmt::format(
        "The configured subject_from GJSON path \"{}\" returned an error on JSON output: a {} is not a string",
        subject_from.source(), json::to_string(subject->kind()))));
  }
  std::optional<json::value> extra = extra_from.get(document);
  if (extra && !extra->is_null() && !extra->is_object()) {
    return Unexpected(forbidden(fmt::format(
        "The configured extra_from GJSON path \"{}\" returned an error on JSON output: a {} is not an object",
        extra_from.source(), json::to_string(extra->kind()))));
  }
  session.subject = subject && subject->is_string() ? std::string(subject->as_string()) : std::string();
  if (extra) {
    session.set_extra(std::move(*extra));
  } else {
    session.extra.reset();
  }
  return {};
}

Expected<std::shared_ptr<const Authenticator>, std::string> make_cookie_session(const json::object& config) {
  auto settings = read_common(config, Credential::cookie);
  if (!settings) return Unexpected(std::move(settings.error()));
  settings->only = strings_at(config, "only");
  add_forwarded(*settings, "Cookie");
  return std::shared_ptr<const Authenticator>(std::make_shared<SessionStore>(std::move(*settings)));
}

Expected<std::shared_ptr<const Authenticator>, std::string> make_bearer_token(const json::object& config) {
  auto settings = read_common(config, Credential::bearer_token);
  if (!settings) return Unexpected(std::move(settings.error()));

  auto token_from = parse_token_from(config.if_contains("token_from"));
  if (!token_from) return Unexpected(std::move(token_from.error()));
  settings->token_from = std::move(*token_from);
  settings->prefix = string_at(config, "prefix");

  if (const json::object* introspection = object_at(config, "introspection")) {
    settings->rfc7662 = bool_at(*introspection, "enabled");
    settings->token_parameter = string_at(*introspection, "token_parameter", "token");
  }
  // In RFC 7662 mode the token travels in the body, and the Authorization header is the
  // place for gatehouse's own credentials (additional_headers), so the caller's header is
  // forwarded only when listed.
  if (!settings->rfc7662) add_forwarded(*settings, "Authorization");
  return std::shared_ptr<const Authenticator>(std::make_shared<SessionStore>(std::move(*settings)));
}

}  // namespace gh::pipeline::authn
