// `gatehouse migrate sql`: brings the token-service database schema up to date.
#include <fmt/format.h>

#include "app/commands.h"
#include "config/config.h"
#include "oauth2/settings.h"
#include "oauth2/storage/storage.h"

namespace gh::app {

int run_migrate_sql(const std::vector<std::string>& config_files, const std::string& dsn_option) {
  std::string dsn = dsn_option;
  if (dsn.empty()) {
    if (config_files.empty()) {
      fmt::print(stderr, "gatehouse: migrate sql needs --dsn or a config file (-c) that sets oauth2.dsn\n");
      return 2;
    }
    try {
      auto settings = oauth2::read_settings(config::load(config_files, config::process_environment()));
      if (!settings) {
        fmt::print(stderr, "gatehouse: {}\n", settings.error());
        return 1;
      }
      dsn = settings->dsn;
    } catch (const config::ConfigError& error) {
      fmt::print(stderr, "gatehouse: the configuration is invalid:\n{}\n", error.what());
      return 1;
    }
  }
  if (dsn == "memory") {
    fmt::print(stderr, "gatehouse: the memory DSN is created fresh by every process; there is nothing to migrate\n");
    return 2;
  }

  auto storage = oauth2::open_storage(dsn);
  if (!storage) {
    fmt::print(stderr, "gatehouse: {}\n", storage.error());
    return 1;
  }
  auto before = (*storage)->schema_version();
  auto after = (*storage)->migrate();
  if (!after) {
    fmt::print(stderr, "gatehouse: migration failed: {}\n", after.error().message);
    return 1;
  }
  fmt::print("schema at version {} (was {})\n", *after, before ? *before : 0);
  return 0;
}

}  // namespace gh::app
