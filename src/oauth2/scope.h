// Scope strategies and audience matching: which requested scopes and audiences a client's
// registration allows. The rules follow Ory Hydra (fosite) so clients registered for Hydra
// behave the same here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gh::oauth2 {

enum class ScopeStrategy {
  exact,     // a requested scope must equal an allowed one
  wildcard,  // dot-separated segments; a `*` segment matches one segment, a final `*` any rest
};

// True when `requested` is allowed by at least one of `allowed` under `strategy`.
// Under wildcard, `a.*` allows `a.b` and `a.b.c` but not `a`; `a.*.c` allows `a.x.c`;
// `*` allows every scope.
bool scope_allowed(ScopeStrategy strategy, const std::vector<std::string>& allowed, std::string_view requested);

// True when `requested` is in `allowed`: equal, or both URLs with the same scheme and
// authority and a requested path equal to or below the allowed path.
bool audience_allowed(const std::vector<std::string>& allowed, std::string_view requested);

}  // namespace gh::oauth2
