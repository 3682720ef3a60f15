// The noop mutator: passes the inbound request headers on unchanged.
#pragma once

#include <memory>
#include <string>

#include <boost/json.hpp>

#include "common/expected.h"
#include "pipeline/handler.h"

namespace gh::pipeline::mutate {

// Copies every inbound header (first value of each name, hop-by-hop headers and
// Content-Length excluded) into the session's headers, keeping values an authorizer already
// set. The decision API therefore returns the inbound headers, as Oathkeeper does.
Expected<std::shared_ptr<const Mutator>, std::string> make_noop(const boost::json::object& config);

}  // namespace gh::pipeline::mutate
