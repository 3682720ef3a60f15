// Compact JWS (RFC 7515 §7.1) verification and signing with the algorithms of RFC 7518
// and RFC 8037: RS256/384/512, PS256/384/512, ES256/384/512, EdDSA (Ed25519) and
// HS256/384/512. "none" is not an Algorithm value, so it can never be allowed.
//
// Verification returns typed errors and never throws. The header members `jku`, `x5u`,
// `jwk` and `x5c` are ignored: keys come only from the caller's key set, never from the
// token, and nothing is fetched.
#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/expected.h"
#include "jose/jwk.h"

namespace gh::jose {

// Largest accepted compact token, in bytes, checked before any decoding. Access tokens
// with a 4096-bit RSA signature and a generous claim set stay well below it.
inline constexpr std::size_t kMaxTokenBytes = 16 * 1024;

enum class Algorithm { rs256, rs384, rs512, ps256, ps384, ps512, es256, es384, es512, eddsa,
                       hs256, hs384, hs512 };

inline constexpr Algorithm kAllAlgorithms[] = {
    Algorithm::rs256, Algorithm::rs384, Algorithm::rs512, Algorithm::ps256, Algorithm::ps384,
    Algorithm::ps512, Algorithm::es256, Algorithm::es384, Algorithm::es512, Algorithm::eddsa,
    Algorithm::hs256, Algorithm::hs384, Algorithm::hs512};

// Parses a JWS `alg` name, case-sensitively ("RS256", not "rs256"). "none" and unknown
// names return nullopt.
std::optional<Algorithm> parse_algorithm(std::string_view name);
std::string_view algorithm_name(Algorithm alg);

// Checks that `key` may be used with `alg`: RS*/PS* need an RSA key of at least 2048 bits,
// ES256/384/512 a P-256/P-384/P-521 key, EdDSA an Ed25519 key, HS* an oct key at least as
// long as the hash output. A key whose own `alg` member names another algorithm does not
// fit. Returns the reason when it does not fit.
gh::Expected<void, std::string> check_key_fits(const Jwk& key, Algorithm alg);

enum class VerifyErrorCode {
  malformed,              // not a compact JWS, bad base64url or header JSON, or unknown `crit`
  unsupported_algorithm,  // `alg` missing, "none", or not an algorithm listed above
  algorithm_not_allowed,  // a known algorithm that is not in the caller's allow-list
  key_not_found,          // no signature key with the token's kid, or none fits `alg`
  key_type_mismatch,      // a key with the token's kid exists but does not fit `alg`
  bad_signature,          // the signature does not verify with any candidate key
};

std::string_view to_string(VerifyErrorCode code);

struct VerifyError {
  VerifyErrorCode code;
  std::string message;  // for logs; contains no key material
};

// A compact JWS split and decoded, signature not checked.
struct DecodedJws {
  Algorithm alg;
  boost::json::object header;
  std::string payload;  // decoded bytes
  std::string kid;      // empty when the header has none
};

// Decodes a compact JWS without checking its signature, for example to report the claims
// of a token that failed verification. Never use the result for an access decision.
gh::Expected<DecodedJws, VerifyError> decode_unverified(std::string_view token);

// Verifies a compact JWS against a key set. `alg` must be in `allowed`. With a `kid` in
// the header, only signature keys with that kid are tried; without one, every signature
// key that fits `alg` is tried. Keys whose `use` is not "sig" never verify.
gh::Expected<DecodedJws, VerifyError> verify(std::string_view token, const JwkSet& keys,
                                             std::span<const Algorithm> allowed);

// Verifies a compact JWS with one key; the header's kid is not compared.
gh::Expected<DecodedJws, VerifyError> verify(std::string_view token, const Jwk& key,
                                             std::span<const Algorithm> allowed);

struct SignOptions {
  Algorithm alg = Algorithm::rs256;
  // The `kid` header; nullopt uses the key's own kid (omitted when that is empty).
  std::optional<std::string> kid;
  // The `typ` header, for example "JWT" or "at+jwt"; omitted when nullopt.
  std::optional<std::string> typ;
};

// Signs `payload` and returns the compact JWS. The key must be private and fit the
// algorithm (see check_key_fits).
gh::Expected<std::string, std::string> sign(std::string_view payload, const Jwk& key,
                                            const SignOptions& options);

}  // namespace gh::jose
