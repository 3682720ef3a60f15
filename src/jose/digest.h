// Message digests with algorithm implementations that OpenSSL 3 looks up once per process.
//
// Passing EVP_sha256() and friends to an EVP call makes OpenSSL 3 search its provider
// tables by name on every call (an implicit fetch). The functions here fetch each
// implementation once and keep it for the life of the process.
#pragma once

#include <openssl/types.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace gh::jose {

// The fetched implementation of "SHA256", "SHA384" or "SHA512". Falls back to OpenSSL's
// built-in method table, which works but fetches per call, when the fetch fails.
const EVP_MD* fetched_sha256();
const EVP_MD* fetched_sha384();
const EVP_MD* fetched_sha512();

// Returns the 32-byte SHA-256 digest of `data`. Thread-safe.
std::string sha256(std::string_view data);

using Sha256Digest = std::array<char, 32>;

// Returns the SHA-256 digest of `data` without allocating, or nullopt when OpenSSL fails
// (only when it cannot allocate). Thread-safe.
std::optional<Sha256Digest> sha256_digest(std::string_view data);

}  // namespace gh::jose
