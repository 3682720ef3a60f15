// Scope strategies: how a required scope is matched against the scopes a token grants.
// The rules follow Oathkeeper (which takes them from the fosite library):
//
//   exact       some granted scope equals the required one.
//   hierarchic  some granted scope equals it, or is a prefix of it that ends at a '.'
//               ("foo" grants "foo.bar", "foo.bar" does not grant "foo").
//   wildcard    granted scopes are '.'-separated patterns where "*" matches one non-empty
//               segment; a trailing "*" also matches every further segment ("foo.*" grants
//               "foo.bar" and "foo.bar.baz", but not "foo").
//   none        no local check.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gh::pipeline {

enum class ScopeStrategy { none, exact, hierarchic, wildcard };

// Parses a `scope_strategy` value. Returns nullopt for names other than the four above;
// Oathkeeper treats those like "none", which callers decide for themselves.
std::optional<ScopeStrategy> parse_scope_strategy(std::string_view name);

// True when `granted` grants `required` under `strategy`. `none` grants nothing, because
// a strategy that checks nothing cannot confirm a scope.
bool scope_granted(ScopeStrategy strategy, std::span<const std::string> granted,
                   std::string_view required);

// Returns the first scope of `required` that `granted` does not grant, or nullopt when every
// one is granted.
std::optional<std::string> first_missing_scope(ScopeStrategy strategy,
                                               std::span<const std::string> granted,
                                               std::span<const std::string> required);

}  // namespace gh::pipeline
