#include "jose/generate.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <fmt/format.h>

#include "jose/base64url.h"
#include "jose/openssl_util.h"

namespace gh::jose {
namespace {

using detail::Owned;
using Result = gh::Expected<boost::json::object, std::string>;

std::string random_bytes(std::size_t count) {
  std::string out(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(count)) != 1) {
    // The CSPRNG failing means no key can be made safely; there is nothing to fall back to.
    std::abort();
  }
  return out;
}

// Reads a BIGNUM parameter as big-endian bytes, left-padded to `width` when it is non-zero.
std::optional<std::string> bignum_param(EVP_PKEY* pkey, const char* name, std::size_t width = 0) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) return std::nullopt;
  Owned<BIGNUM> number(raw);

  const std::size_t size = width != 0 ? width : static_cast<std::size_t>(BN_num_bytes(raw));
  std::string out(size, '\0');
  if (BN_bn2binpad(raw, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) < 0) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> octet_param(EVP_PKEY* pkey, const char* name) {
  std::array<unsigned char, 64> buffer{};
  std::size_t length = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, name, buffer.data(), buffer.size(), &length) != 1) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(buffer.data()), length);
}

// Adds base64url members read from `pkey`; fails when any parameter is unavailable.
bool add_members(boost::json::object& jwk,
                 std::initializer_list<std::pair<const char*, std::optional<std::string>>> members) {
  for (const auto& [name, value] : members) {
    if (!value) return false;
    jwk[name] = base64url_encode(*value);
  }
  return true;
}

Result rsa_members(int bits) {
  if (bits < kMinGeneratedRsaBits || bits > kMaxGeneratedRsaBits) {
    return gh::Unexpected{fmt::format("RSA key size must be between {} and {} bits, not {}",
                                      kMinGeneratedRsaBits, kMaxGeneratedRsaBits, bits)};
  }
  Owned<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
  if (!pkey) return gh::Unexpected{"RSA key generation failed: " + detail::take_openssl_error()};

  EVP_PKEY* key = pkey.get();
  boost::json::object jwk{{"kty", "RSA"}};
  if (!add_members(jwk, {{"n", bignum_param(key, OSSL_PKEY_PARAM_RSA_N)},
                         {"e", bignum_param(key, OSSL_PKEY_PARAM_RSA_E)},
                         {"d", bignum_param(key, OSSL_PKEY_PARAM_RSA_D)},
                         {"p", bignum_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1)},
                         {"q", bignum_param(key, OSSL_PKEY_PARAM_RSA_FACTOR2)},
                         {"dp", bignum_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT1)},
                         {"dq", bignum_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT2)},
                         {"qi", bignum_param(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1)}})) {
    return gh::Unexpected{"could not export the RSA key: " + detail::take_openssl_error()};
  }
  return jwk;
}

Result ec_members(const char* jwk_curve, const char* openssl_curve, std::size_t field_bytes) {
  Owned<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", openssl_curve));
  if (!pkey) return gh::Unexpected{"EC key generation failed: " + detail::take_openssl_error()};

  EVP_PKEY* key = pkey.get();
  boost::json::object jwk{{"kty", "EC"}, {"crv", jwk_curve}};
  if (!add_members(jwk, {{"x", bignum_param(key, OSSL_PKEY_PARAM_EC_PUB_X, field_bytes)},
                         {"y", bignum_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, field_bytes)},
                         {"d", bignum_param(key, OSSL_PKEY_PARAM_PRIV_KEY, field_bytes)}})) {
    return gh::Unexpected{"could not export the EC key: " + detail::take_openssl_error()};
  }
  return jwk;
}

Result ed25519_members() {
  Owned<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) return gh::Unexpected{"Ed25519 key generation failed: " + detail::take_openssl_error()};

  boost::json::object jwk{{"kty", "OKP"}, {"crv", "Ed25519"}};
  if (!add_members(jwk, {{"x", octet_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY)},
                         {"d", octet_param(pkey.get(), OSSL_PKEY_PARAM_PRIV_KEY)}})) {
    return gh::Unexpected{"could not export the Ed25519 key: " + detail::take_openssl_error()};
  }
  return jwk;
}

Result key_members(const GenerateOptions& options) {
  switch (options.alg) {
    case Algorithm::rs256: case Algorithm::rs384: case Algorithm::rs512:
    case Algorithm::ps256: case Algorithm::ps384: case Algorithm::ps512:
      return rsa_members(options.rsa_bits);
    case Algorithm::es256: return ec_members("P-256", "P-256", 32);
    case Algorithm::es384: return ec_members("P-384", "P-384", 48);
    case Algorithm::es512: return ec_members("P-521", "P-521", 66);
    case Algorithm::eddsa: return ed25519_members();
    // RFC 7518 §3.2: an HMAC key must be at least as long as the hash output.
    case Algorithm::hs256: return boost::json::object{{"kty", "oct"}, {"k", base64url_encode(random_bytes(32))}};
    case Algorithm::hs384: return boost::json::object{{"kty", "oct"}, {"k", base64url_encode(random_bytes(48))}};
    case Algorithm::hs512: return boost::json::object{{"kty", "oct"}, {"k", base64url_encode(random_bytes(64))}};
  }
  return gh::Unexpected{std::string("unknown algorithm")};
}

}  // namespace

std::string random_uuid_v4() {
  std::string bytes = random_bytes(16);
  bytes[6] = static_cast<char>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<char>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant

  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", static_cast<unsigned char>(bytes[i]));
  }
  return out;
}

gh::Expected<boost::json::object, std::string> generate_jwk(const GenerateOptions& options) {
  if (options.kid && options.kid->size() > kMaxKidBytes) {
    return gh::Unexpected{fmt::format("kid is longer than {} bytes", kMaxKidBytes)};
  }
  Result jwk = key_members(options);
  if (!jwk) return jwk;

  jwk->emplace("kid", options.kid ? *options.kid : random_uuid_v4());
  jwk->emplace("use", "sig");
  jwk->emplace("alg", algorithm_name(options.alg));
  return jwk;
}

gh::Expected<boost::json::object, std::string> generate_jwks(const GenerateOptions& options) {
  Result jwk = generate_jwk(options);
  if (!jwk) return jwk;
  return boost::json::object{{"keys", boost::json::array{std::move(*jwk)}}};
}

}  // namespace gh::jose
