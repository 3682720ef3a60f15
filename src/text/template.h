// Go text/template subset used by mutator and authorizer templates in access rules.
//
// Data is a JSON value built from the authentication session:
//   {"Subject": "...", "Extra": {...}, "Header": {"X-Name": ["v"]},
//    "MatchContext": {"RegexpCaptureGroups": ["..."], "Method": "GET",
//                     "URL": {"Scheme": "http", "Host": "h", "Path": "/p", "RawQuery": "a=b"},
//                     "Header": {"Canonical-Name": ["v1", "v2"]}}}
// Method calls that real rules use are supported on that data: `.Header.Get "name"` (header
// lookup by canonical name, first value), `.URL.Query.Get "q"`, `.URL.String`.
// A missing map key renders as the empty string.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "common/expected.h"

namespace gh::text {

// Raised by Template::compile; the message gives the position and what is wrong.
class TemplateError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The parts of the data that a template can read, found by walking its parse tree, so the
// caller can leave out the parts that no template reads.
struct DataUse {
  // True when the template reads the data as a whole (`.` at the top level, or `$`).
  bool everything = false;
  // Field chains read from the top level, cut to their first two names ("Subject",
  // "MatchContext.Header"). A chain of one name means the whole member is read.
  std::vector<std::string> paths;

  // True when member `name` may be read, or with `child`, when its member `child` may be.
  bool reads(std::string_view name, std::string_view child = {}) const;
  // Adds every part that `other` reads.
  void merge(const DataUse& other);
};

class Template {
 public:
  // Parses once, at config or rule load. Unknown functions are parse errors.
  static Template compile(std::string_view source);

  // Executes the template against `data`. Execution errors (index out of range, wrong argument
  // types, output over 1 MiB, more than 100,000 range iterations) are returned, not thrown;
  // only std::bad_alloc can escape. Thread-safe, because a compiled template is immutable.
  Expected<std::string, std::string> render(const boost::json::value& data) const;

  const std::string& source() const;

  // The parts of the data this template can read.
  const DataUse& data_use() const;

  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

 private:
  struct Impl;
  explicit Template(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace gh::text
