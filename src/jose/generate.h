// Key generation: a fresh private JWK for one JWS algorithm, as a JWKS document. This backs
// `gatehouse credentials generate --alg ALG [--kid KID] [--bits N]`.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "common/expected.h"
#include "jose/jwk.h"
#include "jose/jws.h"

namespace gh::jose {

inline constexpr int kDefaultRsaBits = 2048;
inline constexpr int kMinGeneratedRsaBits = 2048;  // the smallest RS*/PS* verification accepts
inline constexpr int kMaxGeneratedRsaBits = 8192;  // the largest JWK parsing accepts

struct GenerateOptions {
  Algorithm alg = Algorithm::rs256;
  // The key's kid; nullopt gives a random UUID v4.
  std::optional<std::string> kid;
  // RSA modulus size for RS*/PS*; ignored for other algorithms.
  int rsa_bits = kDefaultRsaBits;
};

// Generates one private key for `options.alg` and returns it as a JWK with `kid`,
// `use: "sig"` and `alg` set. HS* keys are random secrets as long as the hash output.
gh::Expected<boost::json::object, std::string> generate_jwk(const GenerateOptions& options);

// Returns `{"keys": [generate_jwk(options)]}`.
gh::Expected<boost::json::object, std::string> generate_jwks(const GenerateOptions& options);

// Returns a random (version 4) UUID in its canonical lowercase text form.
std::string random_uuid_v4();

}  // namespace gh::jose
