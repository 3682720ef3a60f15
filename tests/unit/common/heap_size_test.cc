#include "common/heap_size.h"

#include <gtest/gtest.h>

#include <thread>

#include <boost/json.hpp>

namespace gh {
namespace {

namespace json = boost::json;

// Counts the allocations and requested bytes that reach it, for comparison with the meter.
class CountingResource final : public json::memory_resource {
 public:
  std::size_t allocations = 0;
  std::size_t requested_bytes = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t /*alignment*/) override {
    ++allocations;
    requested_bytes += bytes;
    return ::operator new(bytes);
  }
  void do_deallocate(void* pointer, std::size_t /*bytes*/, std::size_t /*alignment*/) override {
    ::operator delete(pointer);
  }
  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
};

const std::string kDocument =
    R"({"active":true,"sub":"a subject longer than the inline buffer","aud":["one","two","three"],)"
    R"("ext":{"nested":{"list":[1,2,3,"a string longer than the inline buffer"]}}})";

TEST(MallocBlockBytes, RoundsLikeGlibc) {
  EXPECT_EQ(malloc_block_bytes(0), 32u);
  EXPECT_EQ(malloc_block_bytes(24), 32u);
  EXPECT_EQ(malloc_block_bytes(25), 48u);
  EXPECT_EQ(malloc_block_bytes(1000), 1008u);
}

TEST(StringHeapBytes, InlineStringsTakeNone) {
  EXPECT_EQ(string_heap_bytes(std::string(15, 'x')), 0u);
  EXPECT_EQ(string_heap_bytes(std::string(16, 'x')), malloc_block_bytes(17));
}

TEST(JsonHeapMeter, CountsEveryAllocation) {
  CountingResource counting;
  const json::value counted = json::parse(kDocument, json::storage_ptr(&counting));
  ASSERT_GT(counting.allocations, 0u);

  const JsonHeapMeter meter;
  const json::value measured = json::parse(kDocument, meter.storage());
  EXPECT_EQ(measured, counted);
  EXPECT_GE(meter.bytes(), counting.requested_bytes + 8 * counting.allocations);
  EXPECT_GE(meter.bytes(), 32 * counting.allocations);
}

TEST(JsonHeapMeter, CopiesKeepTheMeasuredStorage) {
  const JsonHeapMeter meter;
  json::value original = json::parse(kDocument, meter.storage());
  const std::size_t parsed_bytes = meter.bytes();
  const json::value moved(std::move(original));
  EXPECT_EQ(meter.bytes(), parsed_bytes);
  const json::value copied(moved, meter.storage());
  EXPECT_GT(meter.bytes(), parsed_bytes);
}

TEST(JsonHeapMeter, CountsOnlyThisThread) {
  const JsonHeapMeter meter;
  std::thread other([] {
    const JsonHeapMeter other_meter;
    const json::value value = json::parse(kDocument, other_meter.storage());
    EXPECT_GT(other_meter.bytes(), 0u);
  });
  other.join();
  EXPECT_EQ(meter.bytes(), 0u);
}

}  // namespace
}  // namespace gh
