// The functions a template may call: Go's built-ins, Oathkeeper's `print` and `printIndex`,
// and the commonly used Sprig functions. Functions that read the environment, the clock or
// randomness are deliberately absent, so a template's output depends on its data only.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "text/template_value.h"

namespace gh::text::detail {

// Computes a result from evaluated arguments, whose count the caller has checked against the
// function's arity. On failure it stores a message in `error` and the result is ignored.
using Function = Value (*)(std::span<const Value> args, std::string& error);

struct FunctionSpec {
  std::string_view name;
  size_t min_args;
  size_t max_args;
  Function call;  // nullptr for `and` and `or`, which the executor evaluates lazily
};

// Returns the function with this name, or nullptr when templates may not call it.
const FunctionSpec* find_function(std::string_view name);

inline bool is_function(std::string_view name) { return find_function(name) != nullptr; }

// Formats operands like Go's fmt.Sprint: a space between two operands when neither is a string.
std::string sprint(std::span<const Value> args);

// Formats like Go's fmt.Sprintf for the verbs %v %s %d %q %x %X %t %f %e %g and %%.
std::string sprintf_go(std::string_view format, std::span<const Value> args);

// Upper bound in bytes for any one string a function builds, so that nested string functions
// cannot grow memory beyond the output limit of a render.
inline constexpr size_t kMaxStringBytes = size_t{1} << 20;

}  // namespace gh::text::detail
