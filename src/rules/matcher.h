// Compiled access rules and the matcher that selects the one rule for a request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"
#include "rules/rule.h"

namespace gh::rules {

enum class Strategy { regexp, glob };

// Parses "regexp" (also the empty string) or "glob".
Expected<Strategy, std::string> parse_strategy(std::string_view name);

// A compiled match.url pattern. Text outside <…> is literal; each top-level <…> section is a
// regular expression (regexp strategy, capturing) or a glob with separators '.' and '/'.
// The whole target must match.
class Pattern {
 public:
  // Compiles once. The error names the problem (unbalanced delimiters, invalid syntax).
  static Expected<Pattern, std::string> compile(Strategy strategy, std::string_view pattern);

  // True when the whole target matches; fills `captures` (may be null) with every capture
  // group in order, nested groups included. Glob patterns never capture.
  bool matches(std::string_view target, std::vector<std::string>* captures) const;

  // True when the pattern needs look-around or back-references and runs on PCRE2.
  bool uses_pcre2() const;

  const std::string& source() const;

  // The RE2-syntax regular expression the pattern compiles to, or empty for PCRE2 patterns.
  const std::string& re2_expression() const;

  ~Pattern();
  Pattern(Pattern&&) noexcept;
  Pattern& operator=(Pattern&&) noexcept;

 private:
  struct Impl;
  explicit Pattern(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct MatchResult {
  enum class Kind { none, one, many };
  Kind kind = Kind::none;
  size_t index = 0;                   // Kind::one: index into the rule list
  std::vector<std::string> captures;  // Kind::one: regexp capture groups
  std::vector<size_t> indexes;        // Kind::many: every matching rule
};

// An immutable set of compiled rules. Safe for concurrent match() calls without locking.
class Matcher {
 public:
  // Compiles every rule's pattern. The error lists each bad rule as
  // `rule "<id>": invalid match.url pattern "<pattern>": <reason>`.
  static Expected<std::shared_ptr<const Matcher>, std::vector<std::string>> build(
      std::vector<Rule> rules, Strategy strategy);

  // `method` is the request method; `url` is scheme://host[:port] followed by the
  // normalized path (no query).
  MatchResult match(std::string_view method, std::string_view url) const;

  const std::vector<Rule>& rules() const;
  Strategy strategy() const;

  // Number of requests whose RE2::Set pass ran out of DFA memory and were matched by
  // checking each pattern in turn instead.
  uint64_t dfa_fallbacks() const;

  ~Matcher();

 private:
  struct Impl;
  explicit Matcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gh::rules
