#include "cache/ttl_cache.h"

namespace gh::cache {

std::size_t shard_index(std::string_view key, std::size_t shard_count) {
  return std::hash<std::string_view>{}(key) % shard_count;
}

std::chrono::steady_clock::time_point steady_now() { return std::chrono::steady_clock::now(); }

}  // namespace gh::cache
