// The access rule model, in Oathkeeper's rule format.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

namespace gh::rules {

// A reference to a pipeline handler by name, with the rule's own config override.
// `config` is null when the rule gives none.
struct HandlerRef {
  std::string handler;
  boost::json::value config;
};

struct Upstream {
  std::string url;
  bool preserve_host = false;
  std::string strip_path;
};

struct Rule {
  std::string id;
  // As written. Oathkeeper replaces it with its own version after applying the migrations for
  // older rule formats, but gatehouse has its own version numbers, so it keeps the original.
  std::string version;
  std::string description;
  std::string match_url;                   // pattern over scheme://host[:port]/path
  std::vector<std::string> match_methods;  // compared case-insensitively
  std::vector<HandlerRef> authenticators;
  HandlerRef authorizer;
  std::vector<HandlerRef> mutators;
  std::vector<HandlerRef> errors;
  Upstream upstream;
  boost::json::value raw;  // the rule as written, returned by GET /rules
};

// Raised when a repository document cannot be decoded; the message names the origin and,
// where known, the rule index and id.
class RuleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Decodes a repository document: a JSON or YAML array of rules. Unknown fields inside a rule
// are ignored, as Oathkeeper does. A wrong type anywhere fails the whole document.
std::vector<Rule> parse_rules(std::string_view text, std::string_view origin);

// Encodes a rule for the rules API (Oathkeeper's field names and shapes).
boost::json::value to_json(const Rule& rule);

}  // namespace gh::rules
