#include "common/file_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

namespace gh {

namespace {

namespace fs = std::filesystem;

// The file a path resolves to right now. A change in any field means the content may differ.
struct Identity {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};

  bool operator==(const Identity& other) const {
    return exists == other.exists && device == other.device && inode == other.inode && size == other.size &&
           modified.tv_sec == other.modified.tv_sec && modified.tv_nsec == other.modified.tv_nsec;
  }
};

Identity identity_of(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return Identity{};  // follows symlinks
  return Identity{true, info.st_dev, info.st_ino, info.st_size, info.st_mtim};
}

// The folders whose events can signal a change of `path`: its own folder and, while it is a
// symlink, the folder of the file it points to.
std::set<std::string> folders_for(const std::string& path) {
  std::set<std::string> folders{fs::path(path).parent_path().string()};
  std::error_code error;
  const fs::path target = fs::canonical(path, error);
  if (!error) folders.insert(target.parent_path().string());
  return folders;
}

constexpr uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;

std::string errno_text(const char* call) { return fmt::format("{} failed: {}", call, std::strerror(errno)); }

}  // namespace

struct FileWatcher::Impl {
  std::vector<std::string> paths;  // absolute
  std::vector<std::string> given;  // as passed to create, reported to the callback
  Callback callback;
  Options options;
  int inotify_fd = -1;
  int stop_fd = -1;
  std::map<int, std::string> watches;  // watch descriptor -> folder
  std::vector<Identity> identities;    // parallel to paths
  std::vector<bool> named;             // parallel to paths: an event named the file itself
  std::thread thread;

  ~Impl() {
    if (inotify_fd >= 0) ::close(inotify_fd);
    if (stop_fd >= 0) ::close(stop_fd);
  }

  void update_watches();
  bool drain_events();
  void mark_named(const inotify_event& event);
  bool wait_readable(int timeout_ms, bool& stop_requested);
  void report_changes();
  void run();
};

void FileWatcher::Impl::update_watches() {
  std::set<std::string> wanted;
  for (const std::string& path : paths) wanted.merge(folders_for(path));

  for (auto it = watches.begin(); it != watches.end();) {
    if (wanted.count(it->second) == 0) {
      ::inotify_rm_watch(inotify_fd, it->first);
      it = watches.erase(it);
    } else {
      wanted.erase(it->second);
      ++it;
    }
  }
  // NOTE: a folder that does not exist cannot be watched. A file in it is seen only after the
  // folder appears and another watched folder reports an event.
  for (const std::string& folder : wanted) {
    const int descriptor = ::inotify_add_watch(inotify_fd, folder.c_str(), kWatchMask);
    if (descriptor >= 0) watches[descriptor] = folder;
  }
}

// Reads every pending event and marks the watched files that an event names directly. Files
// reached through a symlink swap are found by report_changes, which compares identities.
// Returns false when the inotify descriptor failed.
bool FileWatcher::Impl::drain_events() {
  alignas(inotify_event) std::array<char, 16 * 1024> buffer{};
  while (true) {
    const ssize_t length = ::read(inotify_fd, buffer.data(), buffer.size());
    if (length < 0 && errno == EINTR) continue;
    if (length <= 0) return length < 0 && errno == EAGAIN;

    for (ssize_t offset = 0; offset < length;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      mark_named(*event);
    }
  }
}

void FileWatcher::Impl::mark_named(const inotify_event& event) {
  const auto folder = watches.find(event.wd);
  if (folder == watches.end() || event.len == 0) return;

  const std::string path = (fs::path(folder->second) / event.name).string();
  for (size_t i = 0; i < paths.size(); ++i) {
    if (paths[i] == path) named[i] = true;
  }
}

// Waits until inotify has events (true), the timeout passes (false) or stop is requested.
bool FileWatcher::Impl::wait_readable(int timeout_ms, bool& stop_requested) {
  std::array<pollfd, 2> fds{pollfd{inotify_fd, POLLIN, 0}, pollfd{stop_fd, POLLIN, 0}};
  int ready = 0;
  do {
    ready = ::poll(fds.data(), fds.size(), timeout_ms);
  } while (ready < 0 && errno == EINTR);

  stop_requested = ready < 0 || (fds[1].revents & POLLIN) != 0;
  return ready > 0 && (fds[0].revents & POLLIN) != 0;
}

void FileWatcher::Impl::report_changes() {
  std::vector<std::string> changed;
  for (size_t i = 0; i < paths.size(); ++i) {
    Identity now = identity_of(paths[i]);
    const bool modified = named[i] || !(now == identities[i]);
    named[i] = false;
    identities[i] = now;
    if (modified) changed.push_back(given[i]);
  }
  update_watches();  // a symlink may point somewhere new
  if (!changed.empty()) callback(changed);
}

void FileWatcher::Impl::run() {
  const int debounce_ms = static_cast<int>(options.debounce.count());
  bool stop = false;
  while (!stop) {
    if (!wait_readable(-1, stop) || stop) continue;
    if (!drain_events()) return;

    // Wait for a quiet period, so a burst of writes and renames is reported once. The wait is
    // capped, because other files in a watched folder (a log file written on every request,
    // say) can keep it from ever going quiet.
    const auto give_up = std::chrono::steady_clock::now() + options.max_delay;
    while (!stop && std::chrono::steady_clock::now() < give_up && wait_readable(debounce_ms, stop)) {
      if (!drain_events()) return;
    }
    if (!stop) report_changes();
  }
}

Expected<std::unique_ptr<FileWatcher>, std::string> FileWatcher::create(std::vector<std::string> paths,
                                                                      Callback callback, Options options) {
  auto impl = std::make_unique<Impl>();
  impl->callback = std::move(callback);
  impl->options = options;
  for (const std::string& path : paths) {
    impl->paths.push_back(fs::absolute(path).lexically_normal().string());
    impl->identities.push_back(identity_of(impl->paths.back()));
  }
  impl->given = std::move(paths);
  impl->named.assign(impl->paths.size(), false);

  impl->inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (impl->inotify_fd < 0) return Unexpected{errno_text("inotify_init1")};
  impl->stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->stop_fd < 0) return Unexpected{errno_text("eventfd")};

  impl->update_watches();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<FileWatcher>(new FileWatcher(std::move(impl)));
}

FileWatcher::FileWatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

FileWatcher::~FileWatcher() {
  const uint64_t one = 1;
  // The eventfd counter cannot overflow from one write, so this write does not fail.
  [[maybe_unused]] const ssize_t written = ::write(impl_->stop_fd, &one, sizeof one);
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace gh
