#include "pipeline/snapshot.h"

#include <gtest/gtest.h>

#include "pipeline_test_support.h"

namespace gh::pipeline {
namespace {

using testing::settings_from_yaml;

const char* kConfig = R"(
authenticators:
  anonymous: {enabled: true}
authorizers:
  allow: {enabled: true}
mutators:
  noop: {enabled: true}
)";

std::vector<std::string> problems_for(const std::string& rules_json, const char* config = kConfig) {
  auto snapshot = build_snapshot(settings_from_yaml(config), rules::parse_rules(rules_json, "test"));
  if (snapshot) return {};
  return snapshot.error();
}

bool contains(const std::vector<std::string>& problems, const std::string& text) {
  for (const std::string& problem : problems) {
    if (problem.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(BuildSnapshot, AcceptsValidRule) {
  EXPECT_TRUE(problems_for(R"([{"id":"ok","match":{"url":"http://a/<.*>","methods":["GET"]},
    "authenticators":[{"handler":"anonymous"}],"authorizer":{"handler":"allow"},"mutators":[{"handler":"noop"}]}])")
                  .empty());
}

TEST(BuildSnapshot, BadPatternNamesRuleAndPattern) {
  auto problems = problems_for(R"([{"id":"broken","match":{"url":"http://a/<[a-z>","methods":["GET"]},
    "authenticators":[{"handler":"anonymous"}],"authorizer":{"handler":"allow"},"mutators":[{"handler":"noop"}]}])");
  ASSERT_FALSE(problems.empty());
  EXPECT_TRUE(contains(problems, "broken"));
  EXPECT_TRUE(contains(problems, "http://a/<[a-z>"));
}

TEST(BuildSnapshot, UnknownHandlerIsListed) {
  auto problems = problems_for(R"([{"id":"r","match":{"url":"http://a/","methods":["GET"]},
    "authenticators":[{"handler":"foo"}],"authorizer":{"handler":"allow"},"mutators":[{"handler":"noop"}]}])");
  EXPECT_TRUE(contains(problems, R"(rule "r": Value "foo" of "authenticators[0]" is not in list of supported authenticators)"));
}

TEST(BuildSnapshot, DisabledHandlerIsRejected) {
  auto problems = problems_for(R"([{"id":"r","match":{"url":"http://a/","methods":["GET"]},
    "authenticators":[{"handler":"noop"}],"authorizer":{"handler":"allow"},"mutators":[{"handler":"noop"}]}])");
  EXPECT_TRUE(contains(problems, R"(Authenticator "noop" is disabled per configuration.)"));
}

TEST(BuildSnapshot, MissingPartsAreReported) {
  auto problems = problems_for(R"([{"id":"r","match":{"url":"","methods":["GET"]}}])");
  EXPECT_TRUE(contains(problems, R"(Value "" of "match.url" field must not be empty.)"));
  EXPECT_TRUE(contains(problems, R"(Value of "authenticators" must be set and can not be an empty array.)"));
  EXPECT_TRUE(contains(problems, R"(Value of "authorizer.handler" can not be empty.)"));
  EXPECT_TRUE(contains(problems, R"(Value of "mutators" must be set and can not be an empty array.)"));
}

TEST(BuildSnapshot, RuleConfigIsValidatedAfterMerge) {
  auto problems = problems_for(R"([{"id":"r","match":{"url":"http://a/","methods":["GET"]},
    "authenticators":[{"handler":"anonymous","config":{"no_such_key":1}}],"authorizer":{"handler":"allow"},
    "mutators":[{"handler":"noop"}]}])");
  EXPECT_TRUE(contains(problems, "no_such_key"));
}

TEST(BuildSnapshot, BadTemplateIsALoadError) {
  const char* config = R"(
authenticators:
  anonymous: {enabled: true}
authorizers:
  allow: {enabled: true}
mutators:
  header: {enabled: true, config: {headers: {}}}
)";
  auto problems = problems_for(R"([{"id":"tpl","match":{"url":"http://a/","methods":["GET"]},
    "authenticators":[{"handler":"anonymous"}],"authorizer":{"handler":"allow"},
    "mutators":[{"handler":"header","config":{"headers":{"X-A":"{{ env \"HOME\" }}"}}}]}])",
                               config);
  EXPECT_TRUE(contains(problems, "tpl"));
  EXPECT_TRUE(contains(problems, "not defined"));
}

TEST(BuildSnapshot, UpstreamMustBeHttp) {
  auto problems = problems_for(R"([{"id":"r","match":{"url":"http://a/","methods":["GET"]},
    "authenticators":[{"handler":"anonymous"}],"authorizer":{"handler":"allow"},"mutators":[{"handler":"noop"}],
    "upstream":{"url":"ftp://x"}}])");
  EXPECT_TRUE(contains(problems, R"(Value "ftp://x" of "upstream.url" is not a valid url)"));
}

struct JoinCase {
  const char* upstream;
  const char* strip;
  const char* request;
  const char* expected;
};

class UpstreamPath : public ::testing::TestWithParam<JoinCase> {};

TEST_P(UpstreamPath, JoinsAndStrips) {
  auto upstream = parse_upstream(rules::Upstream{GetParam().upstream, false, GetParam().strip});
  ASSERT_TRUE(upstream.has_value());
  EXPECT_EQ(upstream_path(*upstream, GetParam().request), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, UpstreamPath,
    ::testing::Values(JoinCase{"http://localhost/", "", "/api/users/1234", "/api/users/1234"},
                      JoinCase{"http://localhost:4000", "/api/", "/api/users/1234", "/users/1234"},
                      JoinCase{"http://localhost:4000", "api", "/api/users/1234", "/users/1234"},
                      JoinCase{"http://localhost:4000/foo/", "api", "/api/users/1234", "/foo/users/1234"},
                      JoinCase{"http://localhost:4000/foo", "", "/bar/", "/foo/bar/"},
                      JoinCase{"http://localhost:4000", "/api", "/apiary/x", "/apiary/x"},
                      JoinCase{"http://localhost:4000/base", "", "/", "/base/"},
                      JoinCase{"http://localhost:4000", "", "/", "/"}));

TEST(ParseUpstream, KeepsAuthorityForHostHeader) {
  auto upstream = parse_upstream(rules::Upstream{"http://tasks.foo-bar_baz:8080/v1", false, ""});
  ASSERT_TRUE(upstream.has_value());
  EXPECT_EQ(upstream->host, "tasks.foo-bar_baz");
  EXPECT_EQ(upstream->port, "8080");
  EXPECT_EQ(upstream->authority, "tasks.foo-bar_baz:8080");
}

}  // namespace
}  // namespace gh::pipeline
