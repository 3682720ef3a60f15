// Compact JWS verification and signing.
//
// Security notes:
// - The algorithm comes from the header, so it is trusted only after three checks: it is
//   one this file implements (never "none"), the caller allows it, and the key fits it.
//   The last check stops the classic confusion attack where an RSA public key is used as
//   an HMAC secret: RSA keys are never oct keys, so they never verify HS*.
// - ECDSA signatures in JWS are the fixed-size R||S concatenation; they are converted to
//   DER for OpenSSL only when their length is exactly right for the curve, so a P-256
//   signature presented as ES384 fails before any curve arithmetic.
// - HMAC tags are compared with CRYPTO_memcmp, in constant time.
#include "jose/jws.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <array>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "jose/base64url.h"
#include "jose/digest.h"
#include "jose/openssl_util.h"

namespace gh::jose {
namespace {

using detail::Owned;

enum class Family { rsa_pkcs1, rsa_pss, ecdsa, eddsa, hmac };

struct AlgorithmInfo {
  Algorithm alg;
  std::string_view name;
  Family family;
  const EVP_MD* (*digest)();  // null for EdDSA, which hashes internally
  std::string_view curve;     // JWK curve name for ECDSA and EdDSA
  std::size_t size;           // ECDSA: field bytes; HMAC: tag and minimum key bytes
};

constexpr int kMinRsaBits = 2048;  // RFC 7518 §3.3 and §3.5

const EVP_MD* no_digest() { return nullptr; }

constexpr AlgorithmInfo kAlgorithms[] = {
    {Algorithm::rs256, "RS256", Family::rsa_pkcs1, fetched_sha256, "", 0},
    {Algorithm::rs384, "RS384", Family::rsa_pkcs1, fetched_sha384, "", 0},
    {Algorithm::rs512, "RS512", Family::rsa_pkcs1, fetched_sha512, "", 0},
    {Algorithm::ps256, "PS256", Family::rsa_pss, fetched_sha256, "", 0},
    {Algorithm::ps384, "PS384", Family::rsa_pss, fetched_sha384, "", 0},
    {Algorithm::ps512, "PS512", Family::rsa_pss, fetched_sha512, "", 0},
    {Algorithm::es256, "ES256", Family::ecdsa, fetched_sha256, "P-256", 32},
    {Algorithm::es384, "ES384", Family::ecdsa, fetched_sha384, "P-384", 48},
    {Algorithm::es512, "ES512", Family::ecdsa, fetched_sha512, "P-521", 66},
    {Algorithm::eddsa, "EdDSA", Family::eddsa, no_digest, "Ed25519", 0},
    {Algorithm::hs256, "HS256", Family::hmac, fetched_sha256, "", 32},
    {Algorithm::hs384, "HS384", Family::hmac, fetched_sha384, "", 48},
    {Algorithm::hs512, "HS512", Family::hmac, fetched_sha512, "", 64},
};

const AlgorithmInfo& info(Algorithm alg) {
  for (const AlgorithmInfo& entry : kAlgorithms) {
    if (entry.alg == alg) return entry;
  }
  // Every enumerator has a row above.
  std::abort();
}

gh::Unexpected<VerifyError> fail(VerifyErrorCode code, std::string message) {
  return gh::Unexpected{VerifyError{code, std::move(message)}};
}

const unsigned char* bytes_of(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// Names shown in messages come from the token, so they are cut short.
std::string_view shorten(std::string_view text) { return text.substr(0, 64); }

// A compact JWS split into its parts.
struct Parsed {
  DecodedJws decoded;
  std::string_view signing_input;  // "header.payload", the bytes the signature covers
  std::string signature;
};

gh::Expected<void, VerifyError> check_header(const boost::json::object& header) {
  // No extension is implemented, so every critical extension is unknown (RFC 7515 §4.1.11).
  if (header.contains("crit")) {
    return fail(VerifyErrorCode::malformed, "header \"crit\" names extensions that are not supported");
  }
  // RFC 7797 unencoded payloads change what is signed; they are only valid with "crit",
  // but a lone "b64": false is rejected too rather than silently misread.
  if (const boost::json::value* b64 = header.if_contains("b64")) {
    if (!b64->is_bool() || !b64->get_bool()) {
      return fail(VerifyErrorCode::malformed, "header \"b64\" is not supported");
    }
  }
  return {};
}

gh::Expected<Parsed, VerifyError> parse_compact(std::string_view token) {
  if (token.size() > kMaxTokenBytes) {
    return fail(VerifyErrorCode::malformed,
                fmt::format("token is longer than {} bytes", kMaxTokenBytes));
  }
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return fail(VerifyErrorCode::malformed, "token is not three dot-separated segments");
  }

  std::optional<std::string> header_json = base64url_decode(token.substr(0, first_dot));
  std::optional<std::string> payload =
      base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1));
  std::optional<std::string> signature = base64url_decode(token.substr(second_dot + 1));
  if (!header_json || !payload || !signature) {
    return fail(VerifyErrorCode::malformed, "token segment is not valid unpadded base64url");
  }

  boost::system::error_code error;
  boost::json::value header = boost::json::parse(*header_json, error);
  if (error || !header.is_object()) {
    return fail(VerifyErrorCode::malformed, "token header is not a JSON object");
  }
  boost::json::object& fields = header.get_object();

  const boost::json::value* alg_value = fields.if_contains("alg");
  if (alg_value == nullptr || !alg_value->is_string()) {
    return fail(VerifyErrorCode::unsupported_algorithm, "token header has no \"alg\" string");
  }
  std::optional<Algorithm> alg = parse_algorithm(alg_value->get_string());
  if (!alg) {
    return fail(VerifyErrorCode::unsupported_algorithm,
                fmt::format("algorithm \"{}\" is not supported",
                            shorten(alg_value->get_string())));
  }

  std::string kid;
  if (const boost::json::value* kid_value = fields.if_contains("kid")) {
    if (!kid_value->is_string() || kid_value->get_string().size() > kMaxKidBytes) {
      return fail(VerifyErrorCode::malformed,
                  fmt::format("header \"kid\" must be a string of at most {} bytes",
                              kMaxKidBytes));
    }
    kid = std::string(kid_value->get_string());
  }

  gh::Expected<void, VerifyError> header_ok = check_header(fields);
  if (!header_ok) return gh::Unexpected{header_ok.error()};

  return Parsed{
      .decoded = DecodedJws{.alg = *alg,
                            .header = std::move(fields),
                            .payload = std::move(*payload),
                            .kid = std::move(kid)},
      .signing_input = token.substr(0, second_dot),
      .signature = std::move(*signature),
  };
}

// Converts a JWS ECDSA signature (R||S, each `field_bytes` long) to DER.
std::optional<std::string> raw_to_der(std::string_view raw, std::size_t field_bytes) {
  if (raw.size() != 2 * field_bytes) return std::nullopt;

  Owned<ECDSA_SIG> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(bytes_of(raw), static_cast<int>(field_bytes), nullptr);
  BIGNUM* s = BN_bin2bn(bytes_of(raw) + field_bytes, static_cast<int>(field_bytes), nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }

  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

// Converts an OpenSSL DER ECDSA signature to the JWS R||S form.
std::optional<std::string> der_to_raw(std::string_view der, std::size_t field_bytes) {
  const unsigned char* cursor = bytes_of(der);
  Owned<ECDSA_SIG> sig(d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size())));
  if (!sig) return std::nullopt;

  std::string out(2 * field_bytes, '\0');
  auto* buffer = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), buffer, static_cast<int>(field_bytes)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), buffer + field_bytes,
                   static_cast<int>(field_bytes)) < 0) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> hmac(const AlgorithmInfo& alg, const Jwk& key,
                                std::string_view data) {
  std::string tag(EVP_MAX_MD_SIZE, '\0');
  unsigned int length = 0;
  const std::span<const unsigned char> secret = key.secret();
  if (HMAC(alg.digest(), secret.data(), static_cast<int>(secret.size()), bytes_of(data),
           data.size(), reinterpret_cast<unsigned char*>(tag.data()), &length) == nullptr) {
    return std::nullopt;
  }
  tag.resize(length);
  return tag;
}

// Sets up `ctx` for signing or verifying with an asymmetric algorithm.
bool init_digest_context(EVP_MD_CTX* ctx, const AlgorithmInfo& alg, const Jwk& key,
                         bool signing) {
  EVP_PKEY_CTX* pkey_ctx = nullptr;
  const int ok = signing
                     ? EVP_DigestSignInit(ctx, &pkey_ctx, alg.digest(), nullptr, key.pkey())
                     : EVP_DigestVerifyInit(ctx, &pkey_ctx, alg.digest(), nullptr, key.pkey());
  if (ok != 1) return false;
  if (alg.family == Family::rsa_pss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
    return EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) == 1;
  }
  return true;
}

// A public-key context set up for verifying one algorithm with one key. The
// EVP_PKEY_verify(3) manual allows more than one verification on a context with the same
// parameters, so each worker thread keeps a few of them instead of setting one up (and
// looking up the algorithm's implementation) for every token. The context holds a reference to its key, so
// a cached key pointer cannot be reused by another key while its slot exists.
struct VerifyContext {
  const EVP_PKEY* key = nullptr;
  Algorithm alg = Algorithm::rs256;
  Owned<EVP_PKEY_CTX> context;
};

// Contexts per thread. A key set rarely has more live signing keys than this. Beyond it,
// slots are reused in turn, which only costs a fresh set-up.
constexpr std::size_t kVerifyContextsPerThread = 8;

Owned<EVP_PKEY_CTX> new_verify_context(const AlgorithmInfo& alg, const Jwk& key) {
  Owned<EVP_PKEY_CTX> context(EVP_PKEY_CTX_new_from_pkey(nullptr, key.pkey(), nullptr));
  if (!context || EVP_PKEY_verify_init(context.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(context.get(), alg.digest()) != 1) {
    return nullptr;
  }
  if (alg.family == Family::rsa_pss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash output.
    if (EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(context.get(), RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(context.get(), alg.digest()) != 1) {
      return nullptr;
    }
  } else if (alg.family == Family::rsa_pkcs1) {
    if (EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_PADDING) != 1) return nullptr;
  }
  return context;
}

// Returns this thread's verification context for `key` and `alg`, created when needed, or
// null when OpenSSL cannot set one up.
EVP_PKEY_CTX* verify_context(const AlgorithmInfo& alg, const Jwk& key) {
  thread_local std::array<VerifyContext, kVerifyContextsPerThread> slots;
  thread_local std::size_t next_slot = 0;
  for (VerifyContext& slot : slots) {
    if (slot.context && slot.key == key.pkey() && slot.alg == alg.alg) return slot.context.get();
  }
  Owned<EVP_PKEY_CTX> created = new_verify_context(alg, key);
  if (!created) return nullptr;
  VerifyContext& slot = slots[next_slot];
  next_slot = (next_slot + 1) % slots.size();
  slot = VerifyContext{key.pkey(), alg.alg, std::move(created)};
  return slot.context.get();
}

// Hashes `data` with the algorithm's digest into `digest` and returns the digest length, or 0
// when hashing fails.
unsigned int hash_input(const AlgorithmInfo& alg, std::string_view data,
                        std::array<unsigned char, EVP_MAX_MD_SIZE>& digest) {
  thread_local Owned<EVP_MD_CTX> context(EVP_MD_CTX_new());
  unsigned int length = 0;
  if (!context || EVP_DigestInit_ex2(context.get(), alg.digest(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &length) != 1) {
    return 0;
  }
  return length;
}

// RSA and ECDSA: hash here, then check the signature over the hash with a cached context.
bool verify_hashed(const AlgorithmInfo& alg, const Jwk& key, std::string_view data,
                   std::string_view signature) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  const unsigned int length = hash_input(alg, data, digest);
  EVP_PKEY_CTX* context = length == 0 ? nullptr : verify_context(alg, key);
  return context != nullptr &&
         EVP_PKEY_verify(context, bytes_of(signature), signature.size(), digest.data(), length) == 1;
}

// EdDSA signs the message itself rather than a hash of it, so it goes through the one-shot
// digest-verify interface.
bool verify_eddsa(const AlgorithmInfo& alg, const Jwk& key, std::string_view data,
                  std::string_view signature) {
  Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
  return ctx && init_digest_context(ctx.get(), alg, key, false) &&
         EVP_DigestVerify(ctx.get(), bytes_of(signature), signature.size(), bytes_of(data),
                          data.size()) == 1;
}

bool verify_signature(const AlgorithmInfo& alg, const Jwk& key, std::string_view data,
                      std::string_view signature) {
  if (alg.family == Family::hmac) {
    std::optional<std::string> expected = hmac(alg, key, data);
    return expected && expected->size() == signature.size() &&
           CRYPTO_memcmp(expected->data(), signature.data(), signature.size()) == 0;
  }

  std::string der;
  if (alg.family == Family::ecdsa) {
    std::optional<std::string> converted = raw_to_der(signature, alg.size);
    if (!converted) return false;
    der = std::move(*converted);
    signature = der;
  }

  const bool ok = alg.family == Family::eddsa ? verify_eddsa(alg, key, data, signature)
                                              : verify_hashed(alg, key, data, signature);
  // A failed verification leaves entries on this thread's error queue; drop them.
  if (!ok) ERR_clear_error();
  return ok;
}

gh::Expected<void, VerifyError> check_allowed(Algorithm alg, std::span<const Algorithm> allowed) {
  for (Algorithm entry : allowed) {
    if (entry == alg) return {};
  }
  return fail(VerifyErrorCode::algorithm_not_allowed,
              fmt::format("algorithm {} is not in the allowed list", info(alg).name));
}

gh::Expected<DecodedJws, VerifyError> verify_with_candidates(
    Parsed parsed, std::span<const Jwk* const> candidates) {
  const AlgorithmInfo& alg = info(parsed.decoded.alg);
  for (const Jwk* key : candidates) {
    if (verify_signature(alg, *key, parsed.signing_input, parsed.signature)) {
      return std::move(parsed.decoded);
    }
  }
  return fail(VerifyErrorCode::bad_signature,
              fmt::format("{} signature does not verify", alg.name));
}

}  // namespace

std::optional<Algorithm> parse_algorithm(std::string_view name) {
  for (const AlgorithmInfo& entry : kAlgorithms) {
    if (entry.name == name) return entry.alg;
  }
  return std::nullopt;
}

std::string_view algorithm_name(Algorithm alg) { return info(alg).name; }

std::string_view to_string(VerifyErrorCode code) {
  switch (code) {
    case VerifyErrorCode::malformed: return "malformed";
    case VerifyErrorCode::unsupported_algorithm: return "unsupported_algorithm";
    case VerifyErrorCode::algorithm_not_allowed: return "algorithm_not_allowed";
    case VerifyErrorCode::key_not_found: return "key_not_found";
    case VerifyErrorCode::key_type_mismatch: return "key_type_mismatch";
    case VerifyErrorCode::bad_signature: return "bad_signature";
  }
  return "unknown";
}

gh::Expected<void, std::string> check_key_fits(const Jwk& key, Algorithm alg) {
  const AlgorithmInfo& entry = info(alg);
  if (!key.alg().empty() && key.alg() != entry.name) {
    return gh::Unexpected{fmt::format("key is for algorithm \"{}\", not {}",
                                      shorten(key.alg()), entry.name)};
  }
  switch (entry.family) {
    case Family::rsa_pkcs1:
    case Family::rsa_pss:
      if (key.type() != KeyType::rsa) return gh::Unexpected{fmt::format("{} needs an RSA key", entry.name)};
      if (key.bits() < kMinRsaBits) {
        return gh::Unexpected{fmt::format("{} needs an RSA key of at least {} bits, not {}",
                                          entry.name, kMinRsaBits, key.bits())};
      }
      return {};
    case Family::ecdsa:
    case Family::eddsa:
      if (key.curve() != entry.curve ||
          key.type() != (entry.family == Family::ecdsa ? KeyType::ec : KeyType::okp)) {
        return gh::Unexpected{fmt::format("{} needs a {} key", entry.name, entry.curve)};
      }
      return {};
    case Family::hmac:
      if (key.type() != KeyType::oct) return gh::Unexpected{fmt::format("{} needs an oct key", entry.name)};
      if (key.secret().size() < entry.size) {
        return gh::Unexpected{fmt::format("{} needs a secret of at least {} bytes, not {}",
                                          entry.name, entry.size, key.secret().size())};
      }
      return {};
  }
  return gh::Unexpected{std::string("unknown algorithm")};
}

gh::Expected<DecodedJws, VerifyError> decode_unverified(std::string_view token) {
  gh::Expected<Parsed, VerifyError> parsed = parse_compact(token);
  if (!parsed) return gh::Unexpected{parsed.error()};
  return std::move(parsed->decoded);
}

gh::Expected<DecodedJws, VerifyError> verify(std::string_view token, const JwkSet& keys,
                                             std::span<const Algorithm> allowed) {
  gh::Expected<Parsed, VerifyError> parsed = parse_compact(token);
  if (!parsed) return gh::Unexpected{parsed.error()};
  const Algorithm alg = parsed->decoded.alg;
  gh::Expected<void, VerifyError> is_allowed = check_allowed(alg, allowed);
  if (!is_allowed) return gh::Unexpected{is_allowed.error()};

  const std::string& kid = parsed->decoded.kid;
  std::vector<const Jwk*> candidates;
  std::string mismatch;
  bool kid_seen = false;
  for (const Jwk& key : keys.keys()) {
    if (!key.is_signature_key() || (!kid.empty() && key.kid() != kid)) continue;
    kid_seen = true;
    gh::Expected<void, std::string> fits = check_key_fits(key, alg);
    if (fits) {
      candidates.push_back(&key);
    } else if (mismatch.empty()) {
      mismatch = fits.error();
    }
  }

  if (candidates.empty() && !kid.empty() && kid_seen) {
    return fail(VerifyErrorCode::key_type_mismatch,
                fmt::format("key \"{}\" does not fit: {}", shorten(kid), mismatch));
  }
  if (candidates.empty()) {
    return fail(VerifyErrorCode::key_not_found,
                kid.empty() ? fmt::format("no signature key fits {}", algorithm_name(alg))
                            : fmt::format("no signature key with kid \"{}\"", shorten(kid)));
  }
  return verify_with_candidates(std::move(*parsed), candidates);
}

gh::Expected<DecodedJws, VerifyError> verify(std::string_view token, const Jwk& key,
                                             std::span<const Algorithm> allowed) {
  gh::Expected<Parsed, VerifyError> parsed = parse_compact(token);
  if (!parsed) return gh::Unexpected{parsed.error()};
  gh::Expected<void, VerifyError> is_allowed = check_allowed(parsed->decoded.alg, allowed);
  if (!is_allowed) return gh::Unexpected{is_allowed.error()};

  if (!key.is_signature_key()) {
    return fail(VerifyErrorCode::key_not_found, "key is not a signature key");
  }
  gh::Expected<void, std::string> fits = check_key_fits(key, parsed->decoded.alg);
  if (!fits) return fail(VerifyErrorCode::key_type_mismatch, fits.error());

  const Jwk* candidates[] = {&key};
  return verify_with_candidates(std::move(*parsed), candidates);
}

gh::Expected<std::string, std::string> sign(std::string_view payload, const Jwk& key,
                                            const SignOptions& options) {
  const AlgorithmInfo& alg = info(options.alg);
  gh::Expected<void, std::string> fits = check_key_fits(key, options.alg);
  if (!fits) return gh::Unexpected{fits.error()};
  if (!key.is_private()) return gh::Unexpected{std::string("signing needs a private key")};

  boost::json::object header{{"alg", alg.name}};
  const std::string& kid = options.kid ? *options.kid : key.kid();
  if (!kid.empty()) header["kid"] = kid;
  if (options.typ) header["typ"] = *options.typ;

  const std::string signing_input =
      base64url_encode(boost::json::serialize(header)) + "." + base64url_encode(payload);

  std::optional<std::string> signature;
  if (alg.family == Family::hmac) {
    signature = hmac(alg, key, signing_input);
  } else {
    Owned<EVP_MD_CTX> ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    std::string out;
    if (ctx && init_digest_context(ctx.get(), alg, key, true) &&
        EVP_DigestSign(ctx.get(), nullptr, &length, bytes_of(signing_input),
                       signing_input.size()) == 1) {
      out.resize(length);
      if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &length,
                         bytes_of(signing_input), signing_input.size()) == 1) {
        out.resize(length);
        signature = alg.family == Family::ecdsa ? der_to_raw(out, alg.size) : std::move(out);
      }
    }
  }
  if (!signature) {
    return gh::Unexpected{fmt::format("{} signing failed: {}", alg.name,
                                      detail::take_openssl_error())};
  }
  return signing_input + "." + base64url_encode(*signature);
}

}  // namespace gh::jose
