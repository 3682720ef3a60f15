#include "common/file_watcher.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace gh {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
}

// Counts callback reports per path and lets a test wait for the next one.
class ChangeLog {
 public:
  FileWatcher::Callback callback() {
    return [this](const std::vector<std::string>& changed) {
      std::lock_guard lock(mutex_);
      for (const std::string& path : changed) ++reports_[path];
      changed_.notify_all();
    };
  }

  // Waits until `path` has been reported `count` times in total.
  bool wait_for(const std::string& path, int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return reports_[path] >= count; });
  }

  int reports(const std::string& path) {
    std::lock_guard lock(mutex_);
    return reports_[path];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, int> reports_;
};

class FileWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gh-watch-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<FileWatcher> watch(const std::vector<std::string>& paths) {
    auto watcher = FileWatcher::create(paths, log_.callback(), FileWatcher::Options{std::chrono::milliseconds(50)});
    EXPECT_TRUE(watcher.has_value()) << (watcher ? "" : watcher.error());
    return watcher ? std::move(*watcher) : nullptr;
  }

  fs::path dir_;
  ChangeLog log_;
  static inline int counter_ = 0;
};

TEST_F(FileWatcherTest, ReportsWriteInPlace) {
  const std::string path = (dir_ / "rules.json").string();
  write_file(path, "one");
  auto watcher = watch({path});

  write_file(path, "two");
  EXPECT_TRUE(log_.wait_for(path, 1));
  write_file(path, "six");  // same size: the event names the file, so it still counts
  EXPECT_TRUE(log_.wait_for(path, 2));
}

TEST_F(FileWatcherTest, ReportsRenameOver) {
  const std::string path = (dir_ / "rules.yaml").string();
  write_file(path, "old");
  auto watcher = watch({path});

  write_file(dir_ / "rules.yaml.tmp", "new content");
  fs::rename(dir_ / "rules.yaml.tmp", path);
  EXPECT_TRUE(log_.wait_for(path, 1));
}

TEST_F(FileWatcherTest, IgnoresOtherFiles) {
  const std::string path = (dir_ / "watched.json").string();
  write_file(path, "x");
  auto watcher = watch({path});

  write_file(dir_ / "other.json", "y");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(log_.reports(path), 0);
}

TEST_F(FileWatcherTest, ReportsChangeWhileNeighbourKeepsWriting) {
  const std::string path = (dir_ / "rules.json").string();
  write_file(path, "old");
  auto watcher = watch({path});

  // A log file beside the rules is written every 10 ms, so the folder is never quiet for the
  // 50 ms debounce. The change must still be reported within the maximum delay.
  std::atomic<bool> writing{true};
  std::thread neighbour([&] {
    for (int i = 0; writing && i < 1000; ++i) {
      write_file(dir_ / "server.log", std::to_string(i));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  write_file(path, "new content");
  bool reported = log_.wait_for(path, 1);
  writing = false;
  neighbour.join();
  EXPECT_TRUE(reported);
}

TEST_F(FileWatcherTest, ReportsDeletionAndRecreation) {
  const std::string path = (dir_ / "rules.json").string();
  write_file(path, "x");
  auto watcher = watch({path});

  fs::remove(path);
  EXPECT_TRUE(log_.wait_for(path, 1));
  write_file(path, "y");
  EXPECT_TRUE(log_.wait_for(path, 2));
}

// Kubernetes mounts a ConfigMap as <dir>/<key> -> ..data/<key>, ..data -> ..<timestamp>/, and
// updates it by writing a new timestamped folder and renaming a new ..data symlink over the old.
TEST_F(FileWatcherTest, ReportsConfigMapSymlinkSwap) {
  const fs::path mount = dir_ / "mount";
  fs::create_directories(mount / "..v0");
  write_file(mount / "..v0" / "rules.json", "v0");
  fs::create_directory_symlink("..v0", mount / "..data");
  fs::create_symlink("..data/rules.json", mount / "rules.json");
  const std::string path = (mount / "rules.json").string();
  auto watcher = watch({path});

  for (int version = 1; version <= 10; ++version) {
    const std::string folder = "..v" + std::to_string(version);
    fs::create_directories(mount / folder);
    write_file(mount / folder / "rules.json", "v" + std::to_string(version));
    fs::create_directory_symlink(folder, mount / "..data_tmp");
    fs::rename(mount / "..data_tmp", mount / "..data");
    fs::remove_all(mount / ("..v" + std::to_string(version - 1)));
    ASSERT_TRUE(log_.wait_for(path, version)) << "swap " << version;
  }
}

TEST_F(FileWatcherTest, StopsWhenDestroyed) {
  const std::string path = (dir_ / "rules.json").string();
  write_file(path, "x");
  const auto start = std::chrono::steady_clock::now();
  watch({path}).reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace gh
