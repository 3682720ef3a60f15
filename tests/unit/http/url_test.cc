#include "http/url.h"

#include <gtest/gtest.h>

namespace gh::http {
namespace {

TEST(PercentDecode, DecodesEscapes) {
  EXPECT_EQ(percent_decode("/a%20b/%41").value(), "/a b/A");
  EXPECT_EQ(percent_decode("/plain").value(), "/plain");
}

TEST(PercentDecode, RejectsMalformedEscapes) {
  EXPECT_FALSE(percent_decode("/a%2").has_value());
  EXPECT_FALSE(percent_decode("/a%zz").has_value());
  EXPECT_FALSE(percent_decode("%").has_value());
}

TEST(PercentDecode, RejectsControlBytes) {
  EXPECT_FALSE(percent_decode("/a%00b").has_value());
  EXPECT_FALSE(percent_decode("/a%0d%0aX-Injected:1").has_value());
  EXPECT_FALSE(percent_decode("/a%7F").has_value());
  EXPECT_FALSE(percent_decode(std::string_view("/a\0b", 4)).has_value());
}

struct NormalizeCase {
  const char* input;
  const char* expected;
};

class NormalizePath : public testing::TestWithParam<NormalizeCase> {};

TEST_P(NormalizePath, ResolvesDotSegments) { EXPECT_EQ(normalize_path(GetParam().input), GetParam().expected); }

INSTANTIATE_TEST_SUITE_P(Cases, NormalizePath,
                         testing::Values(NormalizeCase{"", ""}, NormalizeCase{"/", "/"},
                                         NormalizeCase{"/a/b", "/a/b"}, NormalizeCase{"/a/b/", "/a/b/"},
                                         NormalizeCase{"/public/../admin/x", "/admin/x"},
                                         NormalizeCase{"/a/./b", "/a/b"}, NormalizeCase{"//a//b", "/a/b"},
                                         NormalizeCase{"/../../etc", "/etc"}, NormalizeCase{"/a/..", "/"},
                                         NormalizeCase{"/a/b/..", "/a/"}, NormalizeCase{"/a/.", "/a/"},
                                         NormalizeCase{"a/b", "/a/b"}));

TEST(EncodePath, EscapesUnsafeBytes) {
  EXPECT_EQ(encode_path("/a b/c%d"), "/a%20b/c%25d");
  EXPECT_EQ(encode_path("/users/42:x@y"), "/users/42:x@y");
  EXPECT_EQ(encode_path("/q?x#y"), "/q%3Fx%23y");
}

TEST(EncodePath, RoundTripsThroughDecode) {
  std::string original = "/ä/ spaced/%/?#";  // every byte outside control characters
  EXPECT_EQ(percent_decode(encode_path(original)).value(), original);
}

TEST(SplitTarget, SeparatesPathAndQuery) {
  Target target = split_target("/a/b?x=1&y=2#frag");
  EXPECT_EQ(target.path, "/a/b");
  EXPECT_EQ(target.query, "x=1&y=2");
  EXPECT_TRUE(target.has_query);

  Target no_query = split_target("/a");
  EXPECT_EQ(no_query.path, "/a");
  EXPECT_FALSE(no_query.has_query);
}

TEST(IsValidHost, AcceptsHostAndPort) {
  EXPECT_TRUE(is_valid_host("api.example.com"));
  EXPECT_TRUE(is_valid_host("api.example.com:8443"));
  EXPECT_TRUE(is_valid_host("127.0.0.1:4455"));
  EXPECT_TRUE(is_valid_host("[::1]"));
  EXPECT_TRUE(is_valid_host("[2001:db8::1]:443"));
  EXPECT_TRUE(is_valid_host("tasks.foo-bar_baz"));
}

TEST(IsValidHost, RejectsAnythingElse) {
  EXPECT_FALSE(is_valid_host(""));
  EXPECT_FALSE(is_valid_host("127.0.0.1:20455/public"));
  EXPECT_FALSE(is_valid_host("a.example/../admin"));
  EXPECT_FALSE(is_valid_host("user@host"));
  EXPECT_FALSE(is_valid_host("host:"));
  EXPECT_FALSE(is_valid_host(":80"));
  EXPECT_FALSE(is_valid_host("host:80:90"));
  EXPECT_FALSE(is_valid_host("host:123456"));
  EXPECT_FALSE(is_valid_host("host name"));
  EXPECT_FALSE(is_valid_host("host?x"));
  EXPECT_FALSE(is_valid_host("[::1"));
  EXPECT_FALSE(is_valid_host("[::1]x"));
  EXPECT_FALSE(is_valid_host("[]"));
}

TEST(QueryValue, FindsFirstDecodedValue) {
  EXPECT_EQ(query_value("a=1&b=x%20y&b=2", "b").value(), "x y");
  EXPECT_EQ(query_value("a=1+2", "a").value(), "1 2");
  EXPECT_EQ(query_value("flag&a=1", "flag").value(), "");
  EXPECT_FALSE(query_value("a=1", "b").has_value());
}

}  // namespace
}  // namespace gh::http
