#include <cstdio>

#include <fmt/format.h>

#include "app/commands.h"
#include "app/loading.h"

namespace gh::app {

int run_config_validate(const std::vector<std::string>& config_files) {
  std::vector<std::string> problems = check_config_and_rules(config_files);
  if (problems.empty()) {
    fmt::print("The configuration is valid.\n");
    return 0;
  }
  fmt::print(stderr, "The configuration is invalid ({} {}):\n", problems.size(),
             problems.size() == 1 ? "problem" : "problems");
  for (const std::string& problem : problems) fmt::print(stderr, "  {}\n", problem);
  return 1;
}

}  // namespace gh::app
