#include "http/headers.h"

#include <gtest/gtest.h>

namespace gh::http {
namespace {

namespace bhttp = boost::beast::http;

TEST(CanonicalHeaderName, FollowsMimeCasing) {
  EXPECT_EQ(canonical_header_name("x-forwarded-for"), "X-Forwarded-For");
  EXPECT_EQ(canonical_header_name("X-FORWARDED-FOR"), "X-Forwarded-For");
  EXPECT_EQ(canonical_header_name("X-CoMpAnY"), "X-Company");
  EXPECT_EQ(canonical_header_name("bad header"), "bad header");
}

TEST(IsToken, AcceptsOnlyTokenCharacters) {
  EXPECT_TRUE(is_token("X-User"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("X User"));
  EXPECT_FALSE(is_token("X:User"));
}

TEST(IsSafeFieldValue, RejectsLineBreaks) {
  EXPECT_TRUE(is_safe_field_value("alice"));
  EXPECT_FALSE(is_safe_field_value("a\r\nX-Injected: 1"));
  EXPECT_FALSE(is_safe_field_value(std::string_view("a\0b", 3)));
}

TEST(RemoveHopByHop, DropsStandardAndListedHeaders) {
  bhttp::fields fields;
  fields.set("Connection", "keep-alive, X-Secret");
  fields.set("Keep-Alive", "timeout=5");
  fields.set("X-Secret", "1");
  fields.set("Upgrade", "websocket");
  fields.set("Transfer-Encoding", "chunked");
  fields.set("TE", "trailers");
  fields.set("X-Kept", "yes");

  remove_hop_by_hop(fields);

  EXPECT_EQ(fields.count("Connection"), 0u);
  EXPECT_EQ(fields.count("Keep-Alive"), 0u);
  EXPECT_EQ(fields.count("X-Secret"), 0u);
  EXPECT_EQ(fields.count("Upgrade"), 0u);
  EXPECT_EQ(fields.count("Transfer-Encoding"), 0u);
  EXPECT_EQ(fields.count("TE"), 0u);
  EXPECT_EQ(fields["X-Kept"], "yes");
}

TEST(RemoveForwarded, DropsEveryForwardedHeader) {
  bhttp::fields fields;
  fields.insert("X-Forwarded-For", "1.2.3.4");
  fields.insert("x-forwarded-host", "evil.example");
  fields.insert("X-Forwarded-Proto", "https");
  fields.insert("X-Forwarded-Uri", "/admin");
  fields.insert("Forwarded", "for=1.2.3.4");
  fields.insert("X-Other", "kept");

  remove_forwarded(fields);

  EXPECT_EQ(std::distance(fields.begin(), fields.end()), 1);
  EXPECT_EQ(fields["X-Other"], "kept");
}

TEST(FindCookie, ReadsNamedCookie) {
  bhttp::fields fields;
  fields.insert("Cookie", "a=1; session=\"abc\"");
  fields.insert("Cookie", "b=2");
  std::string value;
  EXPECT_TRUE(find_cookie(fields, "session", &value));
  EXPECT_EQ(value, "abc");
  EXPECT_TRUE(find_cookie(fields, "b", &value));
  EXPECT_EQ(value, "2");
  EXPECT_FALSE(find_cookie(fields, "missing", &value));
}

}  // namespace
}  // namespace gh::http
