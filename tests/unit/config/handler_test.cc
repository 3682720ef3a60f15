#include <gtest/gtest.h>

#include "config/config.h"

namespace gh::config {
namespace {

namespace json = boost::json;

TEST(HandlerConfig, HeaderMutatorWithoutHeaders) {
  const std::vector<Problem> problems = validate_handler_config(HandlerKind::mutator, "header", json::object());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "headers");
  EXPECT_EQ(problems[0].message, "missing required key");
}

TEST(HandlerConfig, HeaderValuesMustBeStrings) {
  const std::vector<Problem> problems =
      validate_handler_config(HandlerKind::mutator, "header", json::parse(R"({"headers": {"X-User": 7}})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "headers.X-User");
  EXPECT_EQ(problems[0].message, "invalid value 7: expected a string");
}

TEST(HandlerConfig, UnknownKeyInJwtConfig) {
  const std::vector<Problem> problems = validate_handler_config(
      HandlerKind::authenticator, "jwt", json::parse(R"({"jwks_urls": ["https://issuer.test/jwks"], "audience": "x"})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "audience");
  EXPECT_EQ(problems[0].message,
            "unknown key; allowed keys: allowed_algorithms, jwks_max_wait, jwks_ttl, jwks_urls, leeway, required_scope, "
            "scope_strategy, target_audience, token_from, trusted_issuers");
}

TEST(HandlerConfig, ValidJwtConfig) {
  const json::value config = json::parse(
      R"({"jwks_urls": ["https://issuer.test/jwks", "file:///etc/jwks.json"], "scope_strategy": "wildcard",
          "token_from": {"cookie": "session"}})");
  EXPECT_TRUE(validate_handler_config(HandlerKind::authenticator, "jwt", config).empty());
}

TEST(HandlerConfig, TokenFromTakesOneSource) {
  const std::vector<Problem> problems = validate_handler_config(
      HandlerKind::authenticator, "bearer_token",
      json::parse(R"({"check_session_url": "https://sessions.test/", "token_from": {"header": "A", "cookie": "b"}})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "token_from");
  EXPECT_EQ(problems[0].message,
            "invalid value (redacted): expected an object with exactly one of the keys cookie, header, "
            "query_parameter or null");
}

TEST(HandlerConfig, TokenFromMayBeNull) {
  const json::value config = json::parse(R"({"check_session_url": "https://sessions.test/", "token_from": null})");
  EXPECT_TRUE(validate_handler_config(HandlerKind::authenticator, "bearer_token", config).empty());
}

TEST(HandlerConfig, RedirectCodeEnum) {
  const std::vector<Problem> problems = validate_handler_config(
      HandlerKind::error_handler, "redirect", json::parse(R"({"to": "https://login.test/", "code": 307})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "code");
  EXPECT_EQ(problems[0].message, "invalid value 307: expected one of: 301, 302");
}

TEST(HandlerConfig, ErrorWhenConditions) {
  const std::vector<Problem> problems = validate_handler_config(
      HandlerKind::error_handler, "json", json::parse(R"({"when": [{"error": ["teapot"]}]})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "when[0].error[0]");
}

TEST(HandlerConfig, UnknownHandlerId) {
  const std::vector<Problem> problems = validate_handler_config(HandlerKind::authorizer, "opa", json::object());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "");
  EXPECT_EQ(problems[0].message, R"(unknown authorizer "opa"; known: allow, deny, keto_engine_acp_ory, remote, remote_json)");
}

TEST(HandlerConfig, HandlersWithoutSettingsAcceptAnything) {
  EXPECT_TRUE(validate_handler_config(HandlerKind::authenticator, "noop", json::parse(R"({"x": 1})")).empty());
  EXPECT_TRUE(validate_handler_config(HandlerKind::authorizer, "allow", nullptr).empty());
}

TEST(HandlerConfig, HydratorNestedChecks) {
  const std::vector<Problem> problems = validate_handler_config(
      HandlerKind::mutator, "hydrator",
      json::parse(R"({"api": {"url": "not-a-url", "this-key-does-not-exist": true}})"));
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0].path, "api.this-key-does-not-exist");
  EXPECT_EQ(problems[1].path, "api.url");
}

TEST(HandlerDefaults, FilledAfterMerge) {
  json::value config = json::parse(R"({"introspection_url": "https://issuer.test/introspect", "cache": {"enabled": true}})");
  apply_handler_defaults(HandlerKind::authenticator, "oauth2_introspection", config);
  EXPECT_EQ(config.at("cache").at("enabled"), json::value(true));
  EXPECT_EQ(config.at("cache").at("max_cost"), json::value(100000000));
  EXPECT_EQ(config.at("retry").at("give_up_after"), json::value("1s"));
  EXPECT_EQ(config.at("scope_strategy"), json::value("none"));
  EXPECT_EQ(config.at("preserve_host"), json::value(false));
}

TEST(HandlerDefaults, NullBecomesDefaults) {
  json::value config = nullptr;
  apply_handler_defaults(HandlerKind::authenticator, "anonymous", config);
  EXPECT_EQ(config, json::parse(R"({"subject": "anonymous"})"));
}

TEST(HandlerDefaults, ExplicitValuesKept) {
  json::value config = json::parse(R"({"realm": "gatehouse"})");
  apply_handler_defaults(HandlerKind::error_handler, "www_authenticate", config);
  EXPECT_EQ(config.at("realm"), json::value("gatehouse"));
}

}  // namespace
}  // namespace gh::config
