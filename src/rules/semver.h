// Semantic versions as rule files use them ("v0.38.0-beta.1", "0.40.1").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gh::rules {

struct SemanticVersion {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::vector<std::string> prerelease;  // dot-separated identifiers; empty for a release
};

// Parses MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] with an optional leading "v" (semver 2.0.0).
std::optional<SemanticVersion> parse_semantic_version(std::string_view text);

// Orders by semver 2.0.0 precedence: negative, zero or positive. Build metadata is ignored.
int compare(const SemanticVersion& a, const SemanticVersion& b);

}  // namespace gh::rules
