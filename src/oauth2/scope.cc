#include "oauth2/scope.h"

#include <boost/url/parse.hpp>

#include "oauth2/form.h"

namespace gh::oauth2 {
namespace {

std::vector<std::string_view> split_dots(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    std::size_t dot = text.find('.');
    parts.push_back(text.substr(0, dot));
    if (dot == std::string_view::npos) return parts;
    text = text.substr(dot + 1);
  }
}

bool wildcard_matches(std::string_view pattern, std::string_view requested) {
  if (pattern == requested) return true;
  std::vector<std::string_view> expected = split_dots(pattern);
  std::vector<std::string_view> actual = split_dots(requested);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    bool last = i + 1 == expected.size();
    if (i >= actual.size()) return false;
    if (expected[i] == "*") {
      if (actual[i].empty()) return false;
      // A final `*` also takes every further segment.
      if (last) return true;
      continue;
    }
    if (expected[i] != actual[i]) return false;
  }
  return actual.size() == expected.size();
}

std::string_view trim_trailing_slashes(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace

bool scope_allowed(ScopeStrategy strategy, const std::vector<std::string>& allowed, std::string_view requested) {
  for (const std::string& candidate : allowed) {
    if (strategy == ScopeStrategy::exact ? candidate == requested : wildcard_matches(candidate, requested)) return true;
  }
  return false;
}

bool audience_allowed(const std::vector<std::string>& allowed, std::string_view requested) {
  auto requested_url = boost::urls::parse_absolute_uri(requested);
  for (const std::string& candidate : allowed) {
    if (candidate == requested) return true;
    if (!requested_url) continue;
    auto allowed_url = boost::urls::parse_absolute_uri(candidate);
    if (!allowed_url) continue;
    if (allowed_url->scheme() != requested_url->scheme() ||
        allowed_url->encoded_authority() != requested_url->encoded_authority()) {
      continue;
    }
    std::string_view base = trim_trailing_slashes(allowed_url->encoded_path());
    std::string_view path = trim_trailing_slashes(requested_url->encoded_path());
    if (path == base || (path.starts_with(base) && path[base.size()] == '/')) return true;
  }
  return false;
}

}  // namespace gh::oauth2
