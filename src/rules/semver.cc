#include "rules/semver.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace gh::rules {

namespace {

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool valid_identifier(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
  });
}

// A numeric core part: digits without a leading zero (except "0" itself).
std::optional<uint64_t> parse_number(std::string_view text) {
  if (!all_digits(text) || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

std::optional<SemanticVersion> parse_semantic_version(std::string_view text) {
  if (text.starts_with('v')) text.remove_prefix(1);

  if (const size_t plus = text.find('+'); plus != std::string_view::npos) {
    for (std::string_view part : split(text.substr(plus + 1), '.')) {
      if (!valid_identifier(part)) return std::nullopt;
    }
    text = text.substr(0, plus);
  }

  SemanticVersion version;
  if (const size_t dash = text.find('-'); dash != std::string_view::npos) {
    for (std::string_view part : split(text.substr(dash + 1), '.')) {
      const bool leading_zero = all_digits(part) && part.size() > 1 && part[0] == '0';
      if (!valid_identifier(part) || leading_zero) return std::nullopt;
      version.prerelease.emplace_back(part);
    }
    text = text.substr(0, dash);
  }

  const std::vector<std::string_view> core = split(text, '.');
  if (core.size() != 3) return std::nullopt;
  const auto major = parse_number(core[0]);
  const auto minor = parse_number(core[1]);
  const auto patch = parse_number(core[2]);
  if (!major || !minor || !patch) return std::nullopt;
  version.major = *major;
  version.minor = *minor;
  version.patch = *patch;
  return version;
}

int compare(const SemanticVersion& a, const SemanticVersion& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;

  // A release ranks above any of its pre-releases.
  if (a.prerelease.empty() || b.prerelease.empty()) {
    return a.prerelease.empty() == b.prerelease.empty() ? 0 : (a.prerelease.empty() ? 1 : -1);
  }

  for (size_t i = 0; i < std::min(a.prerelease.size(), b.prerelease.size()); ++i) {
    const std::string& x = a.prerelease[i];
    const std::string& y = b.prerelease[i];
    if (x == y) continue;
    const bool x_numeric = all_digits(x);
    const bool y_numeric = all_digits(y);
    if (x_numeric && y_numeric) {
      if (x.size() != y.size()) return x.size() < y.size() ? -1 : 1;
      return x < y ? -1 : 1;
    }
    if (x_numeric != y_numeric) return x_numeric ? -1 : 1;  // numeric identifiers rank lower
    return x < y ? -1 : 1;
  }
  if (a.prerelease.size() == b.prerelease.size()) return 0;
  return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
}

}  // namespace gh::rules
