// The authorizers that need no remote call: allow and deny.
#pragma once

#include <memory>
#include <string>

#include <boost/json.hpp>

#include "common/expected.h"
#include "pipeline/handler.h"

namespace gh::pipeline::authz {

// allow: permits every authenticated request.
Expected<std::shared_ptr<const Authorizer>, std::string> make_allow(const boost::json::object& config);

// deny: rejects every request with 403.
Expected<std::shared_ptr<const Authorizer>, std::string> make_deny(const boost::json::object& config);

}  // namespace gh::pipeline::authz
