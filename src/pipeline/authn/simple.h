// The authenticators that need no remote call: noop, anonymous and unauthorized.
#pragma once

#include <memory>
#include <string>

#include <boost/json.hpp>

#include "common/expected.h"
#include "pipeline/handler.h"

namespace gh::pipeline::authn {

// noop: authenticates every request with an empty subject. The authorizer and mutators
// still run.
Expected<std::shared_ptr<const Authenticator>, std::string> make_noop(
    const boost::json::object& config);

// anonymous: authenticates requests without an Authorization header as `config.subject`
// (default "anonymous"); not responsible when the header is present and non-empty.
Expected<std::shared_ptr<const Authenticator>, std::string> make_anonymous(
    const boost::json::object& config);

// unauthorized: rejects every request with 401 and stops the chain.
Expected<std::shared_ptr<const Authenticator>, std::string> make_unauthorized(
    const boost::json::object& config);

}  // namespace gh::pipeline::authn
