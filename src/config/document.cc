// Parsing of config documents (JSON or YAML) and merging of several documents.
#include <regex>

#include <yaml-cpp/yaml.h>

#include "config/config.h"

namespace gh::config {
namespace {

namespace json = boost::json;

bool is_null_scalar(const std::string& text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

std::optional<bool> bool_scalar(const std::string& text) {
  std::string lower;
  for (char c : text) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower == "true") return true;
  if (lower == "false") return false;
  return std::nullopt;
}

std::optional<json::value> number_scalar(const std::string& text) {
  static const std::regex decimal("^[-+]?[0-9]+$");
  static const std::regex octal("^0o[0-7]+$");
  static const std::regex hex("^0x[0-9a-fA-F]+$");
  static const std::regex floating("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
  try {
    if (std::regex_match(text, decimal)) {
      return json::value(static_cast<std::int64_t>(std::stoll(text)));
    }
    if (std::regex_match(text, octal)) {
      return json::value(static_cast<std::int64_t>(std::stoll(text.substr(2), nullptr, 8)));
    }
    if (std::regex_match(text, hex)) {
      return json::value(static_cast<std::int64_t>(std::stoll(text.substr(2), nullptr, 16)));
    }
    if (std::regex_match(text, floating)) {
      return json::value(std::stod(text));
    }
  } catch (const std::out_of_range&) {
    // Too large for int64 or double: kept as a string, so the schema reports the value.
  }
  return std::nullopt;
}

// Resolves a plain (unquoted, untagged) scalar by the YAML 1.2 core schema. Infinity and
// NaN (.inf, .nan) stay strings because JSON cannot hold them.
json::value plain_scalar(const std::string& text) {
  if (is_null_scalar(text)) {
    return nullptr;
  }
  if (std::optional<bool> flag = bool_scalar(text)) {
    return *flag;
  }
  if (std::optional<json::value> number = number_scalar(text)) {
    return *number;
  }
  return json::value(text);
}

json::value scalar_to_json(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  // yaml-cpp tags plain scalars "?" and quoted ones "!". Explicit core tags are honoured too.
  if (tag == "?" || tag == "tag:yaml.org,2002:int" || tag == "tag:yaml.org,2002:float" ||
      tag == "tag:yaml.org,2002:bool" || tag == "tag:yaml.org,2002:null") {
    return plain_scalar(text);
  }
  return json::value(text);
}

// Bounds on a converted document. YAML aliases can refer to themselves or repeat a large
// subtree many times (a "billion laughs" document), so both depth and the total number of
// nodes produced are limited. 10,000 access rules take about 300,000 nodes.
constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 500'000;

struct Budget {
  size_t nodes = 0;
};

struct LimitExceeded {
  std::string message;
};

json::value yaml_to_json(const YAML::Node& node, int depth, Budget& budget) {
  if (depth > kMaxDepth) throw LimitExceeded{"nested deeper than " + std::to_string(kMaxDepth) + " levels"};
  if (++budget.nodes > kMaxNodes) {
    throw LimitExceeded{"more than " + std::to_string(kMaxNodes) + " nodes after expanding aliases"};
  }
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      json::array array;
      for (const auto& item : node) {
        array.push_back(yaml_to_json(item, depth + 1, budget));
      }
      return array;
    }
    case YAML::NodeType::Map: {
      json::object object;
      for (const auto& entry : node) {
        object[entry.first.Scalar()] = yaml_to_json(entry.second, depth + 1, budget);
      }
      return object;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
  }
  return nullptr;
}

}  // namespace

boost::json::value parse_document(std::string_view text, std::string_view origin) {
  boost::system::error_code error;
  json::value parsed = json::parse(text, error);
  if (!error) {
    return parsed;
  }

  try {
    Budget budget;
    return yaml_to_json(YAML::Load(std::string(text)), 0, budget);
  } catch (const LimitExceeded& limit) {
    throw ConfigError({{std::string(origin), "invalid YAML: " + limit.message}});
  } catch (const YAML::Exception& failure) {
    const std::string message = "invalid YAML or JSON at line " + std::to_string(failure.mark.line + 1) +
                                ", column " + std::to_string(failure.mark.column + 1) + ": " + failure.msg;
    throw ConfigError({{std::string(origin), message}});
  }
}

void deep_merge(boost::json::value& base, const boost::json::value& overlay) {
  if (!base.is_object() || !overlay.is_object()) {
    base = overlay;
    return;
  }
  json::object& target = base.as_object();
  for (const auto& [key, value] : overlay.as_object()) {
    if (auto* existing = target.if_contains(key)) {
      deep_merge(*existing, value);
    } else {
      target[key] = value;
    }
  }
}

}  // namespace gh::config
