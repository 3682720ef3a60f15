#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "config/config.h"

namespace gh::config {
namespace {

namespace json = boost::json;

std::string read_fixture(const std::string& name) {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "fixtures" / name;
  std::ifstream stream(path);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

TEST(ParseDocument, JsonIsParsedStrictly) {
  const json::value value = parse_document(R"({"a": 1, "b": [true, null], "c": "x"})", "inline");
  EXPECT_EQ(value.at("a"), json::value(1));
  EXPECT_EQ(value.at("b"), (json::array{true, nullptr}));
  EXPECT_EQ(value.at("c"), json::value("x"));
}

TEST(ParseDocument, YamlScalarsAreTyped) {
  const json::value value = parse_document(read_fixture("typed.yaml"), "typed.yaml");
  EXPECT_TRUE(value.at("plain_int").is_int64());
  EXPECT_EQ(value.at("plain_int").as_int64(), 42);
  EXPECT_EQ(value.at("negative").as_int64(), -7);
  EXPECT_EQ(value.at("hex").as_int64(), 31);
  EXPECT_TRUE(value.at("float").is_double());
  EXPECT_DOUBLE_EQ(value.at("float").as_double(), 2.5);
  EXPECT_DOUBLE_EQ(value.at("exponent").as_double(), 1000.0);
  EXPECT_EQ(value.at("upper_bool"), json::value(true));
  EXPECT_EQ(value.at("mixed_bool"), json::value(true));
  EXPECT_TRUE(value.at("tilde").is_null());
  EXPECT_TRUE(value.at("empty").is_null());
  EXPECT_TRUE(value.at("null_word").is_null());
  EXPECT_EQ(value.at("duration"), json::value("5s"));
  EXPECT_EQ(value.at("version_like"), json::value("1.2.3"));
  EXPECT_EQ(value.at("list"), (json::array{1, "two", false}));
  EXPECT_EQ(value.at("nested").at("key"), json::value("value"));
}

TEST(ParseDocument, YamlOnlyTrueAndFalseAreBooleans) {
  // YAML 1.2 dropped yes/no/on/off as booleans; they stay strings.
  const json::value value = parse_document(read_fixture("typed.yaml"), "typed.yaml");
  EXPECT_EQ(value.at("yes_word"), json::value("yes"));
}

TEST(ParseDocument, QuotedScalarsStayStrings) {
  const json::value value = parse_document(read_fixture("typed.yaml"), "typed.yaml");
  EXPECT_EQ(value.at("quoted_int"), json::value("42"));
  EXPECT_EQ(value.at("single_quoted_bool"), json::value("true"));
}

TEST(ParseDocument, ErrorNamesOriginLineAndColumn) {
  try {
    parse_document("serve:\n  proxy: [1, 2\n", "broken.yaml");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_EQ(error.problems()[0].path, "broken.yaml");
    EXPECT_NE(error.problems()[0].message.find("line "), std::string::npos) << error.what();
    EXPECT_NE(error.problems()[0].message.find("column "), std::string::npos) << error.what();
  }
}

TEST(ParseDocument, EmptyTextIsNull) {
  EXPECT_TRUE(parse_document("", "empty.yaml").is_null());
}

TEST(DeepMerge, ObjectsMergeKeyByKey) {
  json::value base = json::parse(R"({"a": {"x": 1, "y": 2}, "b": 1})");
  deep_merge(base, json::parse(R"({"a": {"y": 3, "z": 4}, "c": 5})"));
  EXPECT_EQ(base, json::parse(R"({"a": {"x": 1, "y": 3, "z": 4}, "b": 1, "c": 5})"));
}

TEST(DeepMerge, ArraysAndScalarsAreReplaced) {
  json::value base = json::parse(R"({"list": [1, 2, 3], "value": {"k": 1}, "n": 1})");
  deep_merge(base, json::parse(R"({"list": [9], "value": "text", "n": null})"));
  EXPECT_EQ(base, json::parse(R"({"list": [9], "value": "text", "n": null})"));
}

TEST(DeepMerge, ObjectReplacesScalar) {
  json::value base = json::parse(R"({"a": 1})");
  deep_merge(base, json::parse(R"({"a": {"b": 2}})"));
  EXPECT_EQ(base, json::parse(R"({"a": {"b": 2}})"));
}

}  // namespace
}  // namespace gh::config
