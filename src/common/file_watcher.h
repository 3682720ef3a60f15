// Watches a set of files for changes with inotify.
//
// Each file is watched through its parent folder, and for a symlink through the folder of its
// target as well. Editors save by writing a new file and renaming it over the old one, and
// Kubernetes updates a mounted ConfigMap by swapping the `..data` symlink, so neither change
// touches the original inode. After a burst of events has been quiet for the debounce
// interval, the watcher compares each file's identity (device, inode, size, modification
// time, existence) with what it saw before and reports the files that changed, deletions
// included.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"

namespace gh {

class FileWatcher {
 public:
  // Receives the watched paths (as given to create) that changed. Runs on the watcher's thread.
  using Callback = std::function<void(const std::vector<std::string>& changed)>;

  struct Options {
    // Quiet time after the last event before changes are reported, so that one save (which
    // may be several writes and renames) is reported once.
    std::chrono::milliseconds debounce{100};
    // Maximum time from the first event to the report, however busy the watched folders are.
    std::chrono::milliseconds max_delay{1000};
  };

  // Starts watching `paths` on a new thread. A file or folder that does not exist yet is
  // fine: its parent folder is watched if it exists. Fails only when inotify itself cannot be
  // set up (the error names the system call and errno text).
  static Expected<std::unique_ptr<FileWatcher>, std::string> create(std::vector<std::string> paths,
                                                                    Callback callback, Options options);
  static Expected<std::unique_ptr<FileWatcher>, std::string> create(std::vector<std::string> paths,
                                                                    Callback callback) {
    return create(std::move(paths), std::move(callback), Options{});
  }

  // Stops the thread and waits for it; a callback in progress finishes first.
  ~FileWatcher();

  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

 private:
  struct Impl;
  explicit FileWatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gh
