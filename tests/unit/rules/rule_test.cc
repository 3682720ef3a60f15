#include <string>

#include <gtest/gtest.h>

#include "rules/rule.h"

namespace gh::rules {
namespace {

namespace json = boost::json;

constexpr const char* kJsonRules = R"([
  {
    "id": "users",
    "version": "v0.40.0",
    "description": "user API",
    "match": {"url": "https://api.test/users/<[0-9]+>", "methods": ["GET", "delete"]},
    "authenticators": [{"handler": "jwt", "config": {"required_scope": ["read"]}}],
    "authorizer": {"handler": "allow"},
    "mutators": [{"handler": "header", "config": {"headers": {"X-User": "{{ print .Subject }}"}}}],
    "errors": [{"handler": "json"}],
    "upstream": {"url": "http://127.0.0.1:9000", "preserve_host": true, "strip_path": "/users"},
    "not_a_rule_field": {"anything": 1}
  },
  {"id": "second", "match": {"url": "https://api.test/", "methods": ["POST"]}}
])";

// Expects parse_rules to fail with a message that contains each of `fragments`.
void expect_rule_error(const std::string& text, std::initializer_list<const char*> fragments) {
  try {
    parse_rules(text, "rules.json");
    ADD_FAILURE() << "parse_rules accepted: " << text;
  } catch (const RuleError& e) {
    const std::string message = e.what();
    for (const char* fragment : fragments) EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(ParseRules, DecodesJsonFields) {
  const auto rules = parse_rules(kJsonRules, "rules.json");
  ASSERT_EQ(rules.size(), 2u);
  const Rule& rule = rules[0];
  EXPECT_EQ(rule.id, "users");
  EXPECT_EQ(rule.version, "v0.40.0");
  EXPECT_EQ(rule.description, "user API");
  EXPECT_EQ(rule.match_url, "https://api.test/users/<[0-9]+>");
  EXPECT_EQ(rule.match_methods, (std::vector<std::string>{"GET", "delete"}));
  ASSERT_EQ(rule.authenticators.size(), 1u);
  EXPECT_EQ(rule.authenticators[0].handler, "jwt");
  EXPECT_EQ(rule.authenticators[0].config, json::parse(R"({"required_scope": ["read"]})"));
  EXPECT_EQ(rule.authorizer.handler, "allow");
  EXPECT_TRUE(rule.authorizer.config.is_null());
  ASSERT_EQ(rule.mutators.size(), 1u);
  EXPECT_EQ(rule.mutators[0].handler, "header");
  ASSERT_EQ(rule.errors.size(), 1u);
  EXPECT_EQ(rule.errors[0].handler, "json");
  EXPECT_EQ(rule.upstream.url, "http://127.0.0.1:9000");
  EXPECT_TRUE(rule.upstream.preserve_host);
  EXPECT_EQ(rule.upstream.strip_path, "/users");
  EXPECT_TRUE(rule.raw.as_object().contains("not_a_rule_field"));

  EXPECT_EQ(rules[1].id, "second");
  EXPECT_FALSE(rules[1].upstream.preserve_host);
  EXPECT_TRUE(rules[1].authenticators.empty());
}

TEST(ParseRules, DecodesYaml) {
  const auto rules = parse_rules(R"(
- id: yaml-rule
  version: 0.38.0-beta.2
  match:
    url: <http|https>://example.test/<**>
    methods: [GET, MKCOL]
  authenticators:
    - handler: anonymous
  authorizer:
    handler: allow
  mutators:
    - handler: noop
  upstream:
    url: http://backend.test
    preserve_host: true
    strip_path: "123"
)",
                                 "rules.yaml");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].id, "yaml-rule");
  EXPECT_EQ(rules[0].version, "0.38.0-beta.2");
  EXPECT_EQ(rules[0].match_url, "<http|https>://example.test/<**>");
  EXPECT_EQ(rules[0].match_methods, (std::vector<std::string>{"GET", "MKCOL"}));
  EXPECT_EQ(rules[0].authenticators[0].handler, "anonymous");
  EXPECT_TRUE(rules[0].upstream.preserve_host);
  EXPECT_EQ(rules[0].upstream.strip_path, "123");
}

TEST(ParseRules, YamlPlainNumberIsNotAString) {
  expect_rule_error("- id: 42\n", {"rules.json", "index 0", "\"id\"", "must be a string, found number"});
}

TEST(ParseRules, EmptyDocumentHasNoRules) {
  EXPECT_TRUE(parse_rules("", "empty.yaml").empty());
  EXPECT_TRUE(parse_rules("[]", "empty.json").empty());
}

TEST(ParseRules, WrongTypeNamesRuleAndField) {
  expect_rule_error(R"([{"id": "a"}, {"id": "b", "match": {"url": 7}}])",
                    {"rules.json", "index 1", "id \"b\"", "\"match.url\"", "must be a string, found number"});
  expect_rule_error(R"([{"id": "c", "match": {"url": "x", "methods": "GET"}}])",
                    {"id \"c\"", "\"match.methods\"", "found string"});
  expect_rule_error(R"([{"id": "d", "upstream": {"preserve_host": "yes"}}])",
                    {"id \"d\"", "\"upstream.preserve_host\"", "must be a boolean"});
  expect_rule_error(R"([{"id": "e", "authenticators": [{"handler": 1}]}])",
                    {"id \"e\"", "\"authenticators[0].handler\""});
  expect_rule_error(R"([{"id": "f", "authorizer": []}])", {"id \"f\"", "\"authorizer\"", "must be an object"});
  expect_rule_error(R"([42])", {"index 0", "must be an object"});
}

TEST(ParseRules, DocumentMustBeArray) {
  expect_rule_error(R"({"id": "x"})", {"rules.json", "must be an array"});
}

TEST(ParseRules, BrokenDocumentIsAnError) {
  expect_rule_error("- id: [unclosed\n", {"rules.json", "invalid YAML"});
}

TEST(ParseRules, VersionMustBeSemver) {
  expect_rule_error(R"([{"id": "v", "version": "42"}])", {"id \"v\"", "\"version\"", "\"42\"", "semantic version"});
  expect_rule_error(R"([{"version": "1.2"}])", {"\"version\""});
  expect_rule_error(R"([{"version": "v1.2.3-"}])", {"\"version\""});

  for (const char* version : {"v0.19.0-beta.1", "0.19.0-beta.1", "1.2.3+build.7", "v10.20.30"}) {
    const std::string text = std::string(R"([{"version": ")") + version + R"("}])";
    EXPECT_EQ(parse_rules(text, "rules.json")[0].version, version);
  }
}

TEST(ParseRules, NullFieldsKeepDefaults) {
  const auto rules = parse_rules(R"([{"id": null, "match": null, "upstream": {"url": null}}, null])", "rules.json");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].id, "");
  EXPECT_EQ(rules[0].match_url, "");
}

TEST(ParseRules, RpcMatchNeverMatchesHttp) {
  const auto rules = parse_rules(
      R"([{"id": "rpc", "match": {"authority": "<baz|bar>.example.com", "full_method": "grpc.api/Call"}}])", "r");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].match_url, "rpc://<baz|bar>.example.com/grpc.api/Call");
  EXPECT_EQ(rules[0].match_methods, (std::vector<std::string>{"POST"}));
}

TEST(ParseRules, MigratesOldHydratorRetry) {
  const auto rules = parse_rules(R"([{"version": "v0.30.0-beta.1", "mutators": [{"handler": "hydrator",
      "config": {"api": {"url": "http://h.test"}, "retry": {"delay_in_milliseconds": 500, "number_of_retries": 5}}}]}])",
                                 "rules.json");
  const json::value& retry = rules[0].mutators[0].config.at("retry");
  EXPECT_EQ(retry, json::parse(R"({"max_delay": "500ms", "give_up_after": "2500ms"})"));
}

TEST(ParseRules, KeepsNewHydratorRetry) {
  const auto rules = parse_rules(R"([{"version": "v0.40.0", "mutators": [{"handler": "hydrator",
      "config": {"retry": {"delay_in_milliseconds": 500, "number_of_retries": 5}}}]}])",
                                 "rules.json");
  EXPECT_TRUE(rules[0].mutators[0].config.at("retry").as_object().contains("delay_in_milliseconds"));
}

TEST(ParseRules, MigratesOldKetoCaptureReferences) {
  const auto rules = parse_rules(R"([{"version": "v0.33.0", "authorizer": {"handler": "keto_engine_acp_ory",
      "config": {"required_action": "my:action:$1", "required_resource": "my:resource:$2:foo:$1"}}}])",
                                 "rules.json");
  const json::value& config = rules[0].authorizer.config;
  EXPECT_EQ(config.at("required_action"),
            "my:action:{{ printIndex .MatchContext.RegexpCaptureGroups (sub 1 1 | int)}}");
  EXPECT_EQ(config.at("required_resource"),
            "my:resource:{{ printIndex .MatchContext.RegexpCaptureGroups (sub 2 1 | int)}}:foo:"
            "{{ printIndex .MatchContext.RegexpCaptureGroups (sub 1 1 | int)}}");
}

TEST(RuleToJson, EmptyRuleShape) {
  const auto rules = parse_rules("[{}]", "rules.json");
  const json::value expected = json::parse(R"({"id": "", "version": "", "description": "", "match": null,
      "authenticators": [], "authorizer": {"handler": "", "config": null}, "mutators": [], "errors": [],
      "upstream": {"preserve_host": false, "strip_path": "", "url": ""}})");
  EXPECT_EQ(to_json(rules[0]), expected);
}

TEST(RuleToJson, RoundTripsFields) {
  const auto rules = parse_rules(kJsonRules, "rules.json");
  const json::value encoded = to_json(rules[0]);
  EXPECT_EQ(encoded.at("match"), json::parse(R"({"url": "https://api.test/users/<[0-9]+>", "methods": ["GET", "delete"]})"));
  EXPECT_EQ(encoded.at("authenticators"),
            json::parse(R"([{"handler": "jwt", "config": {"required_scope": ["read"]}}])"));
  EXPECT_EQ(encoded.at("upstream"),
            json::parse(R"({"preserve_host": true, "strip_path": "/users", "url": "http://127.0.0.1:9000"})"));
  EXPECT_FALSE(encoded.as_object().contains("not_a_rule_field"));

  const auto reparsed = parse_rules(json::serialize(json::array{encoded}), "again.json");
  EXPECT_EQ(to_json(reparsed[0]), encoded);
}

}  // namespace
}  // namespace gh::rules
