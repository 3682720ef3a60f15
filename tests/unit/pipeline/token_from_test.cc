#include "pipeline/token_from.h"

#include <gtest/gtest.h>

#include "pipeline_test_support.h"

namespace gh::pipeline {
namespace {

using testing::TestRequest;

TokenLocation location(std::string_view json_text) {
  boost::json::value config = boost::json::parse(json_text);
  auto parsed = parse_token_from(&config);
  EXPECT_TRUE(parsed.has_value()) << json_text;
  return parsed ? *parsed : TokenLocation{};
}

TestRequest request_with(std::string_view name, std::string_view value, std::string query = "") {
  TestRequest request("GET", "http", "app.test", "/");
  if (!name.empty()) request.headers.insert(name, value);
  request.request.raw_query = std::move(query);
  return request;
}

TEST(TokenFrom, DefaultReadsBearerScheme) {
  TestRequest request = request_with("Authorization", "bearer token");
  EXPECT_EQ(extract_token(request.request, TokenLocation{}), "token");
}

TEST(TokenFrom, DefaultIgnoresOtherSchemes) {
  TestRequest request = request_with("Authorization", "Basic dXNlcjpwYXNz");
  EXPECT_EQ(extract_token(request.request, TokenLocation{}), "");
}

TEST(TokenFrom, DefaultWithoutHeaderIsEmpty) {
  TestRequest request = request_with("", "");
  EXPECT_EQ(extract_token(request.request, TokenLocation{}), "");
}

TEST(TokenFrom, NullAndEmptyObjectMeanDefault) {
  EXPECT_EQ(location("null").kind, TokenLocation::Kind::authorization_bearer);
  EXPECT_EQ(location("{}").kind, TokenLocation::Kind::authorization_bearer);
  EXPECT_EQ(parse_token_from(nullptr)->kind, TokenLocation::Kind::authorization_bearer);
}

TEST(TokenFrom, ExactAuthorizationHeaderParsesBearer) {
  EXPECT_EQ(location(R"({"header":"Authorization"})").kind, TokenLocation::Kind::authorization_bearer);
  TestRequest request = request_with("Authorization", "Bearer abc");
  EXPECT_EQ(extract_token(request.request, location(R"({"header":"Authorization"})")), "abc");
}

TEST(TokenFrom, LowerCaseAuthorizationIsRaw) {
  TestRequest request = request_with("Authorization", "Bearer abc");
  EXPECT_EQ(extract_token(request.request, location(R"({"header":"authorization"})")), "Bearer abc");
}

TEST(TokenFrom, CustomHeaderIsRawValue) {
  TestRequest request = request_with("Custom-Auth-Header", "token");
  EXPECT_EQ(extract_token(request.request, location(R"({"header":"custom-auth-header"})")), "token");
  EXPECT_EQ(extract_token(request.request, location(R"({"header":"X-Other"})")), "");
}

TEST(TokenFrom, QueryParameterIsDecoded) {
  TestRequest request = request_with("", "", "a=1&Custom-Auth=to%2Bken");
  EXPECT_EQ(extract_token(request.request, location(R"({"query_parameter":"Custom-Auth"})")), "to+ken");
  EXPECT_EQ(extract_token(request.request, location(R"({"query_parameter":"custom-auth"})")), "");
}

TEST(TokenFrom, CookieIsCaseSensitive) {
  TestRequest request = request_with("Cookie", "cake=1; biscuit=token");
  EXPECT_EQ(extract_token(request.request, location(R"({"cookie":"biscuit"})")), "token");
  EXPECT_EQ(extract_token(request.request, location(R"({"cookie":"Biscuit"})")), "");
}

TEST(TokenFrom, RejectsTwoLocations) {
  boost::json::value config = boost::json::parse(R"({"header":"A","cookie":"b"})");
  EXPECT_FALSE(parse_token_from(&config).has_value());
}

TEST(TokenFrom, RejectsUnknownKey) {
  boost::json::value config = boost::json::parse(R"({"body":"token"})");
  EXPECT_FALSE(parse_token_from(&config).has_value());
}

}  // namespace
}  // namespace gh::pipeline
