// Client-secret checks with a bounded cache of successful ones.
//
// PBKDF2 at kPbkdf2Iterations costs tens of milliseconds per check by design, which would
// bound grants per second per core. A successful check is remembered under SHA-256 of
// (client id, secret, stored hash), so the plain secret is never kept, and a changed
// secret or hash misses the cache. Failed checks are never cached.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gh::oauth2 {

class SecretVerifier {
 public:
  // 10,000 entries of about 150 bytes each bound the cache near 1.5 MiB; an entry lives at
  // most `ttl` so a deleted client's secret stops working everywhere within that time
  // (deletion also removes the client row, which is checked first).
  static constexpr std::size_t kDefaultCapacity = 10'000;

  explicit SecretVerifier(std::size_t capacity = kDefaultCapacity, std::chrono::seconds ttl = std::chrono::minutes(10))
      : capacity_(capacity), ttl_(ttl) {}

  // Checks `secret` against `stored_hash`. Blocking (PBKDF2) on a cache miss.
  bool verify(std::string_view client_id, std::string_view secret, std::string_view stored_hash);

  std::size_t cached_entries() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Clock::time_point expires;
    std::list<std::string>::iterator position;
  };

  std::size_t capacity_;
  std::chrono::seconds ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> order_;  // oldest first, for eviction
};

}  // namespace gh::oauth2
