// Opaque access tokens in Hydra's format:
//   ory_at_ + base64url(32 random bytes) + "." + base64url(HMAC-SHA-512/256(key, random bytes))
// with key = SHA-256(system secret), base64url without padding (43 + 1 + 43 characters
// after the prefix). The part after the dot, the signature, identifies the token; storage
// keeps only SHA-256 of it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gh::oauth2 {

inline constexpr std::string_view kAccessTokenPrefix = "ory_at_";

struct OpaqueToken {
  std::string token;
  std::string signature;  // the base64url part after the dot
};

// Makes a new token signed with `secret`.
OpaqueToken make_opaque_token(std::string_view secret);

// Checks the token's form and HMAC against each secret in turn (the first one signs, the
// others are kept for rotation). Returns the signature part when one matches.
std::optional<std::string> check_opaque_token(std::string_view token, const std::vector<std::string>& secrets);

// The storage key of a token signature (opaque or JWS): lower-case hex SHA-256.
std::string signature_key(std::string_view signature);

}  // namespace gh::oauth2
