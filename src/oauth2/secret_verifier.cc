#include "oauth2/secret_verifier.h"

#include "oauth2/crypto.h"

namespace gh::oauth2 {

bool SecretVerifier::verify(std::string_view client_id, std::string_view secret, std::string_view stored_hash) {
  if (stored_hash.empty()) return false;
  // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
  std::string material = std::to_string(client_id.size()) + ":" + std::string(client_id) + std::to_string(secret.size()) +
                         ":" + std::string(secret) + std::string(stored_hash);
  std::string key = sha256(material);
  {
    std::lock_guard lock(mutex_);
    if (auto found = entries_.find(key); found != entries_.end()) {
      if (Clock::now() < found->second.expires) return true;
      order_.erase(found->second.position);
      entries_.erase(found);
    }
  }

  if (!verify_secret(secret, stored_hash)) return false;

  std::lock_guard lock(mutex_);
  if (entries_.contains(key)) return true;
  if (capacity_ == 0) return true;
  while (entries_.size() >= capacity_) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  entries_.emplace(key, Entry{Clock::now() + ttl_, std::prev(order_.end())});
  return true;
}

std::size_t SecretVerifier::cached_entries() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace gh::oauth2
