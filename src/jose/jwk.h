// JSON Web Keys (RFC 7517) and key sets, for the key types JWS uses: RSA, EC (P-256, P-384,
// P-521), OKP Ed25519 (RFC 8037) and oct (HMAC secrets).
//
// Parsing builds OpenSSL 3 EVP_PKEYs once, so verification only looks keys up. A parsed key
// is immutable and may be shared between threads.
#pragma once

#include <openssl/types.h>

#include <boost/json/object.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace gh::jose {

// Longest accepted `kid`, in bytes. A kid is only a lookup key, so anything longer is
// treated as an attack on logs and lookups rather than a real identifier.
inline constexpr std::size_t kMaxKidBytes = 256;

// Largest accepted JWKS document, in bytes: far above real sets (a 4096-bit RSA private
// key is about 3.2 KiB of JSON), small enough that parsing a hostile one stays cheap.
inline constexpr std::size_t kMaxJwksBytes = 1024 * 1024;

enum class KeyType { rsa, ec, okp, oct };

// One parsed JWK. Asymmetric keys carry an EVP_PKEY; oct keys carry the secret bytes.
class Jwk {
 public:
  KeyType type() const { return type_; }
  const std::string& kid() const { return kid_; }
  // The `use` member: "sig", "enc", another registered value, or empty when absent.
  const std::string& use() const { return use_; }
  // The `alg` member, or empty when absent.
  const std::string& alg() const { return alg_; }
  // "P-256", "P-384", "P-521" or "Ed25519"; empty for RSA and oct keys.
  const std::string& curve() const { return curve_; }
  bool is_private() const { return is_private_; }
  // RSA modulus size, EC field size or oct secret size, in bits.
  int bits() const { return bits_; }

  // True unless the key says it is for something other than signatures (`use` other than
  // "sig"). Keys without `use` are signature keys.
  bool is_signature_key() const { return use_.empty() || use_ == "sig"; }

  // The OpenSSL key; null for oct keys. Owned by this Jwk and its copies.
  EVP_PKEY* pkey() const { return pkey_.get(); }
  // The HMAC secret of an oct key; empty for other key types.
  std::span<const unsigned char> secret() const;

  // The JWK with every private member removed, for publishing; nullopt for oct keys,
  // which are secrets as a whole.
  std::optional<boost::json::object> to_public_json() const;
  // The JWK as it was parsed, private members included.
  const boost::json::object& json() const { return json_; }

 private:
  friend gh::Expected<Jwk, std::string> parse_jwk(const boost::json::object& object);

  KeyType type_ = KeyType::oct;
  std::string kid_;
  std::string use_;
  std::string alg_;
  std::string curve_;
  bool is_private_ = false;
  int bits_ = 0;
  std::shared_ptr<EVP_PKEY> pkey_;
  std::string secret_;
  boost::json::object json_;
};

// Parses one JWK. The error is a sentence naming the member that is missing or invalid.
gh::Expected<Jwk, std::string> parse_jwk(const boost::json::object& object);
gh::Expected<Jwk, std::string> parse_jwk(std::string_view json);

// A key the set parser left out, and why.
struct SkippedKey {
  std::size_t index = 0;  // position in the `keys` array
  std::string kid;        // empty when the entry had no usable kid
  std::string reason;
};

// A parsed JWKS. Keys that failed to parse are listed in skipped() instead of failing the
// whole set, so one bad key does not hide the good ones.
class JwkSet {
 public:
  JwkSet() = default;
  JwkSet(std::vector<Jwk> keys, std::vector<SkippedKey> skipped)
      : keys_(std::move(keys)), skipped_(std::move(skipped)) {}

  const std::vector<Jwk>& keys() const { return keys_; }
  const std::vector<SkippedKey>& skipped() const { return skipped_; }

  // Every key whose kid equals `kid` (several keys may share one, for example one per
  // algorithm).
  std::vector<const Jwk*> find_by_kid(std::string_view kid) const;

  // `{"keys": [...]}` with the public part of every asymmetric key; oct keys are left out.
  boost::json::object to_public_json() const;

 private:
  std::vector<Jwk> keys_;
  std::vector<SkippedKey> skipped_;
};

// Parses a JWKS document. Fails only when the document is too large, is not JSON, or is
// not an object with a `keys` array; bad entries are skipped and reported.
gh::Expected<JwkSet, std::string> parse_jwks(std::string_view json);

// Same as parse_jwks, for a document that is already parsed.
gh::Expected<JwkSet, std::string> jwks_from_json(const boost::json::value& value);

}  // namespace gh::jose
