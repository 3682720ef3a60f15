// `gatehouse serve`: start the proxy and API listeners and keep config and rules current.
#include <csignal>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/api.h"
#include "app/commands.h"
#include "common/file_watcher.h"
#include "common/version.h"
#include "http/server.h"
#include "oauth2/service.h"
#include "pipeline/snapshot_store.h"
#include "proxy/proxy.h"
#include "rules/repository.h"
#include "telemetry/log.h"

namespace gh::app {
namespace {

constexpr auto kShutdownGrace = std::chrono::seconds(30);

http::ListenerOptions listener_options(std::string name, const config::ServerSettings& server) {
  http::ListenerOptions options;
  options.name = std::move(name);
  options.host = server.host;
  options.port = server.port;
  options.read_timeout = server.read_timeout;
  options.write_timeout = server.write_timeout;
  options.idle_timeout = server.idle_timeout;
  return options;
}

// Owns the live config and rules, and publishes a new snapshot whenever either changes.
// Reloads run on watcher threads; the request path only reads the published snapshot.
class Service {
 public:
  Service(std::vector<std::string> config_files, config::Settings settings)
      : config_files_(std::move(config_files)), settings_(std::move(settings)),
        store_(std::make_shared<pipeline::SnapshotStore>()) {
    repositories_ = std::make_unique<rules::RepositoryWatcher>(
        [this](const std::vector<rules::Rule>& candidate) { return validate(candidate); },
        [this](std::vector<rules::Rule> accepted) { on_rules(std::move(accepted)); });
  }

  std::shared_ptr<const pipeline::SnapshotStore> store() const { return store_; }

  // Loads the rule repositories and publishes the first snapshot (empty when no rule loads).
  void start() {
    for (const std::string& error : repositories_->set_repositories(settings().repositories)) {
      spdlog::error("access rules: {}", error);
    }
    if (!store_->current()) publish_or_log(settings(), {});
    repositories_->start();
    watch_config();
  }

 private:
  config::Settings settings() const {
    std::lock_guard lock(mutex_);
    return settings_;
  }

  std::vector<std::string> validate(const std::vector<rules::Rule>& candidate) const {
    return pipeline::validate_rules(settings(), candidate);
  }

  void on_rules(std::vector<rules::Rule> accepted) {
    std::lock_guard lock(mutex_);
    rules_ = std::move(accepted);
    publish_or_log(settings_, rules_);
  }

  // Builds and publishes a snapshot; on failure the running one stays.
  bool publish_or_log(const config::Settings& settings, const std::vector<rules::Rule>& rules) {
    auto snapshot = pipeline::build_snapshot(settings, rules);
    if (!snapshot) {
      for (const std::string& problem : snapshot.error()) spdlog::error("access rules rejected: {}", problem);
      return false;
    }
    store_->publish(*snapshot);
    spdlog::info("access rules loaded: {} rules", rules.size());
    return true;
  }

  void watch_config() {
    if (config_files_.empty()) return;
    auto watcher = FileWatcher::create(config_files_, [this](const std::vector<std::string>&) { reload_config(); });
    if (!watcher) {
      spdlog::error("config files will not be reloaded: {}", watcher.error());
      return;
    }
    config_watcher_ = std::move(*watcher);
  }

  void reload_config() {
    config::Settings next;
    try {
      next = config::to_settings(config::load(config_files_, config::process_environment()));
    } catch (const config::ConfigError& error) {
      spdlog::error("config reload rejected; the running config stays:\n{}", error.what());
      return;
    }

    bool repositories_changed = false;
    {
      std::lock_guard lock(mutex_);
      if (!publish_or_log(next, rules_)) {
        spdlog::error("config reload rejected because the loaded access rules do not fit it; the running config stays");
        return;
      }
      repositories_changed = next.repositories != settings_.repositories;
      settings_ = std::move(next);
    }
    spdlog::info("config reloaded");
    if (repositories_changed) {
      for (const std::string& error : repositories_->set_repositories(settings().repositories)) {
        spdlog::error("access rules: {}", error);
      }
    }
  }

  std::vector<std::string> config_files_;
  mutable std::mutex mutex_;  // guards settings_ and rules_; never taken on the request path
  config::Settings settings_;
  std::vector<rules::Rule> rules_;
  std::shared_ptr<pipeline::SnapshotStore> store_;
  std::unique_ptr<rules::RepositoryWatcher> repositories_;
  std::unique_ptr<FileWatcher> config_watcher_;
};

// Blocks the termination signals in this thread and every thread it starts, so the main
// thread can wait for them with sigwait.
sigset_t block_termination_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace

int run_serve(const std::vector<std::string>& config_files) {
  config::Settings settings;
  try {
    settings = config::to_settings(config::load(config_files, config::process_environment()));
  } catch (const config::ConfigError& error) {
    fmt::print(stderr, "gatehouse: the configuration is invalid:\n{}\n", error.what());
    return 1;
  }
  telemetry::configure_logging(settings.log_level, settings.log_format);
  spdlog::info("gatehouse {} starting", kVersion);

  sigset_t signals = block_termination_signals();
  std::signal(SIGPIPE, SIG_IGN);

  Service service(config_files, settings);
  service.start();

  size_t workers = std::max<size_t>(1, std::thread::hardware_concurrency());
  http::Server server(workers);
  try {
    server.listen(listener_options("proxy", settings.proxy), proxy::make_proxy_handler(service.store()));
    server.listen(listener_options("api", settings.api), api::make_api_handler(service.store()));
  } catch (const std::exception& error) {
    spdlog::error("cannot listen: {}", error.what());
    return 1;
  }
  auto token_service = oauth2::start(server, settings);
  if (!token_service) {
    spdlog::error("token service: cannot start: {}", token_service.error());
    return 1;
  }
  server.start();

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  spdlog::info("received {}; finishing in-flight requests", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  server.shutdown(kShutdownGrace);
  spdlog::info("gatehouse stopped");
  return 0;
}

}  // namespace gh::app
