// Loading config and access rules into a snapshot, shared by `serve`, `config validate` and
// `rules test`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/expected.h"
#include "config/config.h"
#include "pipeline/snapshot.h"

namespace gh::app {

// Loads the config files (with environment overrides) and every rule repository they name,
// and builds the snapshot. The error lists every problem found.
Expected<std::shared_ptr<const pipeline::Snapshot>, std::vector<std::string>> load_snapshot(
    const std::vector<std::string>& config_files);

// The problems load_snapshot finds; empty means valid.
std::vector<std::string> check_config_and_rules(const std::vector<std::string>& config_files);

}  // namespace gh::app
