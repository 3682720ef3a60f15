// The validator and default filler for the JSON Schema subset used by schema.json.
//
// Supported keywords: $ref (local "#/definitions/..."), type (one name or a list), properties,
// additionalProperties (false or a schema), required, enum, const, pattern, format (uri,
// uri-reference), minLength, minimum, maximum, items, minItems, uniqueItems, maxProperties,
// allOf, anyOf, oneOf, if/then/else and default. Two annotations are gatehouse's own:
// "x-expected" replaces the generated description of the allowed values in messages, and
// "x-reason" on a then-branch explains in messages why its required keys are required.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "config/config.h"

namespace gh::config::detail {

// A schema node that has a type, with its dotted path ("serve.proxy.port").
struct SchemaPath {
  std::string path;
  const boost::json::object* node;
};

class Schema {
 public:
  // The schema embedded from schema.json, parsed once.
  static const Schema& embedded();

  explicit Schema(boost::json::object root);

  const boost::json::object& root() const { return root_; }

  // Appends one problem for every violation found in `value`; `path` prefixes their paths.
  void validate(const boost::json::value& value, const boost::json::object& node,
                const std::string& path, std::vector<Problem>& problems) const;

  // Inserts the default of every absent key that has one, creating parent objects as needed.
  void fill_defaults(boost::json::value& value, const boost::json::object& node) const;

  // Every key path the schema describes, objects included, in schema order.
  std::vector<SchemaPath> paths() const;

  // The JSON type names a node allows ("string", "integer", ...), following $ref.
  std::vector<std::string> types(const boost::json::object& node) const;

  // Follows a $ref chain to the node that contains the keywords.
  const boost::json::object& resolve(const boost::json::object& node) const;

  // Calls `visit(key, schema)` for every property a node declares, also those declared in
  // allOf members and in if/then/else branches.
  template <typename Visit>
  void for_each_property(const boost::json::object& node, Visit&& visit) const;

 private:
  boost::json::object root_;
};

// Formats a value for a message: JSON text cut to about 80 characters, or "(redacted)" when
// a segment of `path` names a secret.
std::string display_value(const boost::json::value& value, std::string_view path);

// Joins a parent path and a key with a dot.
std::string join_path(std::string_view parent, std::string_view key);

template <typename Visit>
void Schema::for_each_property(const boost::json::object& node, Visit&& visit) const {
  const boost::json::object& resolved = resolve(node);
  if (const auto* properties = resolved.if_contains("properties"); properties && properties->is_object()) {
    for (const auto& [key, schema] : properties->as_object()) {
      if (schema.is_object()) {
        visit(std::string_view(key), schema.as_object());
      }
    }
  }
  for (const char* branch : {"then", "else"}) {
    if (const auto* sub = resolved.if_contains(branch); sub && sub->is_object()) {
      for_each_property(sub->as_object(), visit);
    }
  }
  if (const auto* all = resolved.if_contains("allOf"); all && all->is_array()) {
    for (const auto& member : all->as_array()) {
      if (member.is_object()) {
        for_each_property(member.as_object(), visit);
      }
    }
  }
}

}  // namespace gh::config::detail
