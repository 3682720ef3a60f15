#include "pipeline/authn/introspection.h"

#include <gtest/gtest.h>

#include "pipeline/authn/session_store.h"
#include "pipeline/remote_call.h"

namespace gh::pipeline::authn {
namespace {

using std::chrono::system_clock;

const system_clock::time_point kNow = system_clock::time_point(std::chrono::seconds(1'700'000'000));

IntrospectionResult parsed(std::string_view body) {
  auto result = parse_introspection(body);
  EXPECT_TRUE(result.has_value()) << body << ": " << (result ? "" : result.error().reason);
  return result ? *result : IntrospectionResult{};
}

int status_of_parse(std::string_view body) {
  auto result = parse_introspection(body);
  return result ? 0 : result.error().status;
}

TEST(IntrospectionParse, MalformedBodiesAreUnauthorized) {
  EXPECT_EQ(status_of_parse("not json"), 401);
  EXPECT_EQ(status_of_parse("[]"), 401);
  EXPECT_EQ(status_of_parse("{}"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":"true"})"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":true,"exp":"soon"})"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":true,"aud":[1]})"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":true,"sub":5})"), 401);
  EXPECT_EQ(status_of_parse(R"({"active":true,"ext":[]})"), 401);
}

TEST(IntrospectionParse, ReadsStringAudienceAsList) {
  IntrospectionResult result = parsed(R"({"active":true,"aud":"api"})");
  ASSERT_EQ(result.aud.size(), 1u);
  EXPECT_EQ(result.aud[0], "api");
}

TEST(IntrospectionCheck, InactiveIsUnauthorized) {
  auto checked = check_token(parsed(R"({"active":false})"), kNow);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().status, 401);
  EXPECT_EQ(checked.error().reason, "Access token is not active");
}

TEST(IntrospectionCheck, ExpiredIsUnauthorized) {
  auto checked = check_token(parsed(R"({"active":true,"exp":1699999999})"), kNow);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().reason, "Access token expired");
  EXPECT_TRUE(check_token(parsed(R"({"active":true,"exp":1700000001})"), kNow).has_value());
  EXPECT_TRUE(check_token(parsed(R"({"active":true,"exp":0})"), kNow).has_value());
}

TEST(IntrospectionCheck, OtherTokenUseIsForbidden) {
  auto checked = check_token(parsed(R"({"active":true,"token_use":"refresh_token"})"), kNow);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().status, 403);
  EXPECT_TRUE(check_token(parsed(R"({"active":true,"token_use":"access_token"})"), kNow).has_value());
}

TEST(IntrospectionCheck, AudienceMustContainEveryTarget) {
  RuleRequirements requirements;
  requirements.target_audience = {"a", "b"};
  EXPECT_TRUE(check_requirements(parsed(R"({"active":true,"aud":["b","a","c"]})"), requirements).has_value());
  auto checked = check_requirements(parsed(R"({"active":true,"aud":["a"]})"), requirements);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().status, 403);
}

TEST(IntrospectionCheck, IssuerMustBeTrusted) {
  RuleRequirements requirements;
  requirements.trusted_issuers = {"foo", "bar"};
  EXPECT_TRUE(check_requirements(parsed(R"({"active":true,"iss":"foo"})"), requirements).has_value());
  EXPECT_EQ(check_requirements(parsed(R"({"active":true,"iss":"not-foo"})"), requirements).error().status, 403);
}

TEST(IntrospectionCheck, ScopeStrategiesApply) {
  RuleRequirements requirements;
  requirements.scope_strategy = ScopeStrategy::hierarchic;
  requirements.required_scope = {"scope-a", "scope-b.foo", "scope-c.bar"};
  EXPECT_TRUE(check_requirements(parsed(R"({"active":true,"scope":"scope-a scope-b scope-c.bar"})"), requirements)
                  .has_value());
  auto checked = check_requirements(parsed(R"({"active":true,"scope":"scope-a scope-b"})"), requirements);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error().reason, "Scope scope-c.bar was not granted");
}

TEST(IntrospectionCheck, StrategyNoneLeavesScopesToIssuer) {
  RuleRequirements requirements;
  requirements.required_scope = {"scope-a"};
  EXPECT_TRUE(check_requirements(parsed(R"({"active":true,"scope":"scope-z"})"), requirements).has_value());
}

TEST(IntrospectionExtra, DefaultExtraMatchesOathkeeper) {
  auto extra = default_extra(parsed(
      R"({"active":true,"ext":{"tier":"gold"},"username":"ann","client_id":"app","scope":"a b","aud":"api"})"));
  EXPECT_EQ(boost::json::serialize(extra),
            R"({"tier":"gold","username":"ann","client_id":"app","scope":"a b","aud":["api"]})");
}

TEST(IntrospectionExtra, DefaultExtraOmitsEmptyAudience) {
  auto extra = default_extra(parsed(R"({"active":true})"));
  EXPECT_EQ(boost::json::serialize(extra), R"({"username":"","client_id":"","scope":""})");
}

TEST(SessionIdentity, ExtractsSubjectAndExtra) {
  auto subject_from = *text::GjsonPath::compile("identity.id");
  auto extra_from = *text::GjsonPath::compile("@this");
  Session session;
  auto document = boost::json::parse(R"({"identity":{"id":"123"},"session":{"foo":"bar"}})");
  ASSERT_TRUE(extract_identity(document, subject_from, extra_from, session).has_value());
  EXPECT_EQ(session.subject, "123");
  EXPECT_EQ(session.extra_value(), document);
}

TEST(SessionIdentity, MissingPathsGiveEmptyIdentity) {
  Session session;
  session.subject = "stale";
  auto document = boost::json::parse(R"({"other":1})");
  ASSERT_TRUE(extract_identity(document, *text::GjsonPath::compile("sub"), *text::GjsonPath::compile("extra"), session)
                  .has_value());
  EXPECT_EQ(session.subject, "");
  EXPECT_TRUE(session.extra_value().is_null());
}

TEST(SessionIdentity, WrongTypesAreForbidden) {
  Session session;
  auto document = boost::json::parse(R"({"sub":5,"extra":[1]})");
  auto subject = extract_identity(document, *text::GjsonPath::compile("sub"), *text::GjsonPath::compile("none"), session);
  ASSERT_FALSE(subject.has_value());
  EXPECT_EQ(subject.error().status, 403);
  auto extra = extract_identity(document, *text::GjsonPath::compile("none"), *text::GjsonPath::compile("extra"), session);
  ASSERT_FALSE(extra.has_value());
  EXPECT_EQ(extra.error().status, 403);
}

TEST(RemoteFailure, TransportErrorsAreGatewayErrors) {
  EXPECT_EQ(transport_failure("x", {http::ClientErrorKind::unreachable, "refused"}).status, 502);
  EXPECT_EQ(transport_failure("x", {http::ClientErrorKind::timed_out, "slow"}).status, 504);
}

TEST(RemoteFailure, StatusesMapToGatewayErrors) {
  EXPECT_EQ(status_failure("x", 500).status, 502);
  EXPECT_EQ(status_failure("x", 503).status, 503);
  EXPECT_EQ(status_failure("x", 504).status, 504);
  EXPECT_EQ(status_failure("x", 400).status, 502);
}

TEST(RemoteFailure, RateLimitCopiesHeaders) {
  http::ClientResponse response;
  response.status = 429;
  response.headers = {{"retry-after", "120"}, {"X-RateLimit-Limit", "1000"}, {"X-Other", "no"}};
  Error error = rate_limited("x", response);
  EXPECT_EQ(error.status, 429);
  http::HeaderList expected = {{"Retry-After", "120"}, {"X-Ratelimit-Limit", "1000"}};
  EXPECT_EQ(error.headers, expected);
}

TEST(FormEncode, EscapesReservedBytes) {
  EXPECT_EQ(form_encode("a b+c/d=é~"), "a+b%2Bc%2Fd%3D%C3%A9~");
}

}  // namespace
}  // namespace gh::pipeline::authn
