#include "pipeline/authn/client_credentials.h"

#include <algorithm>
#include <map>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cache/ttl_cache.h"
#include "http/headers.h"
#include "http/url.h"
#include "jose/base64url.h"
#include "pipeline/config_values.h"

namespace gh::pipeline::authn {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

constexpr std::string_view kTokenEndpoint = "token endpoint";

// A token is replaced this long before it expires, at most a tenth of its lifetime, so a
// token sent to the introspection endpoint does not expire on the way.
constexpr std::chrono::seconds kRefreshMargin{30};

// How often a request waiting for another request's token fetch checks for its result.
constexpr std::chrono::milliseconds kWaitPollInterval{5};

// Cached tokens have no expiry when neither cache.ttl nor expires_in bounds them, as in
// Oathkeeper; this stands for "no expiry" in the TTL cache.
constexpr std::chrono::hours kNoExpiry{24 * 365};

// Bytes charged per cached client-credentials result; the value itself is empty.
constexpr std::size_t kTokenEntryBytes = 64;

// Go's url.QueryUnescape, which Oathkeeper applies to Basic credentials: '+' is a space.
std::optional<std::string> query_unescape(std::string_view text) {
  std::string plus_as_space(text);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  return http::percent_decode(plus_as_space);
}

struct BasicCredentials {
  std::string username;
  std::string password;
};

// Returns nullopt without an `Authorization: Basic` header, and an error string when the
// header is there but cannot be decoded.
std::optional<Expected<BasicCredentials, std::string>> basic_credentials(const Request& request) {
  auto header = request.headers->find(boost::beast::http::field::authorization);
  if (header == request.headers->end()) return std::nullopt;
  std::string_view value = header->value();
  const size_t space = value.find(' ');
  if (space == std::string_view::npos || !http::iequals(value.substr(0, space), "basic")) return std::nullopt;

  auto decoded = jose::base64_decode(value.substr(space + 1));
  if (!decoded) return Unexpected(std::string("the Basic credentials are not valid base64"));
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;

  auto username = query_unescape(std::string_view(*decoded).substr(0, colon));
  auto password = query_unescape(std::string_view(*decoded).substr(colon + 1));
  if (!username || !password) return Unexpected(std::string("the Basic credentials contain an invalid escape"));
  return BasicCredentials{std::move(*username), std::move(*password)};
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string joined;
  for (const std::string& scope : scopes) {
    if (!joined.empty()) joined += ' ';
    joined += scope;
  }
  return joined;
}

std::chrono::steady_clock::time_point refresh_time(const GrantedToken& token) {
  if (!token.expires_in) return SteadyClock::time_point::max();
  const auto margin = std::min<std::chrono::seconds>(kRefreshMargin, *token.expires_in / 10);
  return SteadyClock::now() + *token.expires_in - margin;
}

// The error for the client when gatehouse's own token request fails.
Error own_grant_failure(const Expected<http::ClientResponse, http::ClientError>& outcome) {
  if (!outcome) return transport_failure(kTokenEndpoint, outcome.error());
  if (outcome->status == 429) return rate_limited(kTokenEndpoint, *outcome);
  if (outcome->status / 100 != 2) return status_failure(kTokenEndpoint, outcome->status);
  return Error{502, "The token endpoint returned an unexpected response",
               "the token response has no access_token", {}, {}};
}

// Resets the in-flight flag of a token source even if the fetch throws.
struct FetchingGuard {
  std::mutex& mutex;
  bool& fetching;
  ~FetchingGuard() {
    std::lock_guard lock(mutex);
    fetching = false;
  }
};

}  // namespace

asio::awaitable<Expected<http::ClientResponse, http::ClientError>> send_grant(const GrantRequest& request) {
  http::ClientRequest call;
  call.method = "POST";
  call.url = request.token_url;
  call.headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
      {"Authorization",
       "Basic " + jose::base64_encode(form_encode(request.client_id) + ":" + form_encode(request.client_secret))},
  };
  call.body = "grant_type=client_credentials";
  if (!request.scopes.empty()) call.body += "&scope=" + form_encode(join_scopes(request.scopes));
  if (!request.audience.empty()) call.body += "&audience=" + form_encode(request.audience);
  co_return co_await fetch_with_retry(std::move(call), request.retry);
}

std::optional<GrantedToken> parse_token_response(std::string_view body) {
  boost::system::error_code error;
  json::value document = json::parse(body, error);
  if (error || !document.is_object()) return std::nullopt;
  const json::object& object = document.as_object();

  const json::value* access_token = object.if_contains("access_token");
  if (access_token == nullptr || !access_token->is_string() || access_token->as_string().empty()) {
    return std::nullopt;
  }
  GrantedToken token{std::string(access_token->as_string()), std::nullopt};
  if (const json::value* expires_in = object.if_contains("expires_in"); expires_in != nullptr) {
    if (auto seconds = expires_in->if_int64(); seconds != nullptr && *seconds > 0) {
      token.expires_in = std::chrono::seconds(*seconds);
    } else if (expires_in->is_double() && expires_in->as_double() > 0) {
      token.expires_in = std::chrono::seconds(static_cast<long long>(expires_in->as_double()));
    }
  }
  return token;
}

asio::awaitable<Expected<std::string, Error>> ClientTokenSource::token() {
  // A waiter gives up a little after the fetcher's own deadline would have passed.
  const auto wait_deadline = SteadyClock::now() + request_.retry.give_up_after + std::chrono::seconds(1);
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (!token_.empty() && SteadyClock::now() < refresh_at_) co_return token_;
      if (!fetching_) {
        fetching_ = true;
        break;
      }
    }
    if (SteadyClock::now() >= wait_deadline) {
      co_return Unexpected(Error{504, "The token endpoint timed out",
                                 "timed out waiting for another request's token fetch", {}, {}});
    }
    asio::steady_timer timer(co_await asio::this_coro::executor, kWaitPollInterval);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }

  FetchingGuard guard{mutex_, fetching_};
  auto outcome = co_await send_grant(request_);
  std::optional<GrantedToken> granted;
  if (outcome && outcome->status / 100 == 2) granted = parse_token_response(outcome->body);
  if (!granted) {
    Error error = own_grant_failure(outcome);
    spdlog::warn("client credentials grant at {} for client \"{}\" failed: {}", request_.token_url,
                 request_.client_id, error.reason);
    co_return Unexpected(std::move(error));
  }

  std::lock_guard lock(mutex_);
  token_ = granted->access_token;
  refresh_at_ = refresh_time(*granted);
  co_return token_;
}

void ClientTokenSource::invalidate(const std::string& token) {
  std::lock_guard lock(mutex_);
  if (token_ == token) token_.clear();
}

std::shared_ptr<ClientTokenSource> shared_token_source(const GrantRequest& request) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<ClientTokenSource>> sources;

  // The key holds a digest of the secret, never the secret.
  const std::string key = fmt::format(
      "{}\n{}\n{}\n{}\n{}\n{}/{}", request.token_url, request.client_id, sha256(request.client_secret),
      join_scopes(request.scopes), request.audience, request.retry.give_up_after.count(),
      request.retry.max_delay.count());

  std::lock_guard lock(mutex);
  std::erase_if(sources, [](const auto& entry) { return entry.second.expired(); });
  if (auto existing = sources[key].lock()) return existing;
  auto created = std::make_shared<ClientTokenSource>(request);
  sources[key] = created;
  return created;
}

// ---- the oauth2_client_credentials authenticator ----------------------------------------------

namespace {

struct CredentialsSettings {
  std::string token_url;
  std::vector<std::string> required_scope;
  RetryPolicy retry;
  std::optional<Duration> cache_ttl;
};

// Oathkeeper's mapping of a failed grant for the client's own credentials: the endpoint's
// 4xx verdict means the credentials are invalid (401), while its outages pass through.
Error grant_failure(const Expected<http::ClientResponse, http::ClientError>& outcome) {
  if (!outcome) {
    if (outcome.error().kind == http::ClientErrorKind::timed_out) {
      return Error{504, "The upstream service is timing out", outcome.error().message, {}, {}};
    }
    return Error{503, "The upstream service is not available", outcome.error().message, {}, {}};
  }
  const int status = outcome->status;
  std::string reason = fmt::format("the token endpoint returned status {}", status);
  switch (status) {
    case 429: return rate_limited(kTokenEndpoint, *outcome);
    case 503: return Error{503, "The upstream service is not available", std::move(reason), {}, {}};
    case 500: return Error{500, "The upstream service encountered an unexpected error", std::move(reason), {}, {}};
    case 504: return Error{504, "The upstream service is timing out", std::move(reason), {}, {}};
    case 404: return not_found("Upstream service not found", std::move(reason));
    default: break;
  }
  if (status / 100 == 2) return unauthorized("the token endpoint issued no access_token");
  return unauthorized(std::move(reason));
}

class ClientCredentials final : public Authenticator {
 public:
  ClientCredentials(CredentialsSettings settings, std::size_t max_tokens)
      : settings_(std::move(settings)),
        cache_({.max_entries = max_tokens, .max_bytes = max_tokens * (kTokenEntryBytes + cache::kEntryOverheadBytes + 64)}) {}

  asio::awaitable<AuthnResult> authenticate(const Request& request, Session& session) const override {
    auto credentials = basic_credentials(request);
    if (!credentials) co_return AuthnResult::not_responsible();
    if (!*credentials) co_return AuthnResult::failed(unauthorized(credentials->error()));

    const std::string key = cache_key(**credentials);
    if (cache_.get(key)) {
      accept(**credentials, session);
      co_return AuthnResult::authenticated();
    }

    GrantRequest grant{settings_.token_url, (*credentials)->username, (*credentials)->password,
                       settings_.required_scope, {}, settings_.retry};
    auto outcome = co_await send_grant(grant);
    std::optional<GrantedToken> granted;
    if (outcome && outcome->status / 100 == 2) granted = parse_token_response(outcome->body);
    if (!granted) co_return AuthnResult::failed(grant_failure(outcome));

    cache_.put(key, true, kTokenEntryBytes, entry_ttl(*granted));
    accept(**credentials, session);
    co_return AuthnResult::authenticated();
  }

 private:
  static void accept(const BasicCredentials& credentials, Session& session) {
    session.subject = credentials.username;
    session.extra = nullptr;
  }

  // A digest of everything that decides the grant; the secret never appears in the key.
  std::string cache_key(const BasicCredentials& credentials) const {
    return sha256(fmt::format("{}\n{}\n{}\n{}", settings_.token_url, join_scopes(settings_.required_scope),
                              credentials.username, credentials.password));
  }

  std::chrono::nanoseconds entry_ttl(const GrantedToken& token) const {
    std::chrono::nanoseconds ttl = settings_.cache_ttl.value_or(kNoExpiry);
    if (token.expires_in) ttl = std::min<std::chrono::nanoseconds>(ttl, *token.expires_in);
    return ttl;
  }

  CredentialsSettings settings_;
  mutable cache::TtlCache<bool> cache_;
};

}  // namespace

Expected<std::shared_ptr<const Authenticator>, std::string> make_client_credentials(const json::object& config) {
  CredentialsSettings settings;
  settings.token_url = string_at(config, "token_url");
  if (settings.token_url.empty()) return Unexpected(std::string("token_url is required"));
  settings.required_scope = strings_at(config, "required_scope");
  settings.retry = retry_policy_at(config);

  std::size_t max_tokens = 0;  // zero: the cache is disabled and allocates nothing
  if (const json::object* cache = object_at(config, "cache"); cache != nullptr && bool_at(*cache, "enabled")) {
    max_tokens = static_cast<std::size_t>(std::max<long long>(0, int_at(*cache, "max_tokens").value_or(1000)));
    settings.cache_ttl = duration_at(*cache, "ttl");
  }
  return std::shared_ptr<const Authenticator>(std::make_shared<ClientCredentials>(std::move(settings), max_tokens));
}

}  // namespace gh::pipeline::authn
