#include "oauth2/opaque_token.h"

#include "jose/base64url.h"
#include "oauth2/crypto.h"

namespace gh::oauth2 {
namespace {

constexpr std::size_t kRandomBytes = 32;
constexpr std::size_t kEncodedPartBytes = 43;  // base64url of 32 bytes, unpadded

std::string hmac_key(std::string_view secret) { return sha256(secret); }

}  // namespace

OpaqueToken make_opaque_token(std::string_view secret) {
  std::string random = random_bytes(kRandomBytes);
  std::string signature = jose::base64url_encode(hmac_sha512_256(hmac_key(secret), random));
  std::string token = std::string(kAccessTokenPrefix) + jose::base64url_encode(random) + "." + signature;
  return OpaqueToken{std::move(token), std::move(signature)};
}

std::optional<std::string> check_opaque_token(std::string_view token, const std::vector<std::string>& secrets) {
  if (!token.starts_with(kAccessTokenPrefix)) return std::nullopt;
  token.remove_prefix(kAccessTokenPrefix.size());
  if (token.size() != 2 * kEncodedPartBytes + 1 || token[kEncodedPartBytes] != '.') return std::nullopt;

  std::optional<std::string> random = jose::base64url_decode(token.substr(0, kEncodedPartBytes));
  std::optional<std::string> mac = jose::base64url_decode(token.substr(kEncodedPartBytes + 1));
  if (!random || !mac) return std::nullopt;
  for (const std::string& secret : secrets) {
    if (constant_time_equals(hmac_sha512_256(hmac_key(secret), *random), *mac)) {
      return std::string(token.substr(kEncodedPartBytes + 1));
    }
  }
  return std::nullopt;
}

std::string signature_key(std::string_view signature) { return sha256_hex(signature); }

}  // namespace gh::oauth2
