// Estimates of the heap memory that cached values occupy, for caches bounded in bytes.
//
// The figures follow glibc's malloc and libstdc++ on 64-bit Linux. On other allocators they
// are estimates, but every heap block of a measured Boost.JSON value is still counted once.
#pragma once

#include <cstddef>
#include <string>

#include <boost/json/storage_ptr.hpp>

namespace gh {

// Returns the bytes that glibc's malloc uses for a request of `size` bytes on a 64-bit
// system: the request plus an 8-byte header, rounded up to 16 bytes, and at least 32.
constexpr std::size_t malloc_block_bytes(std::size_t size) {
  const std::size_t block = (size + 8 + 15) / 16 * 16;
  return block < 32 ? 32 : block;
}

// Returns the heap bytes of the buffer of `text`: none when it fits libstdc++'s inline
// buffer of 15 characters.
std::size_t string_heap_bytes(const std::string& text);

// Measures the heap memory of Boost.JSON values built on this thread with its storage().
// Values built with that storage allocate with operator new and free with operator delete,
// as with the default storage. Each allocation adds its malloc_block_bytes to bytes().
// The storage is a process-wide resource without state of its own, so values may outlive
// the meter and may be freed on any thread.
class JsonHeapMeter {
 public:
  JsonHeapMeter();

  // The storage to build measured values with.
  boost::json::storage_ptr storage() const;

  // Returns the bytes allocated with storage() on this thread since construction,
  // freed blocks included.
  std::size_t bytes() const;

 private:
  std::size_t start_;
};

}  // namespace gh
