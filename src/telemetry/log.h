// Process-wide logging set-up on spdlog, in the formats of log.format.
#pragma once

#include <string>
#include <string_view>

namespace gh::telemetry {

// Configures spdlog's default logger to write to stderr. `level` is one of panic, fatal,
// error, warn, info, debug, trace; `format` is text, json, json_pretty or gelf (json_pretty
// and gelf are written as one-line JSON). Unknown values fall back to info and text.
void configure_logging(std::string_view level, std::string_view format);

// Returns hostile input cut to `max_length` bytes with non-printable bytes escaped, for log
// lines that quote request data (paths, header names). Never pass secrets here.
std::string sanitize_for_log(std::string_view input, size_t max_length = 256);

}  // namespace gh::telemetry
