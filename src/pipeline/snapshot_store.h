// Publication of the current snapshot to worker threads.
//
// Readers on the request path take no lock: each thread keeps its own shared_ptr and a
// generation number, and goes to the shared atomic only when the generation has changed,
// which happens once per reload.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "pipeline/snapshot.h"

namespace gh::pipeline {

class SnapshotStore {
 public:
  void publish(std::shared_ptr<const Snapshot> snapshot) {
    current_.store(std::move(snapshot));
    generation_.fetch_add(1, std::memory_order_release);
  }

  // The newest snapshot; null before the first publish.
  std::shared_ptr<const Snapshot> current() const {
    struct Cached {
      const SnapshotStore* store = nullptr;
      uint64_t generation = 0;
      std::shared_ptr<const Snapshot> snapshot;
    };
    thread_local Cached cached;
    uint64_t generation = generation_.load(std::memory_order_acquire);
    if (cached.store != this || cached.generation != generation) {
      cached.snapshot = current_.load();
      cached.generation = generation;
      cached.store = this;
    }
    return cached.snapshot;
  }

 private:
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<uint64_t> generation_{0};
};

}  // namespace gh::pipeline
