// The subset of gjson path syntax used by subject_from and extra_from: dotted keys, escaped
// dots (fav\.movie), array indexes (a.0.b), array length (a.#), mapping over arrays (a.#.b),
// queries (a.#(k=="v").x and #(...)#), key wildcards (* and ?), and the @this modifier.
#pragma once

#include <memory>
#include <optional>
#include <vector>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "common/expected.h"

namespace gh::text {

namespace detail {
class GjsonCompiler;
}

class GjsonPath {
 public:
  // The error names the position and the problem.
  static Expected<GjsonPath, std::string> compile(std::string_view path);

  // Returns the value at the path, or nullopt when nothing matches.
  std::optional<boost::json::value> get(const boost::json::value& document) const;

  const std::string& source() const { return source_; }

  // One compiled path component; defined in gjson.cc.
  struct Step;

 private:
  friend class detail::GjsonCompiler;

  std::string source_;
  std::shared_ptr<const std::vector<Step>> steps_;
};

}  // namespace gh::text
