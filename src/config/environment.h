// Environment overrides of config keys.
#pragma once

#include <vector>

#include <boost/json.hpp>

#include "config/config.h"
#include "config/schema.h"

namespace gh::config::detail {

// Sets every schema key named by a variable in `environment` (SERVE_PROXY_PORT sets
// serve.proxy.port). Values are converted to the key's schema type; a value that cannot be
// converted is a problem that names the variable. Variables that name no key are ignored.
void apply_environment(boost::json::value& document, const Environment& environment, const Schema& schema,
                       std::vector<Problem>& problems);

}  // namespace gh::config::detail
