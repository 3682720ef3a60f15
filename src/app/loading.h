// Loading config and access rules into a snapshot, shared by `serve` and `config validate`.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace gh::app {

// Loads the config files (with environment overrides) and every rule repository they name,
// and builds the snapshot. Returns every problem found; empty means valid.
std::vector<std::string> check_config_and_rules(const std::vector<std::string>& config_files);

}  // namespace gh::app
