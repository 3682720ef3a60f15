// The bounded TTL cache shared by every cache in gatehouse (verified JWTs, introspection
// results, client-credentials tokens, hydrator results).
//
// Design: keys are hashed onto a fixed number of shards, each with its own mutex, so
// workers rarely contend. A shard keeps its entries in least-recently-used order and
// evicts from the cold end when it is over its share of the entry or byte limit. Each
// entry carries its own expiry, checked on every read. Keys are caller-supplied strings:
// callers pass hashes of secrets, never the secrets. A cache whose entry or byte limit
// is zero is disabled and allocates nothing.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace gh::cache {

using Clock = std::function<std::chrono::steady_clock::time_point()>;

// Bytes charged per entry on top of the caller's cost: the key, the list node and the map
// node. An estimate for 64-bit libstdc++, so the byte limit stays meaningful for tiny values.
inline constexpr std::size_t kEntryOverheadBytes = 96;

inline constexpr std::size_t kDefaultShards = 16;

struct Limits {
  std::size_t max_entries = 0;  // 0 disables the cache
  std::size_t max_bytes = 0;    // sum of costs plus overhead; 0 disables the cache
  std::size_t shards = kDefaultShards;
};

struct Counters {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;       // absent or expired
  std::uint64_t insertions = 0;
  std::uint64_t evictions = 0;    // removed to make room
  std::uint64_t expirations = 0;  // found expired on read
  std::uint64_t rejections = 0;   // too large for a shard, or a zero TTL
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

// Picks the shard of `key` among `shard_count`.
std::size_t shard_index(std::string_view key, std::size_t shard_count);

// Returns std::chrono::steady_clock::now().
std::chrono::steady_clock::time_point steady_now();

template <typename Value>
class TtlCache {
 public:
  explicit TtlCache(Limits limits, Clock clock = steady_now) : clock_(std::move(clock)) {
    if (limits.max_entries == 0 || limits.max_bytes == 0) return;
    shard_count_ = std::clamp<std::size_t>(limits.shards, 1, limits.max_entries);
    shard_max_entries_ = (limits.max_entries + shard_count_ - 1) / shard_count_;
    shard_max_bytes_ = (limits.max_bytes + shard_count_ - 1) / shard_count_;
    shards_ = std::make_unique<Shard[]>(shard_count_);
  }

  TtlCache(const TtlCache&) = delete;
  TtlCache& operator=(const TtlCache&) = delete;

  bool enabled() const { return shards_ != nullptr; }

  // Returns a copy of the value stored under `key` unless it is absent or expired.
  std::optional<Value> get(std::string_view key) {
    if (!enabled()) return std::nullopt;
    Shard& shard = shard_for(key);
    const auto now = clock_();

    std::lock_guard lock(shard.mutex);
    auto found = shard.index.find(key);
    if (found == shard.index.end()) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    if (found->second->expires_at <= now) {
      remove(shard, found->second);
      expirations_.fetch_add(1, std::memory_order_relaxed);
      misses_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    shard.lru.splice(shard.lru.begin(), shard.lru, found->second);
    hits_.fetch_add(1, std::memory_order_relaxed);
    return found->second->value;
  }

  // Stores `value` under `key` for `ttl`, charging `cost` bytes, and evicts the least
  // recently used entries of the shard until it fits. Replaces an existing entry. Values
  // larger than one shard's byte share, and non-positive TTLs, are not stored.
  void put(std::string key, Value value, std::size_t cost, std::chrono::nanoseconds ttl) {
    if (!enabled()) return;
    const std::size_t bytes = cost + key.size() + kEntryOverheadBytes;
    if (ttl <= std::chrono::nanoseconds::zero() || bytes > shard_max_bytes_) {
      rejections_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Shard& shard = shard_for(key);
    const auto expires_at = clock_() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(ttl);

    std::lock_guard lock(shard.mutex);
    if (auto found = shard.index.find(std::string_view(key)); found != shard.index.end()) {
      remove(shard, found->second);
    }
    while (!shard.lru.empty() &&
           (shard.lru.size() + 1 > shard_max_entries_ || shard.bytes + bytes > shard_max_bytes_)) {
      remove(shard, std::prev(shard.lru.end()));
      evictions_.fetch_add(1, std::memory_order_relaxed);
    }
    shard.lru.push_front(Entry{std::move(key), std::move(value), bytes, expires_at});
    shard.index.emplace(std::string_view(shard.lru.front().key), shard.lru.begin());
    shard.bytes += bytes;
    entries_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    insertions_.fetch_add(1, std::memory_order_relaxed);
  }

  void erase(std::string_view key) {
    if (!enabled()) return;
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    if (auto found = shard.index.find(key); found != shard.index.end()) remove(shard, found->second);
  }

  Counters counters() const {
    Counters out;
    out.hits = hits_.load(std::memory_order_relaxed);
    out.misses = misses_.load(std::memory_order_relaxed);
    out.insertions = insertions_.load(std::memory_order_relaxed);
    out.evictions = evictions_.load(std::memory_order_relaxed);
    out.expirations = expirations_.load(std::memory_order_relaxed);
    out.rejections = rejections_.load(std::memory_order_relaxed);
    out.entries = entries_.load(std::memory_order_relaxed);
    out.bytes = bytes_.load(std::memory_order_relaxed);
    return out;
  }

 private:
  struct Entry {
    std::string key;
    Value value;
    std::size_t bytes;
    std::chrono::steady_clock::time_point expires_at;
  };
  using EntryList = std::list<Entry>;

  struct Shard {
    std::mutex mutex;
    EntryList lru;  // most recently used first
    // Views into Entry::key, which list nodes keep at a stable address.
    std::unordered_map<std::string_view, typename EntryList::iterator> index;
    std::size_t bytes = 0;
  };

  Shard& shard_for(std::string_view key) { return shards_[shard_index(key, shard_count_)]; }

  // Requires the shard's mutex.
  void remove(Shard& shard, typename EntryList::iterator entry) {
    shard.index.erase(std::string_view(entry->key));
    shard.bytes -= entry->bytes;
    entries_.fetch_sub(1, std::memory_order_relaxed);
    bytes_.fetch_sub(entry->bytes, std::memory_order_relaxed);
    shard.lru.erase(entry);
  }

  Clock clock_;
  std::size_t shard_count_ = 0;
  std::size_t shard_max_entries_ = 0;
  std::size_t shard_max_bytes_ = 0;
  std::unique_ptr<Shard[]> shards_;

  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
  std::atomic<std::uint64_t> insertions_{0};
  std::atomic<std::uint64_t> evictions_{0};
  std::atomic<std::uint64_t> expirations_{0};
  std::atomic<std::uint64_t> rejections_{0};
  std::atomic<std::size_t> entries_{0};
  std::atomic<std::size_t> bytes_{0};
};

}  // namespace gh::cache
