// The syntax layer under Pattern: finding the <…> sections of a match.url pattern and
// translating glob syntax to RE2 syntax. Exposed for tests and for `rules test` output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace gh::rules {

// One top-level <…> section: `begin` is the offset of '<', `end` is one past the matching '>'.
struct Section {
  size_t begin = 0;
  size_t end = 0;
};

// Finds the top-level sections. Sections may nest ("<<>>" is one section); a '>' without an
// opening '<' or a '<' left open is an error.
Expected<std::vector<Section>, std::string> find_sections(std::string_view pattern);

// Translates a glob with separators '.' and '/' to an RE2 expression that never captures:
// `*` is any run without a separator, `**` any run, `?` one character that is not a
// separator, `[abc]`, `[!abc]`, `[a-z]` character classes, `{a,b}` alternatives, and `\x`
// the literal x. The error names unclosed brackets or braces.
Expected<std::string, std::string> glob_to_re2(std::string_view glob);

}  // namespace gh::rules
