// libFuzzer target for config and rule documents: YAML or JSON text is parsed as a config
// document and as an access-rule repository. Parse errors are expected; crashes, sanitizer
// reports and hangs are the findings.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>

#include <spdlog/spdlog.h>

#include "config/config.h"
#include "rules/rule.h"

// Load-time warnings (PCRE2 fallbacks) would flood the output; findings come from crashes.
extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    gh::config::parse_document(text, "fuzz");
  } catch (const gh::config::ConfigError&) {
  }
  try {
    gh::rules::parse_rules(text, "fuzz");
  } catch (const gh::rules::RuleError&) {
  }
  return 0;
}
