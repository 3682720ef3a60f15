#include "jose/digest.h"

#include <openssl/evp.h>

#include <memory>

namespace gh::jose {
namespace {

// Fetched once and kept until the process exits, like OpenSSL's own tables.
const EVP_MD* fetch_or_builtin(const char* name, const EVP_MD* builtin) {
  EVP_MD* fetched = EVP_MD_fetch(nullptr, name, nullptr);
  return fetched != nullptr ? fetched : builtin;
}

struct MdContextFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

}  // namespace

const EVP_MD* fetched_sha256() {
  static const EVP_MD* const md = fetch_or_builtin("SHA256", EVP_sha256());
  return md;
}

const EVP_MD* fetched_sha384() {
  static const EVP_MD* const md = fetch_or_builtin("SHA384", EVP_sha384());
  return md;
}

const EVP_MD* fetched_sha512() {
  static const EVP_MD* const md = fetch_or_builtin("SHA512", EVP_sha512());
  return md;
}

std::optional<Sha256Digest> sha256_digest(std::string_view data) {
  // One context per thread, reset by each EVP_DigestInit_ex2, so hashing allocates nothing.
  thread_local std::unique_ptr<EVP_MD_CTX, MdContextFree> context(EVP_MD_CTX_new());
  Sha256Digest digest;
  auto* bytes = reinterpret_cast<unsigned char*>(digest.data());
  unsigned int length = 0;
  if (!context || EVP_DigestInit_ex2(context.get(), fetched_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), bytes, &length) != 1) {
    // Only an allocation failure inside OpenSSL gets here, so the one-shot call is tried.
    length = 0;
    if (EVP_Digest(data.data(), data.size(), bytes, &length, EVP_sha256(), nullptr) != 1) return std::nullopt;
  }
  if (length != digest.size()) return std::nullopt;
  return digest;
}

std::string sha256(std::string_view data) {
  // Returns an empty string when hashing fails.
  const std::optional<Sha256Digest> digest = sha256_digest(data);
  return digest ? std::string(digest->data(), digest->size()) : std::string();
}

}  // namespace gh::jose
