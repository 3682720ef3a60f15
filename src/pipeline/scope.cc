#include "pipeline/scope.h"

#include <algorithm>
#include <vector>

namespace gh::pipeline {
namespace {

std::vector<std::string_view> split_dots(std::string_view text) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    if (dot == std::string_view::npos) {
      segments.push_back(text.substr(start));
      return segments;
    }
    segments.push_back(text.substr(start, dot - start));
    start = dot + 1;
  }
}

bool exact_match(std::string_view granted, std::string_view required) { return granted == required; }

bool hierarchic_match(std::string_view granted, std::string_view required) {
  if (granted == required) return true;
  return required.size() > granted.size() && required.starts_with(granted) &&
         required[granted.size()] == '.';
}

bool wildcard_match(std::string_view pattern, std::string_view required) {
  std::vector<std::string_view> pattern_segments = split_dots(pattern);
  std::vector<std::string_view> required_segments = split_dots(required);
  if (pattern_segments.size() > required_segments.size()) return false;

  for (size_t i = 0; i < pattern_segments.size(); ++i) {
    std::string_view segment = pattern_segments[i];
    if (segment == "*") {
      if (required_segments[i].empty()) return false;
      continue;
    }
    if (segment != required_segments[i]) return false;
  }
  // A shorter pattern matches the remaining segments only through a trailing "*".
  return pattern_segments.size() == required_segments.size() || pattern_segments.back() == "*";
}

}  // namespace

std::optional<ScopeStrategy> parse_scope_strategy(std::string_view name) {
  if (name == "none") return ScopeStrategy::none;
  if (name == "exact") return ScopeStrategy::exact;
  if (name == "hierarchic") return ScopeStrategy::hierarchic;
  if (name == "wildcard") return ScopeStrategy::wildcard;
  return std::nullopt;
}

bool scope_granted(ScopeStrategy strategy, std::span<const std::string> granted,
                   std::string_view required) {
  bool (*match)(std::string_view, std::string_view) = nullptr;
  switch (strategy) {
    case ScopeStrategy::none:
      return false;
    case ScopeStrategy::exact:
      match = exact_match;
      break;
    case ScopeStrategy::hierarchic:
      match = hierarchic_match;
      break;
    case ScopeStrategy::wildcard:
      match = wildcard_match;
      break;
  }
  return std::any_of(granted.begin(), granted.end(),
                     [&](const std::string& scope) { return match(scope, required); });
}

std::optional<std::string> first_missing_scope(ScopeStrategy strategy,
                                               std::span<const std::string> granted,
                                               std::span<const std::string> required) {
  for (const std::string& scope : required) {
    if (!scope_granted(strategy, granted, scope)) return scope;
  }
  return std::nullopt;
}

}  // namespace gh::pipeline
