// JWT signing keys: generated on first use, stored sealed with the system secret, shared
// by every replica through storage, and rotated without breaking issued tokens.
//
// The newest key without a retire time signs. Rotation inserts a new key and gives every
// older signing key a retire time of now + the access-token TTL: until then it is still
// published in the JWKS (tokens it signed are still valid), afterwards it is purged.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "common/expected.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "oauth2/storage/storage.h"

namespace gh::oauth2 {

// The keys as last read from storage.
struct KeyRing {
  std::vector<jose::Jwk> keys;             // private keys, newest first
  std::optional<std::size_t> signing_key;  // index into keys; none when every key is retired
  jose::JwkSet public_set;                 // public parts of every key, for JWKS and verification
  std::chrono::steady_clock::time_point loaded_at;
};

class KeyManager {
 public:
  // How long a replica uses its cached keys before reading storage again, so a rotation
  // made through another replica is picked up within this time.
  static constexpr std::chrono::seconds kRefreshInterval{10};

  // `clock` returns the current unix time in seconds.
  KeyManager(Storage& storage, std::vector<std::string> secrets, jose::Algorithm algorithm,
             std::chrono::seconds token_ttl, std::function<int64_t()> clock);

  // The current keys, read from storage when the cache is older than kRefreshInterval or
  // `force` is set. A signing key is generated when none exists. Blocking.
  gh::Expected<std::shared_ptr<const KeyRing>, std::string> keys(bool force = false);

  // Generates a new signing key (algorithm `alg`, or the configured one) and retires the
  // others. Returns the new key's public JWK. Blocking.
  gh::Expected<boost::json::object, std::string> rotate(std::optional<jose::Algorithm> alg,
                                                        std::optional<std::string> kid);

 private:
  gh::Expected<std::shared_ptr<const KeyRing>, std::string> load();
  gh::Expected<std::string, std::string> insert_new_key(jose::Algorithm alg, std::optional<std::string> kid);

  Storage& storage_;
  std::vector<std::string> secrets_;
  jose::Algorithm algorithm_;
  std::chrono::seconds token_ttl_;
  std::function<int64_t()> clock_;
  std::mutex mutex_;  // guards ring_
  std::shared_ptr<const KeyRing> ring_;
};

}  // namespace gh::oauth2
