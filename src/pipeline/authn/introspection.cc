#include "pipeline/authn/introspection.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <boost/url/parse.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cache/ttl_cache.h"
#include "common/heap_size.h"
#include "http/client.h"
#include "jose/digest.h"
#include "pipeline/authn/client_credentials.h"
#include "pipeline/authn/session_store.h"
#include "pipeline/config_values.h"
#include "pipeline/remote_call.h"
#include "pipeline/token_from.h"
#include "text/gjson.h"

namespace gh::pipeline::authn {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using SystemClock = std::chrono::system_clock;

constexpr std::string_view kEndpoint = "introspection endpoint";

// Cached responses are parsed results keyed by URL, form suffix and token digest.
using ResultCache = cache::TtlCache<std::shared_ptr<const CachedIntrospection>>;

// Heap bytes of one cache entry beyond the parsed result (CachedIntrospection::heap_bytes)
// and the key characters and nodes that TtlCache's own estimate (kEntryOverheadBytes)
// covers: the separate heap block of the key, the hash bucket, and malloc's per-block
// headers. An estimate for 64-bit glibc. With it, bench/memory/memory_bench.py measured
// 33.9 MiB of resident growth for a full 32 MiB cache (200,000 tokens, Release build,
// x86-64) when entries were response bodies, charged at their length.
constexpr std::size_t kEntryHeapOverheadBytes = 128;

// The smallest plausible entry, which sets the entry cap that goes with a byte limit.
constexpr std::size_t kSmallestEntryBytes = 256;

// "No expiry" for a response without `exp` when cache.ttl is unset, as in Oathkeeper.
constexpr std::chrono::hours kNoExpiry{24 * 365};

// Returns the cache shared by every handler whose cache.max_cost is `max_bytes`. Sharing
// one cache across rules and reloads keeps memory at the configured bound instead of a
// multiple of it.
cache::Limits result_cache_limits(std::size_t max_bytes) {
  return cache::Limits{.max_entries = std::max<std::size_t>(1, max_bytes / kSmallestEntryBytes), .max_bytes = max_bytes};
}

std::shared_ptr<ResultCache> shared_result_cache(std::size_t max_bytes) {
  static std::mutex mutex;
  static std::map<std::size_t, std::weak_ptr<ResultCache>> caches;

  std::lock_guard lock(mutex);
  std::erase_if(caches, [](const auto& entry) { return entry.second.expired(); });
  if (auto existing = caches[max_bytes].lock()) return existing;
  auto created = std::make_shared<ResultCache>(result_cache_limits(max_bytes));
  caches[max_bytes] = created;
  return created;
}

std::string join(const std::vector<std::string>& items, char separator) {
  std::string joined;
  for (const std::string& item : items) {
    if (!joined.empty()) joined += separator;
    joined += item;
  }
  return joined;
}

std::vector<std::string> split_scopes(std::string_view scope) {
  std::vector<std::string> scopes;
  size_t start = 0;
  while (start <= scope.size()) {
    size_t end = scope.find(' ', start);
    if (end == std::string_view::npos) end = scope.size();
    if (end > start) scopes.emplace_back(scope.substr(start, end - start));
    start = end + 1;
  }
  return scopes;
}

Error malformed(std::string_view field, std::string_view expected) {
  return unauthorized(fmt::format("the introspection response field \"{}\" is not {}", field, expected));
}

// Reads string field `name` into `out`; absent and null leave it empty.
bool read_string(const json::object& object, std::string_view name, std::string& out) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || value->is_null()) return true;
  if (!value->is_string()) return false;
  out = std::string(value->as_string());
  return true;
}

bool read_audience(const json::object& object, std::vector<std::string>& out) {
  const json::value* value = object.if_contains("aud");
  if (value == nullptr || value->is_null()) return true;
  if (value->is_string()) {
    out.emplace_back(value->as_string());
    return true;
  }
  if (!value->is_array()) return false;
  for (const json::value& item : value->as_array()) {
    if (!item.is_string()) return false;
    out.emplace_back(item.as_string());
  }
  return true;
}

struct IntrospectionSettings {
  std::string url;
  TokenLocation token_from;
  std::string prefix;
  RuleRequirements requirements;
  bool preserve_host = false;
  http::HeaderList request_headers;
  std::string token_type_hint;
  std::optional<text::GjsonPath> subject_from;  // nullopt: `sub`
  std::optional<text::GjsonPath> extra_from;    // nullopt: default_extra
  RetryPolicy retry;
  std::shared_ptr<ClientTokenSource> pre_authorization;
  std::shared_ptr<ResultCache> cache;  // null when cache.enabled is false
  std::optional<Duration> cache_ttl;
  IntrospectionDependencies dependencies;
};

class Introspection final : public Authenticator {
 public:
  explicit Introspection(IntrospectionSettings settings)
      : settings_(std::move(settings)), form_suffix_(form_suffix(settings_)),
        cache_key_prefix_(settings_.url + "\n" + form_suffix_ + "\n") {}

  asio::awaitable<AuthnResult> authenticate(const Request& request, Session& session) const override {
    const std::string token = extract_token(request, settings_.token_from);
    if (token.empty() || !token.starts_with(settings_.prefix)) co_return AuthnResult::not_responsible();

    // Without a digest the cache is skipped, so the endpoint decides.
    const std::optional<jose::Sha256Digest> digest =
        settings_.cache ? jose::sha256_digest(token) : std::optional<jose::Sha256Digest>();
    std::shared_ptr<const CachedIntrospection> entry = digest ? cached_entry(*digest) : nullptr;
    const bool cached = entry != nullptr;
    if (!cached) {
      auto fetched = co_await introspect(request, token);
      if (!fetched) co_return AuthnResult::failed(std::move(fetched.error()));
      auto parsed = make_cached_introspection(*fetched);
      if (!parsed) co_return AuthnResult::failed(std::move(parsed.error()));
      entry = std::move(*parsed);
    }

    // The token checks run on cache hits too: the entry's TTL runs on the steady clock,
    // which can drift from the wall clock that exp refers to.
    const IntrospectionResult& result = entry->result;
    const auto now = current_time();
    if (auto usable = check_token(result, now); !usable) co_return AuthnResult::failed(std::move(usable.error()));
    if (digest && !cached) store(cache_key(*digest), entry, now);

    if (auto allowed = check_requirements(result, settings_.requirements); !allowed) {
      co_return AuthnResult::failed(std::move(allowed.error()));
    }
    auto identified = identify(entry, session);
    if (!identified) co_return AuthnResult::failed(std::move(identified.error()));
    co_return AuthnResult::authenticated();
  }

  std::optional<cache::Counters> cache_counters() const {
    if (!settings_.cache) return std::nullopt;
    return settings_.cache->counters();
  }

 private:
  // The form fields after `token`: the hint when configured, and with strategy none the
  // required scopes, which the endpoint then enforces (sent even when empty, as Oathkeeper).
  static std::string form_suffix(const IntrospectionSettings& settings) {
    std::string suffix;
    if (!settings.token_type_hint.empty()) suffix += "&token_type_hint=" + form_encode(settings.token_type_hint);
    if (settings.requirements.scope_strategy == ScopeStrategy::none) {
      suffix += "&scope=" + form_encode(join(settings.requirements.required_scope, ' '));
    }
    return suffix;
  }

  // Sends the token to the endpoint and returns the body of a 200 response.
  asio::awaitable<Expected<std::string, Error>> introspect(const Request& request, const std::string& token) const {
    if (settings_.dependencies.endpoint) co_return co_await settings_.dependencies.endpoint(token);

    http::ClientRequest call;
    call.method = "POST";
    call.url = settings_.url;
    call.headers = settings_.request_headers;
    replace_header(call.headers, "Content-Type", "application/x-www-form-urlencoded");
    call.body = "token=" + form_encode(token) + form_suffix_;

    std::string own_token;
    if (settings_.pre_authorization) {
      auto granted = co_await settings_.pre_authorization->token();
      if (!granted) co_return Unexpected(std::move(granted.error()));
      own_token = std::move(*granted);
      replace_header(call.headers, "Authorization", "Bearer " + own_token);
    }
    if (settings_.preserve_host) replace_header(call.headers, "X-Forwarded-Host", request.host);

    auto outcome = co_await fetch_with_retry(std::move(call), settings_.retry);
    if (!outcome) co_return Unexpected(transport_failure(kEndpoint, outcome.error()));
    if (outcome->status == 200) co_return std::move(outcome->body);
    if (outcome->status == 429) co_return Unexpected(rate_limited(kEndpoint, *outcome));

    if ((outcome->status == 401 || outcome->status == 403) && settings_.pre_authorization) {
      // The endpoint rejected gatehouse's own token; fetch a new one for the next request.
      settings_.pre_authorization->invalidate(own_token);
    }
    co_return Unexpected(status_failure(kEndpoint, outcome->status));
  }

  // Returns the cache key: endpoint URL, form suffix and token digest, so that handlers
  // which send different requests for one token never share an entry.
  std::string cache_key(const jose::Sha256Digest& digest) const {
    std::string key;
    key.reserve(cache_key_prefix_.size() + digest.size());
    key.append(cache_key_prefix_).append(digest.data(), digest.size());
    return key;
  }

  // Looks up the entry of a token digest. The key is built in a per-thread buffer, so a
  // lookup allocates nothing once the buffer has grown.
  std::shared_ptr<const CachedIntrospection> cached_entry(const jose::Sha256Digest& digest) const {
    thread_local std::string key;
    key.assign(cache_key_prefix_).append(digest.data(), digest.size());
    return settings_.cache->get(key).value_or(nullptr);
  }

  // Caches `entry` until the token's exp, and never longer than cache.ttl when that is set.
  void store(const std::string& key, const std::shared_ptr<const CachedIntrospection>& entry,
             SystemClock::time_point now) const {
    const IntrospectionResult& result = entry->result;
    std::chrono::nanoseconds ttl = settings_.cache_ttl.value_or(kNoExpiry);
    if (result.exp && *result.exp > 0) {
      const double seconds_left = *result.exp - std::chrono::duration<double>(now.time_since_epoch()).count();
      ttl = std::min(ttl, std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds_left)));
    }
    settings_.cache->put(key, entry, entry->heap_bytes + kEntryHeapOverheadBytes, ttl);
  }

  Expected<void, Error> identify(const std::shared_ptr<const CachedIntrospection>& entry, Session& session) const {
    const IntrospectionResult& result = entry->result;
    // Sessions share the entry's default extra data (aliasing constructor: no copy).
    const std::shared_ptr<const json::value> shared_default_extra(entry, &entry->default_extra);
    if (!settings_.subject_from && !settings_.extra_from) {
      session.subject = result.sub;
      session.extra = shared_default_extra;
      return {};
    }
    static const text::GjsonPath kSub = *text::GjsonPath::compile("sub");
    const text::GjsonPath& subject_from = settings_.subject_from ? *settings_.subject_from : kSub;
    if (settings_.extra_from) return extract_identity(result.document, subject_from, *settings_.extra_from, session);

    auto identified = extract_identity(result.document, subject_from, kSub, session);
    session.extra = shared_default_extra;
    return identified;
  }

  SystemClock::time_point current_time() const {
    return settings_.dependencies.now ? settings_.dependencies.now() : SystemClock::now();
  }

  IntrospectionSettings settings_;
  std::string form_suffix_;
  std::string cache_key_prefix_;
};

Expected<std::optional<text::GjsonPath>, std::string> optional_path(const json::object& config, std::string_view key) {
  const json::value* value = config.if_contains(key);
  if (value == nullptr || !value->is_string()) return std::optional<text::GjsonPath>();
  auto path = text::GjsonPath::compile(value->as_string());
  if (!path) return Unexpected(fmt::format("{}: {}", key, path.error()));
  return std::optional<text::GjsonPath>(std::move(*path));
}

bool is_absolute_http_url(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  return parsed && (parsed->scheme() == "http" || parsed->scheme() == "https") && parsed->has_authority();
}

Expected<std::shared_ptr<ClientTokenSource>, std::string> read_pre_authorization(const json::object& config,
                                                                                 const RetryPolicy& retry) {
  const json::object* pre = object_at(config, "pre_authorization");
  if (pre == nullptr || !bool_at(*pre, "enabled")) return std::shared_ptr<ClientTokenSource>();

  GrantRequest grant{string_at(*pre, "token_url"), string_at(*pre, "client_id"), string_at(*pre, "client_secret"),
                     strings_at(*pre, "scope"), string_at(*pre, "audience"), retry};
  if (!is_absolute_http_url(grant.token_url)) {
    return Unexpected(fmt::format("pre_authorization.token_url \"{}\" must be an absolute http or https URL",
                                  grant.token_url));
  }
  return shared_token_source(grant);
}

void read_cache(const json::object& config, IntrospectionSettings& settings) {
  const json::object* cache = object_at(config, "cache");
  if (cache == nullptr || !bool_at(*cache, "enabled")) return;  // nothing is allocated
  const long long max_cost = int_at(*cache, "max_cost").value_or(0);
  if (max_cost <= 0) return;
  const auto max_bytes = static_cast<std::size_t>(max_cost);
  if (settings.dependencies.steady_clock) {
    settings.cache = std::make_shared<ResultCache>(result_cache_limits(max_bytes), settings.dependencies.steady_clock);
  } else {
    settings.cache = shared_result_cache(max_bytes);
  }
  settings.cache_ttl = duration_at(*cache, "ttl");
}

// Returns the heap bytes of the string members of `result`. The JSON values are measured
// separately.
std::size_t result_string_bytes(const IntrospectionResult& result) {
  std::size_t bytes = 0;
  for (const std::string* field : {&result.iss, &result.scope, &result.sub, &result.token_use, &result.username,
                                   &result.client_id}) {
    bytes += string_heap_bytes(*field);
  }
  if (result.aud.capacity() > 0) bytes += malloc_block_bytes(result.aud.capacity() * sizeof(std::string));
  for (const std::string& audience : result.aud) bytes += string_heap_bytes(audience);
  return bytes;
}

}  // namespace

Expected<IntrospectionResult, Error> parse_introspection(std::string_view body, json::storage_ptr storage) {
  boost::system::error_code error;
  json::value document = json::parse(body, error, storage);
  if (error || !document.is_object()) return Unexpected(unauthorized("the introspection response is not a JSON object"));

  // Both JSON members are built with `storage` here, because assigning to a value or object
  // keeps the target's own storage.
  IntrospectionResult result{.document = std::move(document),
                             .active = false,
                             .exp = std::nullopt,
                             .aud = {},
                             .iss = {},
                             .scope = {},
                             .sub = {},
                             .token_use = {},
                             .username = {},
                             .client_id = {},
                             .ext = json::object(storage)};
  const json::object& object = result.document.get_object();

  const json::value* active = object.if_contains("active");
  if (active == nullptr || !active->is_bool()) return Unexpected(malformed("active", "a boolean"));
  result.active = active->as_bool();

  if (const json::value* exp = object.if_contains("exp"); exp != nullptr && !exp->is_null()) {
    if (!exp->is_number()) return Unexpected(malformed("exp", "a number"));
    result.exp = exp->to_number<double>();
  }
  if (!read_audience(object, result.aud)) return Unexpected(malformed("aud", "a string or an array of strings"));
  for (auto [name, field] : {std::pair<std::string_view, std::string*>{"iss", &result.iss}, {"scope", &result.scope},
                             {"sub", &result.sub}, {"token_use", &result.token_use},
                             {"username", &result.username}, {"client_id", &result.client_id}}) {
    if (!read_string(object, name, *field)) return Unexpected(malformed(name, "a string"));
  }
  if (const json::value* ext = object.if_contains("ext"); ext != nullptr && !ext->is_null()) {
    if (!ext->is_object()) return Unexpected(malformed("ext", "an object"));
    result.ext = ext->as_object();
  }
  return result;
}

Expected<void, Error> check_token(const IntrospectionResult& result, SystemClock::time_point now) {
  if (!result.token_use.empty() && result.token_use != "access_token") {
    return Unexpected(forbidden(fmt::format("Use of introspected token is not an access token but \"{}\"",
                                            result.token_use)));
  }
  if (!result.active) return Unexpected(unauthorized("Access token is not active"));
  const double now_seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
  if (result.exp && *result.exp > 0 && *result.exp <= now_seconds) {
    return Unexpected(unauthorized("Access token expired"));
  }
  return {};
}

Expected<void, Error> check_requirements(const IntrospectionResult& result, const RuleRequirements& requirements) {
  for (const std::string& audience : requirements.target_audience) {
    if (std::find(result.aud.begin(), result.aud.end(), audience) == result.aud.end()) {
      return Unexpected(forbidden(fmt::format("Token audience is not intended for target audience {}", audience)));
    }
  }
  if (!requirements.trusted_issuers.empty() &&
      std::find(requirements.trusted_issuers.begin(), requirements.trusted_issuers.end(), result.iss) ==
          requirements.trusted_issuers.end()) {
    return Unexpected(forbidden(fmt::format("Token issuer does not match any trusted issuer ({})", result.iss)));
  }
  if (requirements.scope_strategy != ScopeStrategy::none) {
    const std::vector<std::string> granted = split_scopes(result.scope);
    if (auto missing = first_missing_scope(requirements.scope_strategy, granted, requirements.required_scope)) {
      return Unexpected(forbidden(fmt::format("Scope {} was not granted", *missing)));
    }
  }
  return {};
}

json::object default_extra(const IntrospectionResult& result, json::storage_ptr storage) {
  json::object extra(result.ext, std::move(storage));
  extra["username"] = result.username;
  extra["client_id"] = result.client_id;
  extra["scope"] = result.scope;
  if (!result.aud.empty()) {
    json::array aud;
    for (const std::string& value : result.aud) aud.emplace_back(json::string(value));
    extra["aud"] = std::move(aud);
  }
  return extra;
}

Expected<std::shared_ptr<const CachedIntrospection>, Error> make_cached_introspection(std::string_view body) {
  const JsonHeapMeter meter;
  auto result = parse_introspection(body, meter.storage());
  if (!result) return Unexpected(std::move(result.error()));
  json::value extra(default_extra(*result, meter.storage()));

  // Move construction keeps each JSON value's storage and so its measured blocks. Move
  // assignment into a value with the default storage would copy them.
  auto entry = std::make_shared<CachedIntrospection>(CachedIntrospection{std::move(*result), std::move(extra), 0});
  // std::make_shared puts the entry in one block with its control block: a vtable pointer
  // and two 4-byte counts in libstdc++ on 64-bit systems.
  constexpr std::size_t kControlBlockBytes = 16;
  entry->heap_bytes = malloc_block_bytes(sizeof(CachedIntrospection) + kControlBlockBytes) + meter.bytes() +
                      result_string_bytes(entry->result);
  return std::shared_ptr<const CachedIntrospection>(std::move(entry));
}

Expected<std::shared_ptr<const Authenticator>, std::string> make_introspection(const json::object& config) {
  return make_introspection_with(config, IntrospectionDependencies{});
}

Expected<std::shared_ptr<const Authenticator>, std::string> make_introspection_with(
    const json::object& config, IntrospectionDependencies dependencies) {
  IntrospectionSettings settings;
  settings.dependencies = std::move(dependencies);
  settings.url = string_at(config, "introspection_url");
  if (!is_absolute_http_url(settings.url)) {
    return Unexpected(fmt::format("introspection_url \"{}\" must be an absolute http or https URL", settings.url));
  }
  auto token_from = parse_token_from(config.if_contains("token_from"));
  if (!token_from) return Unexpected(std::move(token_from.error()));
  settings.token_from = std::move(*token_from);
  settings.prefix = string_at(config, "prefix");

  const std::string strategy = string_at(config, "scope_strategy", "none");
  auto parsed_strategy = parse_scope_strategy(strategy);
  if (!parsed_strategy) return Unexpected(fmt::format("scope_strategy \"{}\" is not one of hierarchic, exact, wildcard, none", strategy));
  settings.requirements = {*parsed_strategy, strings_at(config, "required_scope"), strings_at(config, "target_audience"),
                           strings_at(config, "trusted_issuers")};

  settings.preserve_host = bool_at(config, "preserve_host");
  settings.request_headers = headers_at(config, "introspection_request_headers");
  settings.token_type_hint = string_at(config, "token_type_hint");
  auto subject_from = optional_path(config, "subject_from");
  if (!subject_from) return Unexpected(std::move(subject_from.error()));
  auto extra_from = optional_path(config, "extra_from");
  if (!extra_from) return Unexpected(std::move(extra_from.error()));
  settings.subject_from = std::move(*subject_from);
  settings.extra_from = std::move(*extra_from);

  settings.retry = retry_policy_at(config);
  auto pre_authorization = read_pre_authorization(config, settings.retry);
  if (!pre_authorization) return Unexpected(std::move(pre_authorization.error()));
  settings.pre_authorization = std::move(*pre_authorization);
  read_cache(config, settings);
  return std::shared_ptr<const Authenticator>(std::make_shared<Introspection>(std::move(settings)));
}

std::optional<cache::Counters> introspection_cache_counters(const Authenticator& authenticator) {
  const auto* introspection = dynamic_cast<const Introspection*>(&authenticator);
  if (introspection == nullptr) return std::nullopt;
  return introspection->cache_counters();
}

}  // namespace gh::pipeline::authn
