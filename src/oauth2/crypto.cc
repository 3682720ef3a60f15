#include "oauth2/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "jose/base64url.h"

namespace gh::oauth2 {
namespace {

constexpr std::string_view kPbkdf2Prefix = "$pbkdf2-sha256$";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kDerivedKeyBytes = 32;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
// Upper bound on the iteration count read from a stored hash, so a corrupted or hostile row
// cannot make one check take minutes.
constexpr long kMaxPbkdf2Iterations = 10'000'000;

std::string pbkdf2(std::string_view secret, std::string_view salt, int iterations, std::size_t size) {
  std::string out(size, '\0');
  int ok = PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                             reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                             iterations, EVP_sha256(), static_cast<int>(size),
                             reinterpret_cast<unsigned char*>(out.data()));
  if (ok != 1) throw std::runtime_error("PBKDF2 failed");
  return out;
}

struct CipherFree {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherFree>;

unsigned char* bytes(std::string& text) { return reinterpret_cast<unsigned char*>(text.data()); }
const unsigned char* bytes(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

}  // namespace

std::string random_bytes(std::size_t size) {
  std::string out(size, '\0');
  if (RAND_bytes(bytes(out), static_cast<int>(size)) != 1) throw std::runtime_error("RAND_bytes failed");
  return out;
}

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  if (EVP_Digest(data.data(), data.size(), bytes(out), nullptr, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::string digest = sha256(data);
  std::string hex;
  hex.reserve(digest.size() * 2);
  for (unsigned char c : digest) hex += fmt::format("{:02x}", c);
  return hex;
}

std::string hmac_sha512_256(std::string_view key, std::string_view data) {
  std::string out(32, '\0');
  std::size_t written = 0;
  const unsigned char* result = EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA512-256", nullptr, key.data(), key.size(),
                                          bytes(data), data.size(), bytes(out), out.size(), &written);
  if (!result || written != out.size()) throw std::runtime_error("HMAC-SHA-512/256 failed");
  return out;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hash_secret(std::string_view secret, int iterations) {
  std::string salt = random_bytes(kSaltBytes);
  std::string derived = pbkdf2(secret, salt, iterations, kDerivedKeyBytes);
  return fmt::format("{}i={},l={}${}${}", kPbkdf2Prefix, iterations, kDerivedKeyBytes, jose::base64_encode(salt, jose::Padding::without),
                     jose::base64_encode(derived, jose::Padding::without));
}

bool verify_secret(std::string_view secret, std::string_view encoded_hash) {
  // Layout: $pbkdf2-sha256$i=<n>,l=<len>$<salt>$<hash>
  if (!encoded_hash.starts_with(kPbkdf2Prefix)) return false;
  std::string_view rest = encoded_hash.substr(kPbkdf2Prefix.size());
  std::size_t first = rest.find('$');
  if (first == std::string_view::npos) return false;
  std::string_view parameters = rest.substr(0, first);
  std::string_view encoded = rest.substr(first + 1);
  std::size_t second = encoded.find('$');
  if (second == std::string_view::npos) return false;

  long iterations = 0;
  long length = 0;
  if (!parameters.starts_with("i=")) return false;
  std::size_t comma = parameters.find(",l=");
  if (comma == std::string_view::npos) return false;
  auto parse = [](std::string_view text, long& value) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
  };
  if (!parse(parameters.substr(2, comma - 2), iterations) || !parse(parameters.substr(comma + 3), length)) return false;
  if (iterations < 1 || iterations > kMaxPbkdf2Iterations || length < 16 || length > 64) return false;

  std::optional<std::string> salt = jose::base64_decode(encoded.substr(0, second));
  std::optional<std::string> expected = jose::base64_decode(encoded.substr(second + 1));
  if (!salt || !expected || expected->size() != static_cast<std::size_t>(length)) return false;
  std::string derived = pbkdf2(secret, *salt, static_cast<int>(iterations), static_cast<std::size_t>(length));
  return constant_time_equals(derived, *expected);
}

std::string seal(std::string_view secret, std::string_view plaintext) {
  std::string key = sha256(secret);
  std::string nonce = random_bytes(kNonceBytes);
  std::string ciphertext(plaintext.size(), '\0');
  std::string tag(kTagBytes, '\0');

  CipherContext context(EVP_CIPHER_CTX_new());
  int written = 0;
  bool ok = context && EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) == 1 &&
            EVP_EncryptUpdate(context.get(), bytes(ciphertext), &written, bytes(plaintext),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(context.get(), bytes(ciphertext) + written, &written) == 1 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag.data()) == 1;
  if (!ok) throw std::runtime_error("AES-256-GCM encryption failed");
  return jose::base64url_encode(nonce + ciphertext + tag);
}

std::optional<std::string> open_sealed(std::string_view secret, std::string_view sealed) {
  std::optional<std::string> raw = jose::base64url_decode(sealed);
  if (!raw || raw->size() < kNonceBytes + kTagBytes) return std::nullopt;
  std::string key = sha256(secret);
  std::string_view view(*raw);
  std::string_view nonce = view.substr(0, kNonceBytes);
  std::string_view ciphertext = view.substr(kNonceBytes, view.size() - kNonceBytes - kTagBytes);
  std::string tag(view.substr(view.size() - kTagBytes));
  std::string plaintext(ciphertext.size(), '\0');

  CipherContext context(EVP_CIPHER_CTX_new());
  int written = 0;
  bool ok = context && EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, bytes(key), bytes(nonce)) == 1 &&
            EVP_DecryptUpdate(context.get(), bytes(plaintext), &written, bytes(ciphertext),
                              static_cast<int>(ciphertext.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()) == 1 &&
            EVP_DecryptFinal_ex(context.get(), bytes(plaintext) + written, &written) == 1;
  if (!ok) return std::nullopt;
  return plaintext;
}

}  // namespace gh::oauth2
