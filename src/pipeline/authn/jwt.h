// jwt: verifies a JWT access token against the key sets at `jwks_urls` and checks its
// issuer, audiences, scopes and validity times; the subject is `sub` and `extra` holds
// every claim.
//
// Outcomes: not responsible when there is no token or it does not have three
// '.'-separated parts (so an opaque-token authenticator later in the chain can take it);
// 401 for every other failure, the cause in the error's reason and, when the payload can
// be decoded, the unverified claims in `details.jwt_claims`.
//
// Differences from Oathkeeper, on purpose: keys without `use` verify (Oathkeeper requires
// `use: sig`), keys with `use: enc` never do, a token without `kid` is tried against every
// key that fits its algorithm, EdDSA is supported, and `leeway` (a gatehouse extension)
// allows clock skew on exp, nbf and iat.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "cache/ttl_cache.h"
#include "common/expected.h"
#include "jose/key_source.h"
#include "pipeline/handler.h"

namespace gh::pipeline::authn {

// Bounds of the verified-token cache of one key-set source. The entry bound is reached
// first for claim sets under about 3 KiB (an estimate of typical access tokens).
inline constexpr std::size_t kVerifiedTokenCacheEntries = 10000;
inline constexpr std::size_t kVerifiedTokenCacheBytes = 32 * 1024 * 1024;

struct JwtDependencies {
  jose::DocumentFetcher fetcher;  // http(s) key sets; the outbound HTTP client when empty
  std::function<std::chrono::system_clock::time_point()> now;  // for exp, nbf and iat
  jose::SteadyClock steady_clock;  // for key set and cache expiry
  // Limits of the verified-token cache; the defaults above when nullopt. Zero entries
  // disables it, so every request checks the signature.
  std::optional<cache::Limits> token_cache;
};

Expected<std::shared_ptr<const Authenticator>, std::string> make_jwt(const boost::json::object& config);

// Same as make_jwt, with injected fetcher and clocks, and a key set source and token cache
// of its own rather than the ones shared by handlers with the same jwks_urls.
Expected<std::shared_ptr<const Authenticator>, std::string> make_jwt_with(const boost::json::object& config,
                                                                     JwtDependencies dependencies);

struct JwtCounters {
  cache::Counters verified_tokens;
  jose::KeySourceCounters key_sets;
};

// Returns the counters of an authenticator built by make_jwt, or nullopt for any other.
std::optional<JwtCounters> jwt_counters(const Authenticator& authenticator);

}  // namespace gh::pipeline::authn
