#include "app/loading.h"

#include <fmt/format.h>

#include "rules/repository.h"

namespace gh::app {

Expected<std::shared_ptr<const pipeline::Snapshot>, std::vector<std::string>> load_snapshot(
    const std::vector<std::string>& config_files) {
  std::vector<std::string> problems;
  config::Settings settings;
  try {
    settings = config::to_settings(config::load(config_files, config::process_environment()));
  } catch (const config::ConfigError& error) {
    for (const config::Problem& problem : error.problems()) {
      problems.push_back(fmt::format("{}: {}", problem.path, problem.message));
    }
    return Unexpected{std::move(problems)};
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

  auto snapshot = pipeline::build_snapshot(std::move(settings), std::move(all_rules));
  if (!snapshot) problems.insert(problems.end(), snapshot.error().begin(), snapshot.error().end());
  if (!problems.empty()) return Unexpected{std::move(problems)};
  return *snapshot;
}

std::vector<std::string> check_config_and_rules(const std::vector<std::string>& config_files) {
  auto snapshot = load_snapshot(config_files);
  if (snapshot) return {};
  return snapshot.error();
}

}  // namespace gh::app
