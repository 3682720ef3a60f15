#include "pipeline/authn/jwt.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cache/ttl_cache.h"
#include "http/client.h"
#include "http/headers.h"
#include "http/url.h"
#include "jose/digest.h"
#include "jose/jws.h"
#include "jose/jwt.h"
#include "pipeline/scope.h"

namespace gh::pipeline::authn {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using SystemClock = std::chrono::system_clock;

// A token whose signature verified, with its claims (scopes already moved into `scp`).
// Immutable once cached: sessions share `claims` as their extra data.
struct VerifiedToken {
  jose::Algorithm alg;
  json::value claims;  // always an object

  const json::object& claim_set() const { return claims.get_object(); }
};
using TokenCache = cache::TtlCache<std::shared_ptr<const VerifiedToken>>;
// A verified token, or why it failed verification, worded for logs.
using TokenResult = Expected<std::shared_ptr<const VerifiedToken>, std::string>;

// The key set source and verified-token cache of one jwks_urls list, shared by every
// handler instance with that list (and the same jwks_ttl and jwks_max_wait).
struct SharedVerification {
  std::shared_ptr<jose::KeySource> keys;
  TokenCache tokens;

  SharedVerification(std::shared_ptr<jose::KeySource> source, cache::Limits limits, cache::Clock clock)
      : keys(std::move(source)), tokens(limits, std::move(clock)) {}
};

enum class TokenLocation { authorization_bearer, header, query_parameter, cookie };

struct TokenSource {
  TokenLocation location = TokenLocation::authorization_bearer;
  std::string name;
};

struct JwtSettings {
  TokenSource token_from;
  std::vector<jose::Algorithm> allowed_algorithms;
  std::vector<std::string> trusted_issuers;
  std::vector<std::string> target_audience;
  std::vector<std::string> required_scope;
  std::optional<ScopeStrategy> scope_strategy;  // nullopt: no local check (none)
  std::chrono::seconds leeway{0};
};

// ---- token extraction ----------------------------------------------------------------------

std::string_view bearer_token(const Request& request) {
  auto header = request.headers->find(boost::beast::http::field::authorization);
  if (header == request.headers->end()) return {};
  std::string_view value = header->value();
  size_t space = value.find(' ');
  if (space == std::string_view::npos || !http::iequals(value.substr(0, space), "bearer")) return {};
  return value.substr(space + 1);
}

// Returns the token of `request`: a view into its headers, or into `decoded` for a token
// that is decoded from the query or a cookie. Empty when there is none.
std::string_view extract_token(const Request& request, const TokenSource& source, std::string& decoded) {
  switch (source.location) {
    case TokenLocation::authorization_bearer:
      return bearer_token(request);
    case TokenLocation::header: {
      auto header = request.headers->find(source.name);
      return header == request.headers->end() ? std::string_view() : std::string_view(header->value());
    }
    case TokenLocation::query_parameter:
      decoded = http::query_value(request.raw_query, source.name).value_or(std::string());
      return decoded;
    case TokenLocation::cookie:
      return http::find_cookie(*request.headers, source.name, &decoded) ? std::string_view(decoded)
                                                                        : std::string_view();
  }
  return {};
}

// True when `token` has exactly two '.' separators. std::string_view::find scans with memchr,
// which callgrind counts at about 4,700 fewer instructions than std::count for a 700-byte
// RS256 token.
bool has_three_segments(std::string_view token) {
  const size_t first = token.find('.');
  if (first == std::string_view::npos) return false;
  const size_t second = token.find('.', first + 1);
  return second != std::string_view::npos && token.find('.', second + 1) == std::string_view::npos;
}

// ---- verification --------------------------------------------------------------------------

// Moves the first present claim of scp, scope and scopes into `scp` as an array of strings;
// `scp` is always present afterwards, possibly empty.
void normalize_scopes(json::object& claims) {
  std::vector<std::string> scopes = jose::extract_scopes(claims);
  for (std::string_view name : {"scp", "scope", "scopes"}) {
    if (claims.contains(name)) {
      claims.erase(name);
      break;
    }
  }
  json::array array;
  for (std::string& scope : scopes) array.emplace_back(json::string(scope));
  claims["scp"] = std::move(array);
}

// The cause of a failed verification, worded for logs.
std::string describe(const jose::VerifyError& error) {
  return fmt::format("token verification failed ({}): {}", jose::to_string(error.code), error.message);
}

bool depends_on_keys(jose::VerifyErrorCode code) {
  return code == jose::VerifyErrorCode::key_not_found || code == jose::VerifyErrorCode::key_type_mismatch ||
         code == jose::VerifyErrorCode::bad_signature;
}

// Tries the token against each set in turn. Returns the decoded token, or the most telling
// error: a key-independent error at once, else bad_signature over key_type_mismatch over
// key_not_found.
Expected<jose::DecodedJws, jose::VerifyError> verify_against(std::string_view token, const jose::KeySets& sets,
                                                             std::span<const jose::Algorithm> allowed) {
  std::optional<jose::VerifyError> best;
  for (const auto& set : sets.sets) {
    auto verified = jose::verify(token, *set, allowed);
    if (verified) return verified;
    const jose::VerifyError& error = verified.error();
    if (!depends_on_keys(error.code)) return Unexpected{error};
    if (!best || static_cast<int>(error.code) > static_cast<int>(best->code)) best = error;
  }
  if (best) return Unexpected{*best};

  std::string reason = "no key set is available";
  for (const std::string& missing : sets.missing) reason += "; " + missing;
  return Unexpected{jose::VerifyError{jose::VerifyErrorCode::key_not_found, reason}};
}

Error jwt_failure(std::string reason, std::string_view token) {
  Error error = unauthorized(std::move(reason));
  if (auto decoded = jose::decode_unverified(token)) {
    if (auto claims = jose::parse_claims(decoded->payload)) error.details["jwt_claims"] = json::serialize(*claims);
  }
  return error;
}

class JwtAuthenticator final : public Authenticator {
 public:
  JwtAuthenticator(JwtSettings settings, std::shared_ptr<SharedVerification> shared,
                   std::function<SystemClock::time_point()> now)
      : settings_(std::move(settings)), shared_(std::move(shared)), now_(std::move(now)) {}

  asio::awaitable<AuthnResult> authenticate(const Request& request, Session& session) const override {
    // The request, and with it the headers that `token` may view, outlive this coroutine.
    std::string decoded_token;
    const std::string_view token = extract_token(request, settings_.token_from, decoded_token);
    if (!has_three_segments(token)) co_return AuthnResult::not_responsible();

    // A cached token is looked up without starting another coroutine. Only a miss needs one.
    // Without a digest the cache is skipped, so the token is verified.
    const std::optional<jose::Sha256Digest> digest = jose::sha256_digest(token);
    const std::string_view key = digest ? std::string_view(digest->data(), digest->size()) : std::string_view();
    std::optional<TokenResult> found = key.empty() ? std::nullopt : cached_token(key);
    if (!found) found.emplace(co_await verify_token(token, key));
    const TokenResult& verified = *found;
    if (!verified) co_return AuthnResult::failed(jwt_failure(verified.error(), token));

    auto checked = check_claims(**verified);
    if (!checked) co_return AuthnResult::failed(jwt_failure(checked.error(), token));

    const std::shared_ptr<const VerifiedToken>& token_entry = *verified;
    const json::value* subject = token_entry->claim_set().if_contains("sub");
    session.subject = subject != nullptr && subject->is_string() ? std::string(subject->as_string()) : std::string();
    // Shares the cached claims (aliasing constructor: no copy, no allocation).
    session.extra = std::shared_ptr<const json::value>(token_entry, &token_entry->claims);
    co_return AuthnResult::authenticated();
  }

  JwtCounters counters() const { return {shared_->tokens.counters(), shared_->keys->counters()}; }

 private:
  // Returns the verified claims cached under `key` (the token's digest), an error when the
  // cached token's algorithm is not allowed here, or nullopt when nothing is cached. The
  // per-rule checks are not part of this, so they run on every request.
  std::optional<TokenResult> cached_token(std::string_view key) const {
    auto cached = shared_->tokens.get(key);
    if (!cached) return std::nullopt;
    const jose::Algorithm alg = (*cached)->alg;
    if (std::find(settings_.allowed_algorithms.begin(), settings_.allowed_algorithms.end(), alg) ==
        settings_.allowed_algorithms.end()) {
      return Unexpected{fmt::format("token verification failed (algorithm_not_allowed): algorithm {} is not allowed",
                                    jose::algorithm_name(alg))};
    }
    return std::move(*cached);
  }

  // Verifies the token's signature and caches the result under `key`, unless `key` is empty.
  asio::awaitable<TokenResult> verify_token(std::string_view token, std::string_view key) const {
    jose::KeySets sets = co_await shared_->keys->key_sets(false);
    auto decoded = verify_against(token, sets, settings_.allowed_algorithms);
    const bool key_missing = !decoded && depends_on_keys(decoded.error().code) &&
                             decoded.error().code != jose::VerifyErrorCode::bad_signature;
    if (key_missing && !sets.sets.empty()) {
      // The key may be new: refresh the sets (rate-limited per URL) and try once more. With
      // no set at all, the first call already waited for the fetch in progress.
      sets = co_await shared_->keys->key_sets(true);
      decoded = verify_against(token, sets, settings_.allowed_algorithms);
    }
    if (!decoded) co_return Unexpected{describe(decoded.error())};

    auto claims = jose::parse_claims(decoded->payload);
    if (!claims) co_return Unexpected{fmt::format("the token's claims are invalid: {}", claims.error().message)};
    normalize_scopes(*claims);

    auto entry = std::make_shared<const VerifiedToken>(VerifiedToken{decoded->alg, json::value(std::move(*claims))});
    if (auto ttl = cache_ttl(entry->claim_set()); ttl && !key.empty()) {
      shared_->tokens.put(std::string(key), entry, decoded->payload.size() * 2, *ttl);
    }
    co_return entry;
  }

  // How long a verified token may stay cached: until its exp, and never longer than the key
  // set TTL, so a key removed from the set stops verifying within that time. nullopt when
  // the token is already expired or exp is not a number.
  std::optional<Duration> cache_ttl(const json::object& claims) const {
    Duration limit = shared_->keys->ttl();
    const json::value* exp = claims.if_contains("exp");
    if (exp == nullptr) return limit;
    if (!exp->is_number()) return std::nullopt;

    const double exp_seconds = exp->to_number<double>();
    const double now_seconds = std::chrono::duration<double>(now_().time_since_epoch()).count();
    if (exp_seconds <= now_seconds) return std::nullopt;
    auto remaining = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(exp_seconds - now_seconds));
    return std::min(limit, remaining);
  }

  Expected<void, std::string> check_claims(const VerifiedToken& token) const {
    const json::object& claims = token.claim_set();
    if (auto time = jose::check_time(claims, now_(), settings_.leeway); !time) {
      return Unexpected{fmt::format("token claims are not valid ({}): {}", jose::to_string(time.error().code),
                                    time.error().message)};
    }
    if (auto issuer = jose::check_issuer(claims, settings_.trusted_issuers); !issuer) {
      return Unexpected{fmt::format("token issuer is not trusted: {}", issuer.error().message)};
    }
    if (auto audience = jose::check_audience(claims, settings_.target_audience); !audience) {
      return Unexpected{fmt::format("token audience is not accepted: {}", audience.error().message)};
    }
    return check_scopes(claims);
  }

  Expected<void, std::string> check_scopes(const json::object& claims) const {
    if (settings_.required_scope.empty()) return {};
    if (!settings_.scope_strategy) {
      return Unexpected{std::string(
          "required_scope is set but scope_strategy is none, so the scopes cannot be checked; "
          "set scope_strategy to exact, hierarchic or wildcard")};
    }
    std::vector<std::string> granted;
    for (const json::value& scope : claims.at("scp").as_array()) granted.emplace_back(scope.as_string());
    if (auto missing = first_missing_scope(*settings_.scope_strategy, granted, settings_.required_scope)) {
      return Unexpected{fmt::format("token does not grant the required scope \"{}\"", *missing)};
    }
    return {};
  }

  JwtSettings settings_;
  std::shared_ptr<SharedVerification> shared_;
  std::function<SystemClock::time_point()> now_;
};

// ---- configuration -------------------------------------------------------------------------

std::vector<std::string> string_list(const json::object& config, std::string_view key) {
  std::vector<std::string> out;
  const json::value* value = config.if_contains(key);
  if (value == nullptr || !value->is_array()) return out;
  for (const json::value& item : value->as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

std::string string_value(const json::object& config, std::string_view key, std::string fallback) {
  const json::value* value = config.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : fallback;
}

Expected<Duration, std::string> duration_value(const json::object& config, std::string_view key,
                                               std::string_view fallback) {
  std::string text = string_value(config, key, std::string(fallback));
  auto parsed = parse_duration(text);
  if (!parsed) return Unexpected{fmt::format("{} \"{}\" is not a duration such as 5s or 150ms", key, text)};
  return *parsed;
}

TokenSource parse_token_from(const json::object& config) {
  TokenSource source;
  const json::value* value = config.if_contains("token_from");
  if (value == nullptr || !value->is_object()) return source;
  const json::object& from = value->as_object();
  if (const json::value* header = from.if_contains("header"); header != nullptr && header->is_string()) {
    // Only the exact spelling "Authorization" means the Bearer scheme; other spellings read
    // the raw header value, as Oathkeeper does.
    if (header->as_string() != "Authorization") {
      source = {TokenLocation::header, std::string(header->as_string())};
    }
  } else if (const json::value* query = from.if_contains("query_parameter"); query != nullptr && query->is_string()) {
    source = {TokenLocation::query_parameter, std::string(query->as_string())};
  } else if (const json::value* cookie = from.if_contains("cookie"); cookie != nullptr && cookie->is_string()) {
    source = {TokenLocation::cookie, std::string(cookie->as_string())};
  }
  return source;
}

Expected<JwtSettings, std::string> parse_settings(const json::object& config) {
  JwtSettings settings;
  settings.token_from = parse_token_from(config);
  settings.trusted_issuers = string_list(config, "trusted_issuers");
  settings.target_audience = string_list(config, "target_audience");
  settings.required_scope = string_list(config, "required_scope");

  std::vector<std::string> algorithms = string_list(config, "allowed_algorithms");
  if (!config.contains("allowed_algorithms")) algorithms = {"RS256"};
  for (const std::string& name : algorithms) {
    if (auto alg = jose::parse_algorithm(name)) {
      settings.allowed_algorithms.push_back(*alg);
    } else {
      spdlog::warn("jwt authenticator: allowed algorithm \"{}\" is not supported and is ignored", name);
    }
  }

  std::string strategy = string_value(config, "scope_strategy", "none");
  settings.scope_strategy = parse_scope_strategy(strategy);
  if (settings.scope_strategy == ScopeStrategy::none) settings.scope_strategy.reset();

  auto leeway = duration_value(config, "leeway", "0s");
  if (!leeway) return Unexpected{leeway.error()};
  settings.leeway = std::chrono::duration_cast<std::chrono::seconds>(*leeway);
  return settings;
}

asio::awaitable<Expected<std::string, std::string>> fetch_document(const std::string& url, Duration timeout) {
  http::ClientRequest request;
  request.url = url;
  request.timeout = timeout;
  request.max_response_bytes = jose::kMaxJwksBytes;
  request.headers.emplace_back("Accept", "application/json");

  auto response = co_await http::fetch(std::move(request));
  if (!response) {
    co_return Unexpected{fmt::format("{} ({})", response.error().message, http::to_string(response.error().kind))};
  }
  if (response->status < 200 || response->status >= 300) {
    co_return Unexpected{fmt::format("the server responded with status {}", response->status)};
  }
  co_return std::move(response->body);
}

Expected<std::shared_ptr<SharedVerification>, std::string> make_shared_verification(
    const json::object& config, const JwtDependencies& dependencies) {
  jose::KeySourceOptions options;
  options.urls = string_list(config, "jwks_urls");
  auto ttl = duration_value(config, "jwks_ttl", "30s");
  if (!ttl) return Unexpected{ttl.error()};
  auto max_wait = duration_value(config, "jwks_max_wait", "1s");
  if (!max_wait) return Unexpected{max_wait.error()};
  options.ttl = *ttl;
  options.max_wait = *max_wait;
  options.fetcher = dependencies.fetcher ? dependencies.fetcher : jose::DocumentFetcher(fetch_document);
  options.clock = dependencies.steady_clock;

  auto source = jose::KeySource::create(std::move(options));
  if (!source) return Unexpected{source.error()};
  cache::Clock cache_clock = dependencies.steady_clock ? dependencies.steady_clock : cache::Clock(cache::steady_now);
  cache::Limits limits = dependencies.token_cache.value_or(
      cache::Limits{.max_entries = kVerifiedTokenCacheEntries, .max_bytes = kVerifiedTokenCacheBytes});
  return std::make_shared<SharedVerification>(std::move(*source), limits, std::move(cache_clock));
}

// Returns the shared verification state for the key set settings of `config`, reusing the
// one that live handlers already use, so a reload keeps fetched keys and cached tokens.
Expected<std::shared_ptr<SharedVerification>, std::string> shared_verification(const json::object& config) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<SharedVerification>> registry;

  json::object key_settings;
  for (std::string_view name : {"jwks_urls", "jwks_ttl", "jwks_max_wait"}) {
    if (const json::value* value = config.if_contains(name)) key_settings[name] = *value;
  }
  const std::string key = json::serialize(key_settings);

  std::lock_guard lock(mutex);
  if (auto existing = registry[key].lock()) return existing;
  auto created = make_shared_verification(config, JwtDependencies{});
  if (!created) return created;
  registry[key] = *created;
  return created;
}

Expected<std::shared_ptr<const Authenticator>, std::string> build(
    const json::object& config, Expected<std::shared_ptr<SharedVerification>, std::string> shared,
    std::function<SystemClock::time_point()> now) {
  if (!shared) return Unexpected{shared.error()};
  auto settings = parse_settings(config);
  if (!settings) return Unexpected{settings.error()};
  if (!now) now = [] { return SystemClock::now(); };
  return std::shared_ptr<const Authenticator>(
      std::make_shared<JwtAuthenticator>(std::move(*settings), std::move(*shared), std::move(now)));
}

}  // namespace

Expected<std::shared_ptr<const Authenticator>, std::string> make_jwt(const json::object& config) {
  return build(config, shared_verification(config), nullptr);
}

Expected<std::shared_ptr<const Authenticator>, std::string> make_jwt_with(const json::object& config,
                                                                     JwtDependencies dependencies) {
  auto shared = make_shared_verification(config, dependencies);
  return build(config, std::move(shared), std::move(dependencies.now));
}

std::optional<JwtCounters> jwt_counters(const Authenticator& authenticator) {
  const auto* jwt = dynamic_cast<const JwtAuthenticator*>(&authenticator);
  if (jwt == nullptr) return std::nullopt;
  return jwt->counters();
}

}  // namespace gh::pipeline::authn
