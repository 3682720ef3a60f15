// libFuzzer target: compiles the input as a gjson path and evaluates it on a fixed document.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/json.hpp>

#include "text/gjson.h"

namespace {

const boost::json::value& fixed_document() {
  static const boost::json::value document = boost::json::parse(R"({
    "sub": "1", "a.b": 2, "obj": {"x": [1, 2, {"y": "z"}], "name": "n"},
    "list": [{"k": "v", "n": 3, "t": true}, {"k": "w", "n": 5, "t": false, "l": ["p", "q"]}]
  })");
  return document;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view path(reinterpret_cast<const char*>(data), size);
  auto compiled = gh::text::GjsonPath::compile(path);
  if (compiled) {
    auto result = compiled->get(fixed_document());
    (void)result;
  }
  return 0;
}
