// The `when` conditions that select an error handler.
#pragma once

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "common/expected.h"
#include "pipeline/error.h"
#include "pipeline/session.h"

namespace gh::pipeline::errors {

// One item of `when`: all of its parts must hold. Items are alternatives.
struct Condition {
  std::vector<std::string> errors;         // error names; empty means any error
  std::vector<std::string> content_types;  // request Content-Type must match one, if set
  std::vector<std::string> accepts;        // one request Accept entry must match one, if set
};

// Parses config.when. An absent or empty `when` yields no conditions (always responsible).
Expected<std::vector<Condition>, std::string> parse_when(const boost::json::object& config);

bool conditions_hold(const std::vector<Condition>& conditions, const Request& request,
                     const Error& error);

}  // namespace gh::pipeline::errors
