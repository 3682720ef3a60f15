// RAII owners for the OpenSSL objects the JOSE code creates. Internal to src/jose.
#pragma once

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>
#include <string>

namespace gh::jose::detail {

struct OpenSslFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

template <typename T>
using Owned = std::unique_ptr<T, OpenSslFree>;

// Makes a shared owner of an EVP_PKEY, taking over the caller's reference.
inline std::shared_ptr<EVP_PKEY> share_pkey(EVP_PKEY* pkey) {
  return std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free);
}

// Returns the text of the oldest queued OpenSSL error and clears the queue, so one failure
// does not leak into the next unrelated call on this thread.
std::string take_openssl_error();

}  // namespace gh::jose::detail
