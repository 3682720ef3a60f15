#include "common/duration.h"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace gh {
namespace {

struct Unit {
  std::string_view suffix;
  double nanoseconds;
};

// Longer suffixes first, so "ms" is not read as "m" followed by garbage.
constexpr Unit kUnits[] = {
    {"ns", 1.0}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
};

std::optional<double> take_unit(std::string_view& rest) {
  for (const Unit& unit : kUnits) {
    if (rest.starts_with(unit.suffix)) {
      rest.remove_prefix(unit.suffix.size());
      return unit.nanoseconds;
    }
  }
  return std::nullopt;
}

std::optional<double> take_number(std::string_view& rest) {
  size_t length = 0;
  bool seen_digit = false;
  bool seen_dot = false;
  while (length < rest.size()) {
    char c = rest[length];
    if (c >= '0' && c <= '9') {
      seen_digit = true;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
    ++length;
  }
  if (!seen_digit) return std::nullopt;

  double value = std::stod(std::string(rest.substr(0, length)));
  rest.remove_prefix(length);
  return value;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text == "0") return Duration::zero();
  if (text.empty()) return std::nullopt;

  // Durations above ~292 years overflow int64 nanoseconds; Go rejects them too.
  constexpr double kMaxNanoseconds = 9.2e18;
  double total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::optional<double> number = take_number(rest);
    if (!number) return std::nullopt;
    std::optional<double> unit = take_unit(rest);
    if (!unit) return std::nullopt;
    total += *number * *unit;
    if (total > kMaxNanoseconds) return std::nullopt;
  }
  return Duration(static_cast<int64_t>(std::llround(total)));
}

std::string format_duration(Duration duration) {
  int64_t ns = duration.count();
  if (ns == 0) return "0s";
  if (ns % 1'000'000'000 != 0) {
    if (ns < 1'000) return fmt::format("{}ns", ns);
    if (ns < 1'000'000) return fmt::format("{}us", static_cast<double>(ns) / 1e3);
    if (ns < 1'000'000'000) return fmt::format("{}ms", static_cast<double>(ns) / 1e6);
  }
  int64_t seconds = ns / 1'000'000'000;
  int64_t hours = seconds / 3600;
  int64_t minutes = (seconds % 3600) / 60;
  double rest = static_cast<double>(ns % 60'000'000'000) / 1e9;
  std::string out;
  if (hours > 0) out += fmt::format("{}h", hours);
  if (hours > 0 || minutes > 0) out += fmt::format("{}m", minutes);
  out += fmt::format("{}s", rest);
  return out;
}

}  // namespace gh
