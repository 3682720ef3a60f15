// libFuzzer target: compiles the input as a template and renders it against a fixed session.
// Compile errors are expected; crashes, sanitizer reports and unbounded work are the findings.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json.hpp>

#include "text/template.h"

namespace {

const boost::json::value& fixed_session() {
  static const boost::json::value session = boost::json::parse(R"({
    "Subject": "alice",
    "Extra": {"n": 10, "f": 1.5, "b": true, "list": ["a", "b"], "map": {"k": "v"}, "s": "text"},
    "Header": {"X-Out": ["1"]},
    "MatchContext": {
      "RegexpCaptureGroups": ["one", "two"],
      "Method": "POST",
      "URL": {"Scheme": "http", "Host": "h", "Path": "/p q", "RawQuery": "a=1&b=%41"},
      "Header": {"Accept": ["*/*"]}
    }
  })");
  return session;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  try {
    auto compiled = gh::text::Template::compile(source);
    auto rendered = compiled.render(fixed_session());
    (void)rendered;
  } catch (const gh::text::TemplateError&) {
    // Invalid templates are rejected at load; that is the expected outcome for most inputs.
  }
  return 0;
}
