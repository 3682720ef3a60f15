#include "rules/yaml_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace gh::rules {

namespace {

// Resolves a plain (unquoted) scalar by the YAML 1.2 core schema.
boost::json::value resolve_plain_scalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;

  static const std::regex integer(R"([-+]?[0-9]+)");
  static const std::regex floating(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(text, integer)) {
    int64_t number = 0;
    const char* begin = text.data() + (text[0] == '+' ? 1 : 0);
    auto [end, error] = std::from_chars(begin, text.data() + text.size(), number);
    if (error == std::errc() && end == text.data() + text.size()) return number;
    // Out of int64 range: keep the magnitude as a double, as JSON decoders do.
  }
  if (std::regex_match(text, floating) || std::regex_match(text, integer)) {
    return std::strtod(text.c_str(), nullptr);
  }
  if (text.starts_with("0x") && text.size() > 2) {
    int64_t number = 0;
    auto [end, error] = std::from_chars(text.data() + 2, text.data() + text.size(), number, 16);
    if (error == std::errc() && end == text.data() + text.size()) return number;
  }
  if (text.starts_with("0o") && text.size() > 2) {
    int64_t number = 0;
    auto [end, error] = std::from_chars(text.data() + 2, text.data() + text.size(), number, 8);
    if (error == std::errc() && end == text.data() + text.size()) return number;
  }
  return boost::json::string(text);
}

// Bounds on a converted document. YAML aliases can refer to themselves or repeat a large
// subtree many times (a "billion laughs" document), so both depth and the total number of
// nodes produced are limited. 10,000 access rules take about 300,000 nodes.
constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 500'000;

struct Budget {
  size_t nodes = 0;
};

boost::json::value convert(const YAML::Node& node, int depth, Budget& budget) {
  if (depth > kMaxDepth) throw std::runtime_error(fmt::format("invalid YAML: nested deeper than {} levels", kMaxDepth));
  if (++budget.nodes > kMaxNodes) {
    throw std::runtime_error(fmt::format("invalid YAML: more than {} nodes after expanding aliases", kMaxNodes));
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags plain scalars "?" and quoted or block scalars "!".
      if (node.Tag() == "?") return resolve_plain_scalar(node.Scalar());
      return boost::json::string(node.Scalar());
    case YAML::NodeType::Sequence: {
      boost::json::array array;
      for (const YAML::Node& item : node) array.push_back(convert(item, depth + 1, budget));
      return array;
    }
    case YAML::NodeType::Map: {
      boost::json::object object;
      for (const auto& entry : node) object[entry.first.as<std::string>()] = convert(entry.second, depth + 1, budget);
      return object;
    }
  }
  return nullptr;
}

}  // namespace

boost::json::value parse_json_or_yaml(std::string_view text) {
  boost::system::error_code json_error;
  boost::json::value json = boost::json::parse(text, json_error);
  if (!json_error) return json;

  try {
    Budget budget;
    return convert(YAML::Load(std::string(text)), 0, budget);
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(fmt::format("invalid YAML: {}", e.what()));
  }
}

}  // namespace gh::rules
