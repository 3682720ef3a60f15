#include "jose/jwt.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace gh::jose {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::system_clock;

constexpr std::int64_t kBase = 1'700'000'000;

Clock::time_point at(std::int64_t epoch_seconds) { return Clock::time_point(seconds(epoch_seconds)); }

boost::json::object claims(std::string_view json) { return boost::json::parse(json).as_object(); }

const boost::json::object kTimed = claims(R"({"exp":1700000100,"nbf":1700000000,"iat":1700000000})");

TEST(JwtClaims, ParsesObjectPayload) {
  auto parsed = parse_claims(R"({"sub":"alice"})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->at("sub").as_string(), "alice");
}

TEST(JwtClaims, RejectsNonObjectPayload) {
  for (const char* payload : {"[]", "\"sub\"", "", "{", "42"}) {
    auto parsed = parse_claims(payload);
    ASSERT_FALSE(parsed) << payload;
    EXPECT_EQ(parsed.error().code, ClaimErrorCode::malformed);
  }
}

TEST(JwtTime, ExpiryBoundaryWithoutLeeway) {
  EXPECT_TRUE(check_time(kTimed, at(kBase + 99), seconds(0)));
  auto at_exp = check_time(kTimed, at(kBase + 100), seconds(0));
  ASSERT_FALSE(at_exp);
  EXPECT_EQ(at_exp.error().code, ClaimErrorCode::expired);
}

TEST(JwtTime, ExpiryBoundaryWithLeeway) {
  EXPECT_TRUE(check_time(kTimed, at(kBase + 104), seconds(5)));
  auto past = check_time(kTimed, at(kBase + 105), seconds(5));
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, ClaimErrorCode::expired);
}

TEST(JwtTime, NotBeforeBoundary) {
  const auto nbf_only = claims(R"({"nbf":1700000000})");
  EXPECT_TRUE(check_time(nbf_only, at(kBase), seconds(0)));
  auto early = check_time(nbf_only, at(kBase - 1), seconds(0));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ClaimErrorCode::not_yet_valid);

  EXPECT_TRUE(check_time(nbf_only, at(kBase - 5), seconds(5)));
  auto too_early = check_time(nbf_only, at(kBase - 6), seconds(5));
  ASSERT_FALSE(too_early);
  EXPECT_EQ(too_early.error().code, ClaimErrorCode::not_yet_valid);
}

TEST(JwtTime, IssuedAtBoundary) {
  const auto iat_only = claims(R"({"iat":1700000000})");
  EXPECT_TRUE(check_time(iat_only, at(kBase), seconds(0)));
  auto future = check_time(iat_only, at(kBase - 1), seconds(0));
  ASSERT_FALSE(future);
  EXPECT_EQ(future.error().code, ClaimErrorCode::issued_in_future);

  EXPECT_TRUE(check_time(iat_only, at(kBase - 3), seconds(3)));
  EXPECT_FALSE(check_time(iat_only, at(kBase - 4), seconds(3)));
}

TEST(JwtTime, FractionalExpiry) {
  const auto fractional = claims(R"({"exp":1700000000.5})");
  EXPECT_TRUE(check_time(fractional, at(kBase), seconds(0)));
  EXPECT_FALSE(check_time(fractional, at(kBase + 1), seconds(0)));
}

TEST(JwtTime, TokenWithoutTimeClaimsPasses) {
  EXPECT_TRUE(check_time(claims(R"({"sub":"alice"})"), at(kBase), seconds(0)));
}

TEST(JwtTime, RejectsNonNumericClaims) {
  for (const char* json : {R"({"exp":"1700000100"})", R"({"nbf":null})", R"({"iat":[1]})",
                           R"({"exp":true})"}) {
    auto result = check_time(claims(json), at(kBase), seconds(0));
    ASSERT_FALSE(result) << json;
    EXPECT_EQ(result.error().code, ClaimErrorCode::malformed) << json;
  }
}

TEST(JwtIssuer, EmptyTrustListAcceptsAny) {
  EXPECT_TRUE(check_issuer(claims(R"({"iss":"anyone"})"), {}));
  EXPECT_TRUE(check_issuer(claims(R"({})"), {}));
}

TEST(JwtIssuer, MatchesExactly) {
  const std::vector<std::string> trusted = {"https://a.test", "https://b.test"};
  EXPECT_TRUE(check_issuer(claims(R"({"iss":"https://b.test"})"), trusted));
  for (const char* json : {R"({"iss":"https://B.test"})", R"({"iss":"https://b.test/"})",
                           R"({})", R"({"iss":["https://a.test"]})"}) {
    auto result = check_issuer(claims(json), trusted);
    ASSERT_FALSE(result) << json;
    EXPECT_EQ(result.error().code, ClaimErrorCode::issuer_not_trusted) << json;
  }
}

TEST(JwtAudience, StringAndArrayForms) {
  const std::vector<std::string> one = {"api"};
  EXPECT_TRUE(check_audience(claims(R"({"aud":"api"})"), one));
  EXPECT_TRUE(check_audience(claims(R"({"aud":["web","api"]})"), one));
}

TEST(JwtAudience, EveryRequiredAudienceMustBePresent) {
  const std::vector<std::string> both = {"aud-1", "aud-2"};
  EXPECT_TRUE(check_audience(claims(R"({"aud":["aud-2","aud-1","aud-3"]})"), both));
  auto partial = check_audience(claims(R"({"aud":["not-aud-1","aud-2"]})"), both);
  ASSERT_FALSE(partial);
  EXPECT_EQ(partial.error().code, ClaimErrorCode::audience_missing);
  auto missing = check_audience(claims(R"({})"), both);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ClaimErrorCode::audience_missing);
}

TEST(JwtAudience, EmptyRequirementPasses) {
  EXPECT_TRUE(check_audience(claims(R"({})"), {}));
}

TEST(JwtAudience, RejectsWrongTypes) {
  const std::vector<std::string> one = {"api"};
  for (const char* json : {R"({"aud":42})", R"({"aud":["api",1]})"}) {
    auto result = check_audience(claims(json), one);
    ASSERT_FALSE(result) << json;
    EXPECT_EQ(result.error().code, ClaimErrorCode::malformed) << json;
  }
}

TEST(JwtScopes, FromEachClaimShape) {
  const std::vector<std::string> expected = {"foo", "bar"};
  for (const char* json : {R"({"scp":"foo bar"})", R"({"scp":["foo","bar"]})",
                           R"({"scope":"foo bar"})", R"({"scope":["foo","bar"]})",
                           R"({"scopes":"foo bar"})", R"({"scopes":["foo","bar"]})"}) {
    EXPECT_EQ(extract_scopes(claims(json)), expected) << json;
  }
}

TEST(JwtScopes, FirstPresentClaimWins) {
  const std::vector<std::string> expected = {"from-scp"};
  EXPECT_EQ(extract_scopes(claims(R"({"scope":"from-scope","scp":["from-scp"]})")), expected);
  EXPECT_EQ(extract_scopes(claims(R"({"scopes":["b"],"scope":"a"})")),
            std::vector<std::string>{"a"});
}

TEST(JwtScopes, EdgeCases) {
  EXPECT_TRUE(extract_scopes(claims(R"({})")).empty());
  EXPECT_EQ(extract_scopes(claims(R"({"scp":"  a  b "})")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(extract_scopes(claims(R"({"scp":["a",1,null]})")),
            (std::vector<std::string>{"a", "", ""}));
  EXPECT_TRUE(extract_scopes(claims(R"({"scp":""})")).empty());
}

}  // namespace
}  // namespace gh::jose
