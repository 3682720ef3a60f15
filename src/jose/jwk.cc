// JWK parsing. Each key type has one builder that decodes its members, checks their sizes
// and hands them to EVP_PKEY_fromdata; OpenSSL then validates the key (an EC point must lie
// on its curve, an RSA modulus must be odd) before the key is accepted.
#include "jose/jwk.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <array>
#include <deque>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "jose/base64url.h"
#include "jose/openssl_util.h"

namespace gh::jose {
namespace {

using detail::Owned;

template <typename T>
using Result = gh::Expected<T, std::string>;

// Modulus sizes above this make every verification expensive (RSA public operations grow
// with the square of the modulus size) and no deployed issuer uses them.
constexpr int kMaxRsaBits = 8192;

// An exponent above 64 bits slows verification and has no legitimate use (65537 is standard).
constexpr std::size_t kMaxRsaExponentBytes = 8;

constexpr std::array kPrivateMembers = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

struct Curve {
  std::string_view jwk_name;
  const char* openssl_name;
  std::size_t field_bytes;
};

constexpr std::array kCurves = {
    Curve{"P-256", "prime256v1", 32},
    Curve{"P-384", "secp384r1", 48},
    Curve{"P-521", "secp521r1", 66},
};

constexpr std::size_t kEd25519KeyBytes = 32;

// Reads an optional string member. Absent → empty string; present but not a string → error.
Result<std::string> optional_string(const boost::json::object& object, std::string_view name) {
  const boost::json::value* value = object.if_contains(name);
  if (value == nullptr) {
    return std::string();
  }
  if (!value->is_string()) {
    return gh::Unexpected{fmt::format("member \"{}\" must be a string", name)};
  }
  return std::string(value->get_string());
}

// Reads a required base64url member and decodes it.
Result<std::string> required_bytes(const boost::json::object& object, std::string_view name) {
  const boost::json::value* value = object.if_contains(name);
  if (value == nullptr) {
    return gh::Unexpected{fmt::format("member \"{}\" is missing", name)};
  }
  if (!value->is_string()) {
    return gh::Unexpected{fmt::format("member \"{}\" must be a base64url string", name)};
  }
  std::optional<std::string> bytes = base64url_decode(value->get_string());
  if (!bytes) {
    return gh::Unexpected{fmt::format("member \"{}\" is not valid unpadded base64url", name)};
  }
  if (bytes->empty()) {
    return gh::Unexpected{fmt::format("member \"{}\" is empty", name)};
  }
  return std::move(*bytes);
}

Owned<BIGNUM> to_bignum(const std::string& bytes) {
  return Owned<BIGNUM>(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                                 static_cast<int>(bytes.size()), nullptr));
}

// The key material collected by a builder, in the form EVP_PKEY_fromdata takes.
class ParamList {
 public:
  ParamList() : builder_(OSSL_PARAM_BLD_new()) {}

  void push_utf8(const char* key, const char* text) {
    ok_ = ok_ && OSSL_PARAM_BLD_push_utf8_string(builder_.get(), key, text, 0) == 1;
  }
  void push_octets(const char* key, std::string bytes) {
    // Like BIGNUMs, octet strings are referenced, not copied, until to_param().
    const std::string& kept = octets_.emplace_back(std::move(bytes));
    ok_ = ok_ &&
          OSSL_PARAM_BLD_push_octet_string(builder_.get(), key, kept.data(), kept.size()) == 1;
  }
  void push_bignum(const char* key, const std::string& bytes) {
    Owned<BIGNUM> number = to_bignum(bytes);
    ok_ = ok_ && number && OSSL_PARAM_BLD_push_BN(builder_.get(), key, number.get()) == 1;
    // The builder refers to the BIGNUM until to_param(), so keep it alive until then.
    bignums_.push_back(std::move(number));
  }

  // Builds the key. `selection` is EVP_PKEY_PUBLIC_KEY or EVP_PKEY_KEYPAIR.
  Result<std::shared_ptr<EVP_PKEY>> build(const char* algorithm, int selection) {
    if (!ok_ || !builder_) {
      return gh::Unexpected{"could not collect key parameters: " + detail::take_openssl_error()};
    }
    Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(builder_.get()));
    Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr));
    EVP_PKEY* pkey = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params.get()) != 1) {
      return gh::Unexpected{"invalid key: " + detail::take_openssl_error()};
    }
    return detail::share_pkey(pkey);
  }

 private:
  Owned<OSSL_PARAM_BLD> builder_;
  std::vector<Owned<BIGNUM>> bignums_;
  std::deque<std::string> octets_;  // a deque, so earlier entries never move
  bool ok_ = true;
};

// Runs OpenSSL's public-key check (for EC: the point lies on the curve and is not the
// point at infinity) and, for private keys, the check that the halves belong together.
Result<void> check_key(EVP_PKEY* pkey, bool is_private) {
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
    return gh::Unexpected{"public key check failed: " + detail::take_openssl_error()};
  }
  if (is_private && EVP_PKEY_pairwise_check(ctx.get()) != 1) {
    return gh::Unexpected{"private key does not match the public key: " +
                          detail::take_openssl_error()};
  }
  return {};
}

bool has_any(const boost::json::object& object, std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (object.contains(name)) {
      return true;
    }
  }
  return false;
}

Result<void> build_rsa(const boost::json::object& object, std::shared_ptr<EVP_PKEY>& pkey,
                       bool& is_private) {
  Result<std::string> n = required_bytes(object, "n");
  if (!n) return gh::Unexpected{n.error()};
  Result<std::string> e = required_bytes(object, "e");
  if (!e) return gh::Unexpected{e.error()};
  if (e->size() > kMaxRsaExponentBytes) {
    return gh::Unexpected{std::string("member \"e\" is longer than 64 bits")};
  }
  if (object.contains("oth")) {
    return gh::Unexpected{std::string("multi-prime RSA keys (member \"oth\") are not supported")};
  }

  ParamList params;
  params.push_bignum(OSSL_PKEY_PARAM_RSA_N, *n);
  params.push_bignum(OSSL_PKEY_PARAM_RSA_E, *e);

  is_private = object.contains("d");
  if (is_private) {
    Result<std::string> d = required_bytes(object, "d");
    if (!d) return gh::Unexpected{d.error()};
    params.push_bignum(OSSL_PKEY_PARAM_RSA_D, *d);

    // RFC 7518 §6.3.2: the CRT members come all together or not at all.
    constexpr std::array<std::pair<const char*, const char*>, 5> kCrt = {{
        {"p", OSSL_PKEY_PARAM_RSA_FACTOR1},
        {"q", OSSL_PKEY_PARAM_RSA_FACTOR2},
        {"dp", OSSL_PKEY_PARAM_RSA_EXPONENT1},
        {"dq", OSSL_PKEY_PARAM_RSA_EXPONENT2},
        {"qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
    }};
    if (has_any(object, {"p", "q", "dp", "dq", "qi"})) {
      for (const auto& [member, param] : kCrt) {
        Result<std::string> value = required_bytes(object, member);
        if (!value) return gh::Unexpected{value.error()};
        params.push_bignum(param, *value);
      }
    }
  }

  Result<std::shared_ptr<EVP_PKEY>> built =
      params.build("RSA", is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  if (!built) return gh::Unexpected{built.error()};
  if (EVP_PKEY_get_bits(built->get()) > kMaxRsaBits) {
    return gh::Unexpected{fmt::format("RSA modulus is larger than {} bits", kMaxRsaBits)};
  }
  // RSA private keys are not pair-checked: OpenSSL's check is slow (primality tests), and
  // a mismatched private key only produces signatures that fail to verify.
  Result<void> checked = check_key(built->get(), false);
  if (!checked) return checked;
  pkey = std::move(*built);
  return {};
}

Result<void> build_ec(const boost::json::object& object, std::string& curve_name,
                      std::shared_ptr<EVP_PKEY>& pkey, bool& is_private) {
  Result<std::string> crv = optional_string(object, "crv");
  if (!crv) return gh::Unexpected{crv.error()};
  const Curve* curve = nullptr;
  for (const Curve& candidate : kCurves) {
    if (candidate.jwk_name == *crv) curve = &candidate;
  }
  if (curve == nullptr) {
    return gh::Unexpected{fmt::format(
        "member \"crv\" must be \"P-256\", \"P-384\" or \"P-521\" for kty \"EC\", not \"{}\"",
        crv->substr(0, 32))};
  }

  Result<std::string> x = required_bytes(object, "x");
  if (!x) return gh::Unexpected{x.error()};
  Result<std::string> y = required_bytes(object, "y");
  if (!y) return gh::Unexpected{y.error()};
  // RFC 7518 §6.2.1.2: coordinates are encoded at the full field size.
  if (x->size() != curve->field_bytes || y->size() != curve->field_bytes) {
    return gh::Unexpected{fmt::format("members \"x\" and \"y\" must be {} bytes each for {}",
                                      curve->field_bytes, curve->jwk_name)};
  }

  ParamList params;
  params.push_utf8(OSSL_PKEY_PARAM_GROUP_NAME, curve->openssl_name);
  params.push_octets(OSSL_PKEY_PARAM_PUB_KEY, "\x04" + *x + *y);  // uncompressed point

  is_private = object.contains("d");
  if (is_private) {
    Result<std::string> d = required_bytes(object, "d");
    if (!d) return gh::Unexpected{d.error()};
    if (d->size() != curve->field_bytes) {
      return gh::Unexpected{fmt::format("member \"d\" must be {} bytes for {}",
                                        curve->field_bytes, curve->jwk_name)};
    }
    params.push_bignum(OSSL_PKEY_PARAM_PRIV_KEY, *d);
  }

  Result<std::shared_ptr<EVP_PKEY>> built =
      params.build("EC", is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  if (!built) return gh::Unexpected{built.error()};
  Result<void> checked = check_key(built->get(), is_private);
  if (!checked) return checked;
  curve_name = std::string(curve->jwk_name);
  pkey = std::move(*built);
  return {};
}

Result<std::string> raw_public_key(EVP_PKEY* pkey) {
  std::string out(kEd25519KeyBytes, '\0');
  std::size_t length = 0;
  if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY,
                                      reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                      &length) != 1 ||
      length != kEd25519KeyBytes) {
    return gh::Unexpected{"could not read the Ed25519 public key: " +
                          detail::take_openssl_error()};
  }
  return out;
}

Result<void> build_okp(const boost::json::object& object, std::string& curve_name,
                       std::shared_ptr<EVP_PKEY>& pkey, bool& is_private) {
  Result<std::string> crv = optional_string(object, "crv");
  if (!crv) return gh::Unexpected{crv.error()};
  if (*crv != "Ed25519") {
    return gh::Unexpected{fmt::format("member \"crv\" must be \"Ed25519\" for kty \"OKP\", not \"{}\"",
                                      crv->substr(0, 32))};
  }
  Result<std::string> x = required_bytes(object, "x");
  if (!x) return gh::Unexpected{x.error()};
  if (x->size() != kEd25519KeyBytes) {
    return gh::Unexpected{std::string("member \"x\" must be 32 bytes for Ed25519")};
  }

  ParamList params;
  is_private = object.contains("d");
  if (is_private) {
    Result<std::string> d = required_bytes(object, "d");
    if (!d) return gh::Unexpected{d.error()};
    if (d->size() != kEd25519KeyBytes) {
      return gh::Unexpected{std::string("member \"d\" must be 32 bytes for Ed25519")};
    }
    // Only the private half goes in: OpenSSL derives the public half, which is then
    // compared with "x" (it would otherwise accept a mismatched pair silently).
    params.push_octets(OSSL_PKEY_PARAM_PRIV_KEY, *d);
  } else {
    params.push_octets(OSSL_PKEY_PARAM_PUB_KEY, *x);
  }

  Result<std::shared_ptr<EVP_PKEY>> built =
      params.build("ED25519", is_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  if (!built) return gh::Unexpected{built.error()};
  if (is_private) {
    Result<std::string> derived = raw_public_key(built->get());
    if (!derived) return gh::Unexpected{derived.error()};
    if (*derived != *x) {
      return gh::Unexpected{std::string("private key does not match the public key \"x\"")};
    }
  }
  curve_name = "Ed25519";
  pkey = std::move(*built);
  return {};
}

std::optional<KeyType> parse_key_type(std::string_view kty) {
  if (kty == "RSA") return KeyType::rsa;
  if (kty == "EC") return KeyType::ec;
  if (kty == "OKP") return KeyType::okp;
  if (kty == "oct") return KeyType::oct;
  return std::nullopt;
}

}  // namespace

std::span<const unsigned char> Jwk::secret() const {
  return {reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size()};
}

std::optional<boost::json::object> Jwk::to_public_json() const {
  if (type_ == KeyType::oct) {
    return std::nullopt;
  }
  boost::json::object out = json_;
  for (const char* member : kPrivateMembers) {
    out.erase(member);
  }
  return out;
}

gh::Expected<Jwk, std::string> parse_jwk(const boost::json::object& object) {
  Result<std::string> kty = optional_string(object, "kty");
  if (!kty) return gh::Unexpected{kty.error()};
  if (kty->empty()) return gh::Unexpected{std::string("member \"kty\" is missing")};
  std::optional<KeyType> type = parse_key_type(*kty);
  if (!type) {
    return gh::Unexpected{fmt::format(
        "member \"kty\" must be \"RSA\", \"EC\", \"OKP\" or \"oct\", not \"{}\"",
        kty->substr(0, 32))};
  }

  Jwk key;
  key.type_ = *type;
  for (auto [member, field] : {std::pair{"kid", &key.kid_}, std::pair{"use", &key.use_},
                               std::pair{"alg", &key.alg_}}) {
    Result<std::string> value = optional_string(object, member);
    if (!value) return gh::Unexpected{value.error()};
    *field = std::move(*value);
  }
  if (key.kid_.size() > kMaxKidBytes) {
    return gh::Unexpected{fmt::format("member \"kid\" is longer than {} bytes", kMaxKidBytes)};
  }

  Result<void> built;
  switch (key.type_) {
    case KeyType::rsa:
      built = build_rsa(object, key.pkey_, key.is_private_);
      break;
    case KeyType::ec:
      built = build_ec(object, key.curve_, key.pkey_, key.is_private_);
      break;
    case KeyType::okp:
      built = build_okp(object, key.curve_, key.pkey_, key.is_private_);
      break;
    case KeyType::oct: {
      Result<std::string> secret = required_bytes(object, "k");
      if (!secret) return gh::Unexpected{secret.error()};
      key.secret_ = std::move(*secret);
      key.is_private_ = true;
      key.bits_ = static_cast<int>(key.secret_.size() * 8);
      break;
    }
  }
  if (!built) return gh::Unexpected{built.error()};
  if (key.pkey_) {
    key.bits_ = EVP_PKEY_get_bits(key.pkey_.get());
  }
  key.json_ = object;
  return key;
}

gh::Expected<Jwk, std::string> parse_jwk(std::string_view json) {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(json, error);
  if (error) return gh::Unexpected{"JWK is not valid JSON: " + error.message()};
  if (!value.is_object()) return gh::Unexpected{std::string("JWK is not a JSON object")};
  return parse_jwk(value.get_object());
}

std::vector<const Jwk*> JwkSet::find_by_kid(std::string_view kid) const {
  std::vector<const Jwk*> found;
  for (const Jwk& key : keys_) {
    if (key.kid() == kid) found.push_back(&key);
  }
  return found;
}

boost::json::object JwkSet::to_public_json() const {
  boost::json::array keys;
  for (const Jwk& key : keys_) {
    if (std::optional<boost::json::object> public_key = key.to_public_json()) {
      keys.emplace_back(std::move(*public_key));
    }
  }
  return boost::json::object{{"keys", std::move(keys)}};
}

gh::Expected<JwkSet, std::string> parse_jwks(std::string_view json) {
  if (json.size() > kMaxJwksBytes) {
    return gh::Unexpected{fmt::format("JWKS is larger than {} bytes", kMaxJwksBytes)};
  }
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(json, error);
  if (error) return gh::Unexpected{"JWKS is not valid JSON: " + error.message()};
  return jwks_from_json(value);
}

gh::Expected<JwkSet, std::string> jwks_from_json(const boost::json::value& value) {
  const boost::json::object* object = value.if_object();
  const boost::json::value* keys = object ? object->if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    return gh::Unexpected{std::string("JWKS must be a JSON object with a \"keys\" array")};
  }

  std::vector<Jwk> parsed;
  std::vector<SkippedKey> skipped;
  const boost::json::array& entries = keys->get_array();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    SkippedKey skip{.index = i, .kid = {}, .reason = {}};
    const boost::json::object* entry = entries[i].if_object();
    if (entry == nullptr) {
      skip.reason = "entry is not a JSON object";
      skipped.push_back(std::move(skip));
      continue;
    }
    gh::Expected<Jwk, std::string> key = parse_jwk(*entry);
    if (key) {
      parsed.push_back(std::move(*key));
      continue;
    }
    const boost::json::value* kid = entry->if_contains("kid");
    if (kid != nullptr && kid->is_string() && kid->get_string().size() <= kMaxKidBytes) {
      skip.kid = std::string(kid->get_string());
    }
    skip.reason = key.error();
    skipped.push_back(std::move(skip));
  }
  return JwkSet(std::move(parsed), std::move(skipped));
}

}  // namespace gh::jose
