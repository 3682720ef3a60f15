// Durations in Oathkeeper's config syntax: an unsigned integer followed by one unit
// (ns, us, ms, s, m, h), for example "5s" or "150ms". Go's time.ParseDuration also accepts
// fractions and unit sequences ("1h30m"); those are accepted here too, because configs
// written for Go programs use them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace gh {

using Duration = std::chrono::nanoseconds;

// Parses a Go-style duration. Returns nullopt for anything else, including negative values.
std::optional<Duration> parse_duration(std::string_view text);

// Formats a duration the way Go prints it ("1m30s", "250ms", "0s").
std::string format_duration(Duration duration);

}  // namespace gh
