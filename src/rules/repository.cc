// Rule repositories: loading by URL scheme, and keeping each repository's last accepted rules
// while its file changes on disk.
#include "rules/repository.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <boost/beast/core/detail/base64.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "common/file_watcher.h"

namespace gh::rules {

namespace {

constexpr std::string_view kFileScheme = "file://";
constexpr std::string_view kInlineScheme = "inline://";

// The file path of a file repository (file://, or a URL without a scheme), or empty.
std::string file_path_of(std::string_view url) {
  if (url.starts_with(kFileScheme)) return std::string(url.substr(kFileScheme.size()));
  if (url.find("://") == std::string_view::npos) return std::string(url);
  return {};
}

// Names a repository in messages without repeating a whole inline document.
std::string display_name(std::string_view url) {
  constexpr size_t kMaxShown = 48;
  if (url.starts_with(kInlineScheme) && url.size() > kMaxShown) return fmt::format("{}...", url.substr(0, kMaxShown));
  return std::string(url);
}

// Decodes standard base64 with padding and rejects anything else, as Go's StdEncoding does.
Expected<std::string, std::string> decode_base64(std::string_view text) {
  namespace base64 = boost::beast::detail::base64;
  if (text.size() % 4 != 0) return Unexpected{std::string("length is not a multiple of 4 (padding is required)")};

  const size_t padding = text.ends_with("==") ? 2 : (text.ends_with('=') ? 1 : 0);
  for (size_t i = 0; i < text.size() - padding; ++i) {
    const char c = text[i];
    const bool valid = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
    if (!valid) return Unexpected{fmt::format("invalid character at offset {}", i)};
  }

  std::string decoded(base64::decoded_size(text.size()), '\0');
  const auto [written, read] = base64::decode(decoded.data(), text.data(), text.size());
  if (read != text.size() - padding && read != text.size()) return Unexpected{std::string("invalid base64")};
  decoded.resize(written);
  return decoded;
}

Expected<std::string, std::string> read_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    return Unexpected{fmt::format("cannot read \"{}\": {}", path, error ? error.message() : "not a regular file or not found")};
  }
  std::ifstream file(path, std::ios::binary);
  std::ostringstream content;
  content << file.rdbuf();
  if (!file && !file.eof()) return Unexpected{fmt::format("cannot read \"{}\"", path)};
  return content.str();
}

Expected<std::vector<Rule>, std::string> parse(std::string_view text, std::string_view url) {
  try {
    return parse_rules(text, display_name(url));
  } catch (const RuleError& e) {
    return Unexpected{std::string(e.what())};
  }
}

}  // namespace

Expected<std::vector<Rule>, std::string> load_repository(std::string_view url) {
  if (url.starts_with(kInlineScheme)) {
    auto decoded = decode_base64(url.substr(kInlineScheme.size()));
    if (!decoded) return Unexpected{fmt::format("repository \"{}\": invalid base64: {}", display_name(url), decoded.error())};
    return parse(*decoded, url);
  }

  if (url.starts_with("http://") || url.starts_with("https://")) {
    // TODO: fetch http(s) repositories once the HTTP client exists (Oathkeeper fetches each once).
    return Unexpected{fmt::format("repository \"{}\": remote repositories (http, https) are not supported yet; "
                                  "use a file or an inline:// repository",
                                  url)};
  }

  const std::string path = file_path_of(url);
  if (path.empty()) {
    const std::string_view scheme = url.substr(0, url.find("://"));
    return Unexpected{fmt::format("repository \"{}\": unknown scheme \"{}\" (expected file:// or inline://)", url, scheme)};
  }

  auto text = read_file(path);
  if (!text) return Unexpected{fmt::format("repository \"{}\": {}", url, text.error())};
  return parse(*text, url);
}

struct RepositoryWatcher::Impl {
  struct Source {
    std::string url;
    std::string path;  // absolute file path, or empty for other schemes
    std::vector<Rule> rules;
  };

  Validator validate;
  Listener listener;

  // Guards sources and started. The listener is called with it held, so calls never overlap.
  std::mutex mutex;
  std::vector<Source> sources;
  bool started = false;

  // Guards watcher. The watcher's own thread never takes it.
  std::mutex watcher_mutex;
  std::unique_ptr<FileWatcher> watcher;

  // Loads and validates one repository; on success replaces `rules`.
  std::vector<std::string> load_into(const std::string& url, std::vector<Rule>& rules) const;
  void notify_locked();
  void reload(const std::vector<std::string>& changed);
  void restart_watcher();
};

std::vector<std::string> RepositoryWatcher::Impl::load_into(const std::string& url, std::vector<Rule>& rules) const {
  auto loaded = load_repository(url);
  if (!loaded) return {loaded.error()};

  std::vector<std::string> problems = validate ? validate(*loaded) : std::vector<std::string>{};
  if (!problems.empty()) {
    for (std::string& problem : problems) problem = fmt::format("repository \"{}\": {}", display_name(url), problem);
    return problems;
  }
  rules = std::move(*loaded);
  return {};
}

void RepositoryWatcher::Impl::notify_locked() {
  std::vector<Rule> all;
  for (const Source& source : sources) all.insert(all.end(), source.rules.begin(), source.rules.end());
  if (listener) listener(std::move(all));
}

void RepositoryWatcher::Impl::reload(const std::vector<std::string>& changed) {
  std::lock_guard lock(mutex);
  bool updated = false;
  for (Source& source : sources) {
    if (source.path.empty() || std::find(changed.begin(), changed.end(), source.path) == changed.end()) continue;

    const std::vector<std::string> problems = load_into(source.url, source.rules);
    if (problems.empty()) {
      spdlog::info("access rules repository \"{}\" reloaded: {} rules", display_name(source.url), source.rules.size());
      updated = true;
      continue;
    }
    spdlog::error("access rules repository \"{}\" changed but was not accepted; keeping its {} previous rules: {}",
                  display_name(source.url), source.rules.size(), fmt::join(problems, "; "));
  }
  if (updated) notify_locked();
}

void RepositoryWatcher::Impl::restart_watcher() {
  std::vector<std::string> paths;
  {
    std::lock_guard lock(mutex);
    if (!started) return;
    for (const Source& source : sources) {
      if (!source.path.empty()) paths.push_back(source.path);
    }
  }

  // The old watcher is destroyed (joining its thread) without `mutex` held, because its
  // callback may be waiting for that mutex.
  std::lock_guard lock(watcher_mutex);
  watcher.reset();
  if (paths.empty()) return;
  auto created = FileWatcher::create(paths, [this](const std::vector<std::string>& changed) { reload(changed); });
  if (!created) {
    spdlog::error("access rules repositories will not be reloaded on change: {}", created.error());
    return;
  }
  watcher = std::move(*created);
}

RepositoryWatcher::RepositoryWatcher(Validator validate, Listener listener) : impl_(std::make_unique<Impl>()) {
  impl_->validate = std::move(validate);
  impl_->listener = std::move(listener);
}

RepositoryWatcher::~RepositoryWatcher() {
  // Stop the watcher thread before the state its callback uses goes away.
  std::lock_guard lock(impl_->watcher_mutex);
  impl_->watcher.reset();
}

std::vector<std::string> RepositoryWatcher::set_repositories(const std::vector<std::string>& urls) {
  std::vector<std::string> errors;
  {
    std::lock_guard lock(impl_->mutex);
    std::vector<Impl::Source> next;
    for (const std::string& url : urls) {
      auto existing = std::find_if(impl_->sources.begin(), impl_->sources.end(),
                                   [&](const Impl::Source& source) { return source.url == url; });
      if (existing != impl_->sources.end()) {
        next.push_back(std::move(*existing));
        impl_->sources.erase(existing);
        continue;
      }

      Impl::Source source{url, {}, {}};
      if (const std::string path = file_path_of(url); !path.empty()) {
        source.path = std::filesystem::absolute(path).lexically_normal().string();
      }
      for (std::string& problem : impl_->load_into(url, source.rules)) {
        spdlog::error("access rules repository \"{}\" was not loaded: {}", display_name(url), problem);
        errors.push_back(std::move(problem));
      }
      next.push_back(std::move(source));
    }
    impl_->sources = std::move(next);
    impl_->notify_locked();
  }
  impl_->restart_watcher();
  return errors;
}

void RepositoryWatcher::start() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->started = true;
  }
  impl_->restart_watcher();
}

}  // namespace gh::rules
