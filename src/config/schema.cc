#include "config/schema.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "config/schema_text.h"

namespace gh::config::detail {
namespace {

namespace json = boost::json;

constexpr std::size_t kMaxShownValue = 80;

const json::value* member(const json::object& node, std::string_view key) {
  return node.if_contains(key);
}

bool is_integral(const json::value& value) {
  if (value.is_int64() || value.is_uint64()) {
    return true;
  }
  return value.is_double() && std::isfinite(value.as_double()) &&
         std::floor(value.as_double()) == value.as_double();
}

double as_number(const json::value& value) {
  if (value.is_int64()) {
    return static_cast<double>(value.as_int64());
  }
  if (value.is_uint64()) {
    return static_cast<double>(value.as_uint64());
  }
  return value.as_double();
}

bool has_type(const json::value& value, std::string_view type) {
  if (type == "string") return value.is_string();
  if (type == "integer") return is_integral(value);
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_bool();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "null") return value.is_null();
  return false;
}

std::string format_number(double number) {
  if (std::floor(number) == number && std::fabs(number) < 1e15) {
    return std::to_string(static_cast<long long>(number));
  }
  return json::serialize(json::value(number));
}

// A scalar as it would be written in a config file: strings without quotes.
std::string plain_text(const json::value& value) {
  if (value.is_string()) {
    return std::string(value.as_string());
  }
  return json::serialize(value);
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) {
      text += separator;
    }
    text += item;
  }
  return text;
}

// An absolute URI: a scheme, a colon and at least one more character, no spaces.
bool is_absolute_uri(std::string_view text) {
  static const std::regex pattern("^[A-Za-z][A-Za-z0-9+.-]*:[^\\s]+$");
  return std::regex_match(text.begin(), text.end(), pattern);
}

bool is_uri_reference(std::string_view text) {
  return std::none_of(text.begin(), text.end(),
                      [](char c) { return std::isspace(static_cast<unsigned char>(c)) || c == '\0'; });
}

bool matches_pattern(std::string_view text, const std::string& pattern) {
  // Schema patterns are fixed, so an invalid one is a programming error caught by the tests.
  const std::regex compiled(pattern, std::regex::ECMAScript);
  return std::regex_search(text.begin(), text.end(), compiled);
}

bool names_secret(std::string_view path) {
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view word : {"secret", "password", "key", "token"}) {
    if (lower.find(word) != std::string::npos) {
      return true;
    }
  }
  return false;
}

class Validator {
 public:
  Validator(const Schema& schema, std::vector<Problem>& problems)
      : schema_(schema), problems_(problems) {}

  void check(const json::value& value, const json::object& node, const std::string& path) {
    const json::object& resolved = schema_.resolve(node);
    if (!check_scalar(value, resolved, path)) {
      return;
    }
    if (value.is_object()) {
      check_object(value.as_object(), resolved, path);
    }
    if (value.is_array()) {
      check_array(value.as_array(), resolved, path);
    }
    check_combinators(value, resolved, path);
  }

 private:
  void invalid(const json::value& value, const json::object& node, const std::string& path) {
    problems_.push_back({path, "invalid value " + display_value(value, path) + ": expected " +
                                   describe(node)});
  }

  // Checks type, const, enum and the string and number keywords. Returns false when the
  // value failed, so that the caller does not pile up follow-on problems.
  bool check_scalar(const json::value& value, const json::object& node, const std::string& path) {
    const std::vector<std::string> types = schema_.types(node);
    const bool type_ok = types.empty() || std::any_of(types.begin(), types.end(), [&](const std::string& type) {
                           return has_type(value, type);
                         });
    if (!type_ok || !passes_value_keywords(value, node)) {
      invalid(value, node, path);
      return false;
    }
    return true;
  }

  static bool passes_value_keywords(const json::value& value, const json::object& node) {
    if (const auto* constant = member(node, "const"); constant && *constant != value) {
      return false;
    }
    if (const auto* choices = member(node, "enum"); choices && choices->is_array()) {
      const auto& array = choices->as_array();
      if (std::find(array.begin(), array.end(), value) == array.end()) {
        return false;
      }
    }
    if (value.is_string()) {
      return passes_string_keywords(value.as_string(), node);
    }
    if (value.is_number()) {
      const double number = as_number(value);
      const auto* minimum = member(node, "minimum");
      const auto* maximum = member(node, "maximum");
      if (minimum && number < as_number(*minimum)) return false;
      if (maximum && number > as_number(*maximum)) return false;
    }
    return true;
  }

  static bool passes_string_keywords(std::string_view text, const json::object& node) {
    if (const auto* min_length = member(node, "minLength");
        min_length && text.size() < static_cast<std::size_t>(as_number(*min_length))) {
      return false;
    }
    if (const auto* pattern = member(node, "pattern"); pattern && pattern->is_string() &&
                                                     !matches_pattern(text, std::string(pattern->as_string()))) {
      return false;
    }
    if (const auto* format = member(node, "format"); format && format->is_string()) {
      if (format->as_string() == "uri" && !is_absolute_uri(text)) return false;
      if (format->as_string() == "uri-reference" && !is_uri_reference(text)) return false;
    }
    return true;
  }

  void check_object(const json::object& object, const json::object& node, const std::string& path) {
    check_required(object, node, path, "");

    const auto* properties = member(node, "properties");
    const auto* additional = member(node, "additionalProperties");
    for (const auto& [key, item] : object) {
      const std::string item_path = join_path(path, key);
      const json::value* property =
          properties && properties->is_object() ? properties->as_object().if_contains(key) : nullptr;
      if (property && property->is_object()) {
        check(item, property->as_object(), item_path);
      } else if (additional && additional->is_bool() && !additional->as_bool()) {
        problems_.push_back({item_path, "unknown key; allowed keys: " + allowed_keys(properties)});
      } else if (additional && additional->is_object()) {
        check(item, additional->as_object(), item_path);
      }
    }

    if (const auto* max = member(node, "maxProperties");
        max && object.size() > static_cast<std::size_t>(as_number(*max))) {
      invalid(json::value(object), node, path);
    }
  }

  void check_required(const json::object& object, const json::object& node, const std::string& path,
                      std::string_view reason) {
    const auto* required = member(node, "required");
    if (!required || !required->is_array()) {
      return;
    }
    for (const auto& key : required->as_array()) {
      if (key.is_string() && !object.contains(key.as_string())) {
        std::string message = "missing required key";
        if (!reason.empty()) {
          message += " (required because " + std::string(reason) + ")";
        }
        problems_.push_back({join_path(path, key.as_string()), message});
      }
    }
  }

  void check_array(const json::array& array, const json::object& node, const std::string& path) {
    if (const auto* min = member(node, "minItems"); min && array.size() < static_cast<std::size_t>(as_number(*min))) {
      invalid(json::value(array), node, path);
      return;
    }
    if (const auto* unique = member(node, "uniqueItems"); unique && unique->is_bool() && unique->as_bool()) {
      for (std::size_t i = 0; i < array.size(); ++i) {
        if (std::find(array.begin(), array.begin() + static_cast<std::ptrdiff_t>(i), array[i]) !=
            array.begin() + static_cast<std::ptrdiff_t>(i)) {
          problems_.push_back({path + "[" + std::to_string(i) + "]",
                               "duplicate value " + display_value(array[i], path) + ": items must be unique"});
        }
      }
    }
    const auto* items = member(node, "items");
    if (!items || !items->is_object()) {
      return;
    }
    for (std::size_t i = 0; i < array.size(); ++i) {
      check(array[i], items->as_object(), path + "[" + std::to_string(i) + "]");
    }
  }

  void check_combinators(const json::value& value, const json::object& node, const std::string& path) {
    if (const auto* all = member(node, "allOf"); all && all->is_array()) {
      for (const auto& sub : all->as_array()) {
        check(value, sub.as_object(), path);
      }
    }
    for (const char* keyword : {"anyOf", "oneOf"}) {
      if (const auto* branches = member(node, keyword); branches && branches->is_array()) {
        check_alternatives(value, branches->as_array(), keyword == std::string_view("oneOf"), path);
      }
    }
    if (const auto* condition = member(node, "if"); condition && condition->is_object()) {
      check_conditional(value, node, condition->as_object(), path);
    }
  }

  // anyOf and oneOf: when no branch fits, the branch with the fewest problems is reported,
  // because it is the shape the author most likely meant.
  void check_alternatives(const json::value& value, const json::array& branches, bool exactly_one,
                          const std::string& path) {
    std::vector<Problem> best;
    std::size_t matches = 0;
    bool first = true;
    for (const auto& branch : branches) {
      std::vector<Problem> found;
      Validator(schema_, found).check(value, branch.as_object(), path);
      if (found.empty()) {
        ++matches;
      } else if (first || found.size() < best.size()) {
        best = std::move(found);
      }
      first = false;
    }
    if (matches == 0) {
      problems_.insert(problems_.end(), best.begin(), best.end());
    } else if (exactly_one && matches > 1) {
      problems_.push_back({path, "invalid value " + display_value(value, path) +
                                     ": it fits more than one of the allowed shapes"});
    }
  }

  void check_conditional(const json::value& value, const json::object& node, const json::object& condition,
                         const std::string& path) {
    std::vector<Problem> scratch;
    Validator(schema_, scratch).check(value, condition, path);
    const auto* branch = member(node, scratch.empty() ? "then" : "else");
    if (!branch || !branch->is_object()) {
      return;
    }
    const json::object& resolved = schema_.resolve(branch->as_object());
    if (value.is_object()) {
      const auto* reason = member(resolved, "x-reason");
      check_required(value.as_object(), resolved, path, reason && reason->is_string() ? std::string_view(reason->as_string()) : "");
      check_branch_properties(value.as_object(), resolved, path);
    }
  }

  // Properties of a then/else branch are checked against the branch. Unknown keys are reported
  // by the node that contains the branch.
  void check_branch_properties(const json::object& object, const json::object& branch, const std::string& path) {
    const auto* properties = member(branch, "properties");
    if (!properties || !properties->is_object()) {
      return;
    }
    for (const auto& [key, property] : properties->as_object()) {
      if (const auto* item = object.if_contains(key); item && property.is_object()) {
        check(*item, property.as_object(), join_path(path, key));
      }
    }
  }

  static std::string allowed_keys(const json::value* properties) {
    std::vector<std::string> keys;
    if (properties && properties->is_object()) {
      for (const auto& [key, unused] : properties->as_object()) {
        keys.emplace_back(key);
      }
    }
    std::sort(keys.begin(), keys.end());
    return keys.empty() ? "(none)" : join(keys, ", ");
  }

  std::string describe(const json::object& node) const {
    if (const auto* expected = member(node, "x-expected"); expected && expected->is_string()) {
      return std::string(expected->as_string());
    }
    if (const auto* choices = member(node, "enum"); choices && choices->is_array()) {
      std::vector<std::string> names;
      for (const auto& choice : choices->as_array()) {
        names.push_back(choice.is_string() && choice.as_string().empty() ? "\"\"" : plain_text(choice));
      }
      return "one of: " + join(names, ", ");
    }
    if (const auto* constant = member(node, "const")) {
      return json::serialize(*constant);
    }
    std::vector<std::string> descriptions;
    for (const std::string& type : schema_.types(node)) {
      descriptions.push_back(describe_type(node, type));
    }
    return descriptions.empty() ? "a valid value" : join(descriptions, " or ");
  }

  std::string describe_type(const json::object& node, std::string_view type) const {
    if (type == "integer" || type == "number") {
      return describe_number(node, type == "integer" ? "an integer" : "a number");
    }
    if (type == "string") {
      return describe_string(node);
    }
    if (type == "boolean") return "true or false";
    if (type == "null") return "null";
    if (type == "array") return describe_array(node);
    if (type == "object") return describe_object(node);
    return std::string(type);
  }

  static std::string describe_number(const json::object& node, const std::string& noun) {
    const auto* minimum = member(node, "minimum");
    const auto* maximum = member(node, "maximum");
    if (minimum && maximum) {
      return noun + " between " + format_number(as_number(*minimum)) + " and " + format_number(as_number(*maximum));
    }
    if (minimum) return noun + " of at least " + format_number(as_number(*minimum));
    if (maximum) return noun + " of at most " + format_number(as_number(*maximum));
    return noun;
  }

  static std::string describe_string(const json::object& node) {
    const auto* format = member(node, "format");
    if (format && format->is_string() && format->as_string() == "uri") {
      return "an absolute URI such as https://example.com/path";
    }
    if (format && format->is_string() && format->as_string() == "uri-reference") {
      return "a URI reference without spaces";
    }
    if (const auto* pattern = member(node, "pattern"); pattern && pattern->is_string()) {
      return "a string matching " + std::string(pattern->as_string());
    }
    if (const auto* min_length = member(node, "minLength"); min_length && as_number(*min_length) >= 1) {
      return "a non-empty string";
    }
    return "a string";
  }

  std::string describe_array(const json::object& node) const {
    const auto* items = member(node, "items");
    if (!items || !items->is_object()) {
      return "an array";
    }
    const std::vector<std::string> item_types = schema_.types(schema_.resolve(items->as_object()));
    if (item_types.size() == 1 && item_types[0] == "string") return "an array of strings";
    if (item_types.size() == 1 && item_types[0] == "object") return "an array of objects";
    return "an array";
  }

  std::string describe_object(const json::object& node) const {
    const auto* max = member(node, "maxProperties");
    const auto* properties = member(node, "properties");
    if (max && as_number(*max) == 1 && properties) {
      return "an object with exactly one of the keys " + allowed_keys(properties);
    }
    const auto* additional = member(node, "additionalProperties");
    if (additional && additional->is_object() && schema_.types(additional->as_object()) == std::vector<std::string>{"string"}) {
      return "an object of string values";
    }
    return "an object";
  }

  const Schema& schema_;
  std::vector<Problem>& problems_;
};

// The default of a key that is absent: its own "default", or else an object built from the
// defaults of its properties when at least one of them has a default.
std::optional<json::value> default_for(const Schema& schema, const json::object& node) {
  if (const auto* value = node.if_contains("default")) {
    return *value;
  }
  const json::object& resolved = schema.resolve(node);
  if (const auto* value = resolved.if_contains("default")) {
    return *value;
  }
  json::value built = json::object();
  schema.fill_defaults(built, resolved);
  if (built.as_object().empty()) {
    return std::nullopt;
  }
  return built;
}

void collect_paths(const Schema& schema, const json::object& node, const std::string& prefix,
                   std::vector<SchemaPath>& out) {
  schema.for_each_property(node, [&](std::string_view key, const json::object& property) {
    const std::string path = join_path(prefix, key);
    const json::object& resolved = schema.resolve(property);
    const bool seen = std::any_of(out.begin(), out.end(), [&](const SchemaPath& p) { return p.path == path; });
    if (!seen) {
      out.push_back({path, &resolved});
    } else if (resolved.contains("properties")) {
      // A then-branch redeclares "config" with its full shape; that declaration wins.
      for (SchemaPath& entry : out) {
        if (entry.path == path) entry.node = &resolved;
      }
    }
    collect_paths(schema, resolved, path, out);
  });
}

}  // namespace

const Schema& Schema::embedded() {
  static const Schema schema(boost::json::parse(schema_text()).as_object());
  return schema;
}

Schema::Schema(boost::json::object root) : root_(std::move(root)) {}

const json::object& Schema::resolve(const json::object& node) const {
  const json::object* current = &node;
  // A bound on the chain length guards against a $ref cycle in a hand-edited schema.
  for (int depth = 0; depth < 16; ++depth) {
    const auto* ref = current->if_contains("$ref");
    if (!ref || !ref->is_string()) {
      return *current;
    }
    std::string_view target = ref->as_string();
    constexpr std::string_view kPrefix = "#/definitions/";
    if (!target.starts_with(kPrefix)) {
      return *current;
    }
    current = &root_.at("definitions").as_object().at(target.substr(kPrefix.size())).as_object();
  }
  return *current;
}

std::vector<std::string> Schema::types(const json::object& node) const {
  const json::object& resolved = resolve(node);
  std::vector<std::string> names;
  const auto* type = resolved.if_contains("type");
  if (type && type->is_string()) {
    names.emplace_back(type->as_string());
  } else if (type && type->is_array()) {
    for (const auto& name : type->as_array()) {
      names.emplace_back(name.as_string());
    }
  }
  return names;
}

void Schema::validate(const json::value& value, const json::object& node, const std::string& path,
                      std::vector<Problem>& problems) const {
  Validator(*this, problems).check(value, node, path);
}

void Schema::fill_defaults(json::value& value, const json::object& node) const {
  if (!value.is_object()) {
    return;
  }
  json::object& object = value.as_object();
  for_each_property(node, [&](std::string_view key, const json::object& property) {
    if (auto* present = object.if_contains(key)) {
      fill_defaults(*present, property);
      return;
    }
    if (std::optional<json::value> fallback = default_for(*this, property)) {
      json::value& inserted = object[key] = std::move(*fallback);
      fill_defaults(inserted, property);
    }
  });
}

std::vector<SchemaPath> Schema::paths() const {
  std::vector<SchemaPath> out;
  collect_paths(*this, root_, "", out);
  return out;
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) {
    return std::string(key);
  }
  return std::string(parent) + "." + std::string(key);
}

std::string display_value(const json::value& value, std::string_view path) {
  if (names_secret(path)) {
    return "(redacted)";
  }
  // boost::json writes doubles in exponent form ("4E-1"); fmt gives the shortest exact form.
  std::string text = value.is_double() ? fmt::format("{}", value.as_double()) : json::serialize(value);
  if (text.size() > kMaxShownValue) {
    text.resize(kMaxShownValue);
    text += "...";
  }
  return text;
}

}  // namespace gh::config::detail
