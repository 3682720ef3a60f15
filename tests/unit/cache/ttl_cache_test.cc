#include "cache/ttl_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace gh::cache {
namespace {

using namespace std::chrono_literals;

// A clock that moves only when the test advances it.
struct ManualClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  Clock function() {
    return [this] { return now; };
  }
};

TEST(TtlCache, StoresAndReturnsValue) {
  ManualClock clock;
  TtlCache<std::string> cache({.max_entries = 10, .max_bytes = 10000}, clock.function());
  cache.put("a", "alpha", 5, 10s);

  auto value = cache.get("a");
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, "alpha");
  EXPECT_EQ(cache.counters().hits, 1u);
  EXPECT_EQ(cache.counters().entries, 1u);
}

TEST(TtlCache, MissCounted) {
  TtlCache<int> cache({.max_entries = 10, .max_bytes = 10000});
  EXPECT_FALSE(cache.get("absent").has_value());
  EXPECT_EQ(cache.counters().misses, 1u);
  EXPECT_EQ(cache.counters().hits, 0u);
}

TEST(TtlCache, EntryExpiresAtItsTtl) {
  ManualClock clock;
  TtlCache<int> cache({.max_entries = 10, .max_bytes = 10000}, clock.function());
  cache.put("short", 1, 0, 5s);
  cache.put("long", 2, 0, 60s);

  clock.now += 4s;
  EXPECT_TRUE(cache.get("short").has_value());
  clock.now += 1s;
  EXPECT_FALSE(cache.get("short").has_value());
  EXPECT_TRUE(cache.get("long").has_value());

  Counters counters = cache.counters();
  EXPECT_EQ(counters.expirations, 1u);
  EXPECT_EQ(counters.entries, 1u);
}

TEST(TtlCache, ZeroTtlNotStored) {
  TtlCache<int> cache({.max_entries = 10, .max_bytes = 10000});
  cache.put("k", 1, 0, 0s);
  cache.put("n", 1, 0, -1s);
  EXPECT_FALSE(cache.get("k").has_value());
  EXPECT_EQ(cache.counters().rejections, 2u);
  EXPECT_EQ(cache.counters().entries, 0u);
}

TEST(TtlCache, EntryLimitEvictsLeastRecentlyUsed) {
  TtlCache<int> cache({.max_entries = 3, .max_bytes = 1 << 20, .shards = 1});
  cache.put("a", 1, 0, 60s);
  cache.put("b", 2, 0, 60s);
  cache.put("c", 3, 0, 60s);
  ASSERT_TRUE(cache.get("a").has_value());  // b is now the coldest
  cache.put("d", 4, 0, 60s);

  EXPECT_TRUE(cache.get("a").has_value());
  EXPECT_FALSE(cache.get("b").has_value());
  EXPECT_TRUE(cache.get("c").has_value());
  EXPECT_TRUE(cache.get("d").has_value());
  EXPECT_EQ(cache.counters().evictions, 1u);
  EXPECT_EQ(cache.counters().entries, 3u);
}

TEST(TtlCache, ByteLimitEvicts) {
  const std::size_t entry_bytes = 1000 + 1 + kEntryOverheadBytes;
  TtlCache<int> cache({.max_entries = 100, .max_bytes = 2 * entry_bytes, .shards = 1});
  cache.put("a", 1, 1000, 60s);
  cache.put("b", 2, 1000, 60s);
  cache.put("c", 3, 1000, 60s);

  Counters counters = cache.counters();
  EXPECT_EQ(counters.entries, 2u);
  EXPECT_EQ(counters.bytes, 2 * entry_bytes);
  EXPECT_EQ(counters.evictions, 1u);
  EXPECT_FALSE(cache.get("a").has_value());
}

TEST(TtlCache, OversizedValueRejected) {
  TtlCache<int> cache({.max_entries = 100, .max_bytes = 500, .shards = 1});
  cache.put("big", 1, 1000, 60s);
  EXPECT_FALSE(cache.get("big").has_value());
  EXPECT_EQ(cache.counters().rejections, 1u);
}

TEST(TtlCache, ReplacingKeepsOneEntry) {
  TtlCache<int> cache({.max_entries = 10, .max_bytes = 10000});
  cache.put("k", 1, 10, 60s);
  cache.put("k", 2, 20, 60s);
  EXPECT_EQ(cache.get("k").value_or(0), 2);
  EXPECT_EQ(cache.counters().entries, 1u);
  EXPECT_EQ(cache.counters().bytes, 20 + 1 + kEntryOverheadBytes);
}

TEST(TtlCache, EraseRemovesEntry) {
  TtlCache<int> cache({.max_entries = 10, .max_bytes = 10000});
  cache.put("k", 1, 0, 60s);
  cache.erase("k");
  EXPECT_FALSE(cache.get("k").has_value());
  EXPECT_EQ(cache.counters().bytes, 0u);
}

TEST(TtlCache, DisabledCacheStoresNothing) {
  TtlCache<int> no_entries({.max_entries = 0, .max_bytes = 10000});
  TtlCache<int> no_bytes({.max_entries = 10, .max_bytes = 0});
  EXPECT_FALSE(no_entries.enabled());
  EXPECT_FALSE(no_bytes.enabled());
  no_entries.put("k", 1, 0, 60s);
  EXPECT_FALSE(no_entries.get("k").has_value());
  EXPECT_EQ(no_entries.counters().entries, 0u);
}

TEST(TtlCache, TotalEntriesBoundedAcrossShards) {
  TtlCache<int> cache({.max_entries = 64, .max_bytes = 1 << 20, .shards = 8});
  for (int i = 0; i < 10000; ++i) cache.put("key-" + std::to_string(i), i, 0, 60s);
  EXPECT_LE(cache.counters().entries, 64u);
  EXPECT_GT(cache.counters().evictions, 0u);
}

TEST(TtlCache, ConcurrentUseKeepsCountsConsistent) {
  TtlCache<int> cache({.max_entries = 256, .max_bytes = 1 << 20});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string key = "k" + std::to_string((i * 7 + t) % 500);
        if (!cache.get(key)) cache.put(key, i, 16, 60s);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  Counters counters = cache.counters();
  EXPECT_EQ(counters.hits + counters.misses, 8000u);
  EXPECT_LE(counters.entries, 256u);
  // Two threads may both miss on a key and both store it; the second replaces the first.
  EXPECT_LE(counters.entries, counters.insertions - counters.evictions);
  EXPECT_GT(counters.entries, 0u);
}

}  // namespace
}  // namespace gh::cache
