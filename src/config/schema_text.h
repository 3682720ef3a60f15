// The config schema (src/config/schema.json), compiled into the library.
#pragma once

#include <string>

namespace gh::config {

// Returns the text of schema.json as it was when embed_schema.py last ran.
std::string schema_text();

}  // namespace gh::config
