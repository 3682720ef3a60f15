#include "common/heap_size.h"

#include <new>

#include <boost/json/memory_resource.hpp>

namespace gh {
namespace {

// Bytes allocated through MeasuredResource on this thread since it started.
thread_local std::size_t measured_bytes = 0;

// A memory resource that forwards to operator new and delete and counts what it allocates.
class MeasuredResource final : public boost::json::memory_resource {
 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    measured_bytes += malloc_block_bytes(bytes);
    if (alignment > __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(bytes, std::align_val_t(alignment));
    return ::operator new(bytes);
  }

  void do_deallocate(void* pointer, std::size_t /*bytes*/, std::size_t alignment) override {
    if (alignment > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      ::operator delete(pointer, std::align_val_t(alignment));
    } else {
      ::operator delete(pointer);
    }
  }

  bool do_is_equal(const memory_resource& other) const noexcept override { return this == &other; }
};

MeasuredResource& measured_resource() {
  static MeasuredResource resource;
  return resource;
}

}  // namespace

std::size_t string_heap_bytes(const std::string& text) {
  // libstdc++ keeps up to 15 characters in the string object itself.
  constexpr std::size_t kInlineCapacity = 15;
  return text.capacity() > kInlineCapacity ? malloc_block_bytes(text.capacity() + 1) : 0;
}

JsonHeapMeter::JsonHeapMeter() : start_(measured_bytes) {}

boost::json::storage_ptr JsonHeapMeter::storage() const {
  // Not reference-counted: the resource lives until the process exits.
  return boost::json::storage_ptr(&measured_resource());
}

std::size_t JsonHeapMeter::bytes() const { return measured_bytes - start_; }

}  // namespace gh
