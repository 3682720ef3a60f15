// oauth2_introspection: checks opaque tokens with an RFC 7662 introspection endpoint.
//
// Design: the token is sent as `token=<value>` in a form POST. The response is parsed into an
// IntrospectionResult, and two groups of checks run on it. Token checks (token_use, active,
// exp) decide whether the token may be used at all. Only responses that pass them are cached.
// Rule checks (audience, issuer, scope) depend on the rule, so they run again on every
// cache hit, which lets rules with different requirements share one cache entry.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "cache/ttl_cache.h"
#include "common/expected.h"
#include "pipeline/handler.h"
#include "pipeline/scope.h"

namespace gh::pipeline::authn {

// The fields of an introspection response that gatehouse reads, with their types checked.
struct IntrospectionResult {
  boost::json::value document;   // the whole response, an object, for subject_from and extra_from
  bool active = false;
  std::optional<double> exp;     // seconds since the epoch
  std::vector<std::string> aud;  // a string `aud` becomes one element
  std::string iss;
  std::string scope;             // space-separated
  std::string sub;
  std::string token_use;
  std::string username;
  std::string client_id;
  boost::json::object ext;
};

// Parses an introspection response. A body that is not a JSON object, lacks a boolean
// `active`, or has a known field of the wrong type is rejected with 401: gatehouse cannot
// tell whether such a token is valid, so it is not. `document` and `ext` allocate from
// `storage`.
Expected<IntrospectionResult, Error> parse_introspection(std::string_view body, boost::json::storage_ptr storage = {});

// Token checks: `token_use` other than access_token (403), inactive (401), and `exp` at
// or before `now` (401).
Expected<void, Error> check_token(const IntrospectionResult& result, std::chrono::system_clock::time_point now);

struct RuleRequirements {
  ScopeStrategy scope_strategy = ScopeStrategy::none;  // none: the issuer checks scopes
  std::vector<std::string> required_scope;
  std::vector<std::string> target_audience;  // every one must be in `aud`
  std::vector<std::string> trusted_issuers;  // `iss` must be one, when not empty
};

// Rule checks, each failing with 403: audience, issuer, then scope.
Expected<void, Error> check_requirements(const IntrospectionResult& result, const RuleRequirements& requirements);

// Oathkeeper's extra data: `ext` (or {}) plus username, client_id and scope, and `aud`
// when it is not empty. The object allocates from `storage`.
boost::json::object default_extra(const IntrospectionResult& result, boost::json::storage_ptr storage = {});

// A parsed introspection response as the result cache stores it. It is immutable once
// built, so the requests that hit one entry share it, and sessions share its default
// extra data.
struct CachedIntrospection {
  IntrospectionResult result;
  boost::json::value default_extra;  // default_extra(result)
  // Estimated heap bytes of the entry: its own block, the JSON values and the strings.
  std::size_t heap_bytes = 0;
};

// Parses a response body (see parse_introspection) into a cache entry and estimates its
// heap memory.
Expected<std::shared_ptr<const CachedIntrospection>, Error> make_cached_introspection(std::string_view body);

// Replaceable parts of the authenticator, for tests.
struct IntrospectionDependencies {
  // Returns the endpoint's response body for a token, in place of the HTTP call.
  std::function<boost::asio::awaitable<Expected<std::string, Error>>(std::string token)> endpoint;
  std::function<std::chrono::system_clock::time_point()> now;  // for exp
  // The result cache's clock. When set, the handler gets a result cache of its own.
  cache::Clock steady_clock;
};

Expected<std::shared_ptr<const Authenticator>, std::string> make_introspection(const boost::json::object& config);

// Same as make_introspection, with the parts in `dependencies` replaced where they are set.
Expected<std::shared_ptr<const Authenticator>, std::string> make_introspection_with(
    const boost::json::object& config, IntrospectionDependencies dependencies);

// Returns the result cache counters of an authenticator built by make_introspection, or
// nullopt for any other authenticator or when its cache is disabled.
std::optional<cache::Counters> introspection_cache_counters(const Authenticator& authenticator);

}  // namespace gh::pipeline::authn
