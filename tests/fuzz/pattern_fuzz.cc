// libFuzzer target for access-rule patterns: the first byte picks the strategy, the rest up
// to the first newline is compiled as a match.url pattern and matched against the remainder.
// Compile errors are expected; crashes, sanitizer reports and hangs are the findings.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>
#include <vector>

#include "rules/matcher.h"

// Load-time warnings (PCRE2 fallbacks) would flood the output; findings come from crashes.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto strategy = (data[0] & 1) != 0 ? gh::rules::Strategy::glob : gh::rules::Strategy::regexp;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t newline = input.find('\n');
  const std::string_view pattern = input.substr(0, newline);
  const std::string_view target = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  auto compiled = gh::rules::Pattern::compile(strategy, pattern);
  if (!compiled) return 0;
  std::vector<std::string> captures;
  compiled->matches(target, &captures);
  return 0;
}
