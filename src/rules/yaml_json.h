// YAML to JSON conversion for rule documents.
#pragma once

#include <string_view>

#include <boost/json.hpp>

namespace gh::rules {

// Parses `text` as JSON when it is valid JSON, otherwise as YAML. Plain YAML scalars become
// booleans, null, integers and floats by the YAML 1.2 core schema; quoted scalars stay strings.
// Throws std::runtime_error with the parser's message (line and column for YAML).
boost::json::value parse_json_or_yaml(std::string_view text);

}  // namespace gh::rules
