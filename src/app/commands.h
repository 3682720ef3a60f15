// Subcommands of the gatehouse binary. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace gh::app {

int run_serve(const std::vector<std::string>& config_files);
int run_config_validate(const std::vector<std::string>& config_files);
int run_version();
int run_health(const std::string& endpoint, const std::string& check);
int run_credentials_generate(const std::string& algorithm, const std::string& kid, int bits);

}  // namespace gh::app
