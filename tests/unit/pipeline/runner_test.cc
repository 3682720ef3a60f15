#include "pipeline/runner.h"

#include <gtest/gtest.h>

#include "pipeline_test_support.h"

namespace gh::pipeline {
namespace {

using testing::run_decide;
using testing::snapshot_from;
using testing::TestRequest;

const char* kConfig = R"(
authenticators:
  anonymous: {enabled: true, config: {subject: guest}}
  noop: {enabled: true}
  unauthorized: {enabled: true}
authorizers:
  allow: {enabled: true}
  deny: {enabled: true}
mutators:
  noop: {enabled: true}
  header:
    enabled: true
    config:
      headers:
        X-User: "{{ print .Subject }}"
errors:
  handlers:
    json: {enabled: true, config: {verbose: true}}
    www_authenticate: {enabled: true, config: {realm: api}}
)";

// The value of session header `name`, or "<missing>".
std::string header(const Decision& decision, const std::string& name) {
  for (const auto& [key, value] : decision.session.header) {
    if (key == name) return value;
  }
  return "<missing>";
}

std::string rule(const std::string& id, const std::string& url, const std::string& authenticators,
                 const std::string& authorizer, const std::string& mutators, const std::string& extra = "") {
  return R"({"id":")" + id + R"(","match":{"url":")" + url + R"(","methods":["GET","POST"]},"authenticators":)" +
         authenticators + R"(,"authorizer":{"handler":")" + authorizer + R"("},"mutators":)" + mutators +
         R"(,"upstream":{"url":"http://127.0.0.1:1"})" + extra + "}";
}

const std::string kAnonymous = R"([{"handler":"anonymous"}])";
const std::string kHeader = R"([{"handler":"header"}])";

TEST(Decide, AnonymousRequestIsAllowedWithSubjectHeader) {
  auto snapshot = snapshot_from(kConfig, "[" + rule("public", "http://api.test/<.*>", kAnonymous, "allow", kHeader) + "]");
  TestRequest request("GET", "http", "api.test", "/users");

  Decision decision = run_decide(*snapshot, request.request);

  ASSERT_TRUE(decision.allowed);
  EXPECT_EQ(header(decision, "X-User"), "guest");
  EXPECT_EQ(decision.session.match_context.regexp_capture_groups, std::vector<std::string>{"users"});
}

TEST(Decide, AuthorizationHeaderMakesAnonymousNotResponsible) {
  auto snapshot = snapshot_from(kConfig, "[" + rule("public", "http://api.test/<.*>", kAnonymous, "allow", kHeader) + "]");
  TestRequest request("GET", "http", "api.test", "/users");
  request.headers.set("Authorization", "Bearer token");

  Decision decision = run_decide(*snapshot, request.request);

  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.response.status, 401);
  EXPECT_NE(decision.response.body.find(R"("code":401)"), std::string::npos);
}

TEST(Decide, NotResponsibleMovesToNextAuthenticator) {
  auto snapshot = snapshot_from(
      kConfig, "[" + rule("chain", "http://api.test/<.*>", R"([{"handler":"anonymous"},{"handler":"noop"}])", "allow", kHeader) + "]");
  TestRequest request("GET", "http", "api.test", "/x");
  request.headers.set("Authorization", "Bearer token");

  Decision decision = run_decide(*snapshot, request.request);

  ASSERT_TRUE(decision.allowed);
  EXPECT_EQ(header(decision, "X-User"), "");
}

TEST(Decide, FailedAuthenticatorStopsTheChain) {
  auto snapshot = snapshot_from(
      kConfig,
      "[" + rule("chain", "http://api.test/<.*>", R"([{"handler":"unauthorized"},{"handler":"noop"}])", "allow", kHeader) + "]");
  TestRequest request("GET", "http", "api.test", "/x");

  EXPECT_EQ(run_decide(*snapshot, request.request).response.status, 401);
}

TEST(Decide, DenyAuthorizerGives403) {
  auto snapshot = snapshot_from(kConfig, "[" + rule("denied", "http://api.test/<.*>", kAnonymous, "deny", kHeader) + "]");
  TestRequest request("GET", "http", "api.test", "/x");

  Decision decision = run_decide(*snapshot, request.request);

  EXPECT_EQ(decision.response.status, 403);
  EXPECT_NE(decision.response.body.find("Access credentials are not sufficient"), std::string::npos);
}

TEST(Decide, NoMatchingRuleGives404) {
  auto snapshot = snapshot_from(kConfig, "[" + rule("public", "http://api.test/public", kAnonymous, "allow", kHeader) + "]");
  TestRequest request("GET", "http", "api.test", "/private");

  Decision decision = run_decide(*snapshot, request.request);

  EXPECT_EQ(decision.response.status, 404);
  EXPECT_NE(decision.response.body.find("Requested url does not match any rules"), std::string::npos);
}

TEST(Decide, TwoMatchingRulesGive500) {
  auto snapshot = snapshot_from(kConfig, "[" + rule("a", "http://api.test/<.*>", kAnonymous, "allow", kHeader) + "," +
                                             rule("b", "http://api.test/<[a-z]+>", kAnonymous, "allow", kHeader) + "]");
  TestRequest request("GET", "http", "api.test", "/x");

  Decision decision = run_decide(*snapshot, request.request);

  EXPECT_EQ(decision.response.status, 500);
  EXPECT_NE(decision.response.body.find("Expected exactly one rule but found multiple rules"), std::string::npos);
  EXPECT_NE(decision.response.body.find(R"(\"a\", \"b\")"), std::string::npos);
}

TEST(Decide, MethodNotListedDoesNotMatch) {
  auto snapshot = snapshot_from(kConfig, "[" + rule("public", "http://api.test/<.*>", kAnonymous, "allow", kHeader) + "]");
  TestRequest request("DELETE", "http", "api.test", "/x");

  EXPECT_EQ(run_decide(*snapshot, request.request).response.status, 404);
}

TEST(Decide, RuleErrorHandlerReplacesFallback) {
  auto snapshot = snapshot_from(
      kConfig, "[" + rule("denied", "http://api.test/<.*>", kAnonymous, "deny", kHeader,
                          R"(,"errors":[{"handler":"www_authenticate"}])") + "]");
  TestRequest request("GET", "http", "api.test", "/x");

  Decision decision = run_decide(*snapshot, request.request);

  EXPECT_EQ(decision.response.status, 401);
  ASSERT_EQ(decision.response.headers.size(), 1u);
  EXPECT_EQ(decision.response.headers[0].second, "Basic realm=\"api\"");
}

TEST(Decide, TwoResponsibleErrorHandlersGive500) {
  auto snapshot = snapshot_from(
      kConfig, "[" + rule("denied", "http://api.test/<.*>", kAnonymous, "deny", kHeader,
                          R"(,"errors":[{"handler":"www_authenticate"},{"handler":"json"}])") + "]");
  TestRequest request("GET", "http", "api.test", "/x");

  Decision decision = run_decide(*snapshot, request.request);

  EXPECT_EQ(decision.response.status, 500);
  EXPECT_NE(decision.response.body.find("more than one error handlers"), std::string::npos);
}

TEST(Decide, NonVerboseJsonHidesTheReason) {
  std::string config = std::string(kConfig) + "\n";
  config.replace(config.find("verbose: true"), 13, "verbose: false");
  auto snapshot = snapshot_from(config, "[" + rule("denied", "http://api.test/<.*>", kAnonymous, "deny", kHeader) + "]");
  TestRequest request("GET", "http", "api.test", "/x");

  Decision decision = run_decide(*snapshot, request.request);

  EXPECT_EQ(decision.response.status, 403);
  EXPECT_NE(decision.response.body.find("The requested action was forbidden"), std::string::npos);
  EXPECT_EQ(decision.response.body.find("reason"), std::string::npos);
}

TEST(Decide, CaptureGroupsReachHeaderTemplates) {
  auto snapshot = snapshot_from(
      kConfig, "[" + rule("users", "http://api.test/users/<[0-9]+>", kAnonymous, "allow",
                          R"([{"handler":"header","config":{"headers":{"X-Id":"{{ printIndex .MatchContext.RegexpCaptureGroups 0 }}"}}}])") +
                   "]");
  TestRequest request("GET", "http", "api.test", "/users/42");

  Decision decision = run_decide(*snapshot, request.request);

  ASSERT_TRUE(decision.allowed);
  EXPECT_EQ(header(decision, "X-Id"), "42");
  // The rule's headers map is deep-merged over the global one, so X-User stays.
  EXPECT_EQ(header(decision, "X-User"), "guest");
}

TEST(Decide, HeaderTemplateReadsInboundHeader) {
  auto snapshot = snapshot_from(
      kConfig, "[" + rule("echo", "http://api.test/<.*>", kAnonymous, "allow",
                          R"([{"handler":"header","config":{"headers":{"X-Tenant":"{{ .MatchContext.Header.Get \"x-tenant-id\" }}"}}}])") +
                   "]");
  TestRequest request("GET", "http", "api.test", "/x");
  request.headers.set("X-Tenant-Id", "acme");

  Decision decision = run_decide(*snapshot, request.request);

  ASSERT_TRUE(decision.allowed);
  EXPECT_EQ(header(decision, "X-Tenant"), "acme");
}

TEST(Decide, NoopMutatorCopiesInboundHeaders) {
  auto snapshot = snapshot_from(kConfig, "[" + rule("noop", "http://api.test/<.*>", R"([{"handler":"noop"}])", "allow",
                                                    R"([{"handler":"noop"}])") + "]");
  TestRequest request("GET", "http", "api.test", "/x");
  request.headers.set("Authorization", "bearer token");
  request.headers.set("Connection", "close");

  Decision decision = run_decide(*snapshot, request.request);

  ASSERT_TRUE(decision.allowed);
  EXPECT_EQ(header(decision, "Authorization"), "bearer token");
  EXPECT_EQ(header(decision, "Connection"), "<missing>");
}

}  // namespace
}  // namespace gh::pipeline
