// Hashing, MACs, key derivation and encryption used by the token service, on OpenSSL 3.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace gh::oauth2 {

// Returns `size` bytes from OpenSSL's CSPRNG. Throws std::runtime_error when it fails,
// which only happens when the system entropy source is broken.
std::string random_bytes(std::size_t size);

std::string sha256(std::string_view data);  // 32 raw bytes
std::string sha256_hex(std::string_view data);  // 64 lower-case hex digits

// HMAC-SHA-512/256 (SHA-512 truncated to 256 bits, FIPS 180-4), 32 raw bytes.
std::string hmac_sha512_256(std::string_view key, std::string_view data);

// Compares in time that depends only on the sizes, not on where the bytes differ.
bool constant_time_equals(std::string_view a, std::string_view b);

// PBKDF2-HMAC-SHA256 iteration count of new client-secret hashes. OWASP's 2023 guidance for
// this hash is 600,000; 200,000 keeps one check near 60 ms on a 2020s server core, and the
// secret cache (see SecretVerifier) keeps repeated grants from paying it again.
inline constexpr int kPbkdf2Iterations = 200'000;

// Hashes a client secret as `$pbkdf2-sha256$i=<iterations>,l=32$<salt>$<hash>` (PHC string
// format, standard base64 without padding, 16-byte random salt), the layout Hydra stores.
std::string hash_secret(std::string_view secret, int iterations = kPbkdf2Iterations);

// Checks a secret against a hash written by hash_secret. Returns false for a malformed hash.
bool verify_secret(std::string_view secret, std::string_view encoded_hash);

// AES-256-GCM with a key derived from `secret` (SHA-256 of it). The result is
// base64url(12-byte nonce || ciphertext || 16-byte tag).
std::string seal(std::string_view secret, std::string_view plaintext);

// Reverses seal; nullopt when the text is malformed or was sealed with another secret.
std::optional<std::string> open_sealed(std::string_view secret, std::string_view sealed);

}  // namespace gh::oauth2
