#include "app/loading.h"

#include <fmt/format.h>

#include "pipeline/snapshot.h"
#include "rules/repository.h"

namespace gh::app {

std::vector<std::string> check_config_and_rules(const std::vector<std::string>& config_files) {
  std::vector<std::string> problems;
  config::Settings settings;
  try {
    settings = config::to_settings(config::load(config_files, config::process_environment()));
  } catch (const config::ConfigError& error) {
    for (const config::Problem& problem : error.problems()) {
      problems.push_back(fmt::format("{}: {}", problem.path, problem.message));
    }
    return problems;
  }

  std::vector<rules::Rule> all_rules;
  for (const std::string& url : settings.repositories) {
    auto loaded = rules::load_repository(url);
    if (!loaded) {
      problems.push_back(loaded.error());
      continue;
    }
    for (rules::Rule& rule : *loaded) all_rules.push_back(std::move(rule));
  }
  for (std::string& problem : pipeline::validate_rules(settings, all_rules)) problems.push_back(std::move(problem));
  return problems;
}

}  // namespace gh::app
