#include "oauth2/service.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include "oauth2/endpoints.h"
#include "oauth2/storage/postgres.h"

namespace gh::oauth2 {
namespace {

// Threads for storage calls and secret hashing. PBKDF2 checks occupy a thread for tens of
// milliseconds, and the PostgreSQL pool has as many connections as this has threads.
constexpr std::size_t kBlockingThreads = kPostgresConnections;

class Service final : public RunningService {
 public:
  Service(std::shared_ptr<TokenService> service, std::shared_ptr<boost::asio::thread_pool> pool)
      : service_(std::move(service)), pool_(std::move(pool)), purger_([this] { purge_loop(); }) {}

  ~Service() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    purger_.join();
    pool_->join();
  }

 private:
  void purge_loop() {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, service_->settings().purge_interval, [this] { return stopping_; })) {
      lock.unlock();
      auto purged = service_->purge();
      if (!purged) {
        spdlog::error("token service: purging expired tokens failed: {}", purged.error());
      } else if (*purged > 0) {
        spdlog::info("token service: purged {} expired tokens", *purged);
      }
      lock.lock();
    }
  }

  std::shared_ptr<TokenService> service_;
  std::shared_ptr<boost::asio::thread_pool> pool_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread purger_;  // last member: it starts in the constructor and reads the others
};

http::ListenerOptions listener_options(std::string name, const ListenerSettings& listener) {
  http::ListenerOptions options;
  options.name = std::move(name);
  options.host = listener.host;
  options.port = listener.port;
  options.read_timeout = listener.read_timeout;
  options.write_timeout = listener.write_timeout;
  options.idle_timeout = listener.idle_timeout;
  return options;
}

}  // namespace

gh::Expected<std::unique_ptr<RunningService>, std::string> start(http::Server& server, const config::Settings& config) {
  auto settings = read_settings(config.document);
  if (!settings) return gh::Unexpected(settings.error());
  if (!settings->enabled) return std::unique_ptr<RunningService>();

  auto storage = open_storage(settings->dsn);
  if (!storage) return gh::Unexpected(storage.error());
  auto service = std::make_shared<TokenService>(*settings, std::move(*storage));
  if (auto prepared = service->prepare(); !prepared) return gh::Unexpected(prepared.error());

  auto pool = std::make_shared<boost::asio::thread_pool>(kBlockingThreads);
  try {
    server.listen(listener_options("oauth2 public", settings->public_listener), make_public_handler(service, pool));
    server.listen(listener_options("oauth2 admin", settings->admin_listener), make_admin_handler(service, pool));
  } catch (const std::exception& error) {
    pool->join();
    return gh::Unexpected(std::string("cannot listen: ") + error.what());
  }
  spdlog::info("token service: issuer {}, {} access tokens", settings->issuer, settings->access_token_strategy);
  return std::unique_ptr<RunningService>(std::make_unique<Service>(std::move(service), std::move(pool)));
}

}  // namespace gh::oauth2
