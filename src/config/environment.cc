#include "config/environment.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_map>

extern char** environ;  // NOLINT: POSIX declares it only for the C library's own use.

namespace gh::config {

Environment process_environment() {
  Environment environment;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string_view::npos) {
      environment.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    }
  }
  return environment;
}

namespace detail {
namespace {

namespace json = boost::json;

// Lowercases and turns every '_' into '.', so that "SERVE_PROXY_PORT" and the schema path
// "serve.proxy.port" compare equal, and so do underscores inside key names
// ("introspection_url" and "INTROSPECTION_URL").
std::string normalize(std::string_view name) {
  std::string text(name);
  for (char& c : text) {
    c = c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::optional<json::value> parse_json(std::string_view text) {
  boost::system::error_code error;
  json::value value = json::parse(text, error);
  if (error) {
    return std::nullopt;
  }
  return value;
}

std::optional<json::value> to_integer(std::string_view text) {
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return json::value(number);
}

std::optional<json::value> to_number(std::string_view text) {
  if (auto integer = to_integer(text)) {
    return integer;
  }
  std::optional<json::value> parsed = parse_json(text);
  if (!parsed || !parsed->is_double()) {
    return std::nullopt;
  }
  return parsed;
}

// The spellings Go's strconv.ParseBool accepts, which Oathkeeper users already write.
std::optional<json::value> to_boolean(std::string_view text) {
  static const std::unordered_map<std::string_view, bool> kSpellings = {
      {"1", true},  {"t", true},  {"T", true},  {"true", true},   {"TRUE", true},   {"True", true},
      {"0", false}, {"f", false}, {"F", false}, {"false", false}, {"FALSE", false}, {"False", false}};
  if (auto found = kSpellings.find(text); found != kSpellings.end()) {
    return json::value(found->second);
  }
  return std::nullopt;
}

std::optional<json::value> coerce(std::string_view text, const std::string& type, const Schema& schema,
                                  const json::object& node);

// JSON text ("[\"a\",\"b\"]") or a comma-separated list, each item converted to the item type.
std::optional<json::value> to_array(std::string_view text, const Schema& schema, const json::object& node) {
  if (trim(text).starts_with('[')) {
    std::optional<json::value> parsed = parse_json(text);
    return parsed && parsed->is_array() ? parsed : std::nullopt;
  }
  json::array array;
  if (trim(text).empty()) {
    return json::value(array);
  }
  const auto* items = node.if_contains("items");
  const std::vector<std::string> item_types =
      items && items->is_object() ? schema.types(items->as_object()) : std::vector<std::string>{};
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const std::string item = trim(text.substr(start, comma - start));
    std::optional<json::value> value =
        item_types.size() == 1 ? coerce(item, item_types[0], schema, schema.resolve(items->as_object())) : json::value(item);
    if (!value) {
      return std::nullopt;
    }
    array.push_back(std::move(*value));
    start = comma + 1;
  }
  return json::value(array);
}

std::optional<json::value> coerce(std::string_view text, const std::string& type, const Schema& schema,
                                  const json::object& node) {
  if (type == "string") return json::value(text);
  if (type == "integer") return to_integer(trim(text));
  if (type == "number") return to_number(trim(text));
  if (type == "boolean") return to_boolean(trim(text));
  if (type == "array") return to_array(text, schema, node);
  std::optional<json::value> parsed = parse_json(text);
  if (parsed && ((type == "object" && parsed->is_object()) || (type == "null" && parsed->is_null()))) {
    return parsed;
  }
  return std::nullopt;
}

// Tries each type the key allows, in schema order.
std::optional<json::value> coerce_any(std::string_view text, const Schema& schema, const json::object& node) {
  const std::vector<std::string> types = schema.types(node);
  if (types.empty()) {
    return parse_json(text).value_or(json::value(text));
  }
  for (const std::string& type : types) {
    if (std::optional<json::value> value = coerce(text, type, schema, node)) {
      return value;
    }
  }
  return std::nullopt;
}

std::string describe_types(const std::vector<std::string>& types) {
  std::string text;
  for (const std::string& type : types) {
    text += text.empty() ? "" : " or ";
    if (type == "array") text += "a JSON array or a comma-separated list";
    else if (type == "object") text += "a JSON object";
    else if (type == "integer") text += "an integer";
    else if (type == "boolean") text += "true or false";
    else text += "a " + type;
  }
  return text;
}

// Sets `value` at a dotted path, replacing scalars on the way with objects.
void set_path(json::value& document, std::string_view path, json::value value) {
  json::value* current = &document;
  std::size_t start = 0;
  while (true) {
    if (!current->is_object()) {
      *current = json::object();
    }
    const auto dot = path.find('.', start);
    const std::string_view key = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (dot == std::string_view::npos) {
      current->as_object()[key] = std::move(value);
      return;
    }
    current = &current->as_object()[key];
    start = dot + 1;
  }
}

}  // namespace

void apply_environment(json::value& document, const Environment& environment, const Schema& schema,
                       std::vector<Problem>& problems) {
  std::unordered_map<std::string, const SchemaPath*> by_name;
  const std::vector<SchemaPath> paths = schema.paths();
  for (const SchemaPath& path : paths) {
    by_name.emplace(normalize(path.path), &path);
  }

  for (const auto& [name, text] : environment) {
    const auto found = by_name.find(normalize(name));
    if (found == by_name.end()) {
      continue;
    }
    const SchemaPath& target = *found->second;
    std::optional<json::value> value = coerce_any(text, schema, *target.node);
    if (!value) {
      problems.push_back({target.path, "invalid value " + display_value(json::value(text), target.path) +
                                           " in environment variable " + name + ": expected " +
                                           describe_types(schema.types(*target.node))});
      continue;
    }
    set_path(document, target.path, std::move(*value));
  }
}

}  // namespace detail
}  // namespace gh::config
