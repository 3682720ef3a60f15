#include "oauth2/form.h"

#include <gtest/gtest.h>

#include "oauth2/scope.h"

namespace gh::oauth2 {
namespace {

TEST(Form, DecodesPlusAndEscapes) {
  auto form = parse_form("grant_type=client_credentials&scope=read+write&audience=a%20b&audience=c&empty=&flag");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->value("grant_type"), "client_credentials");
  EXPECT_EQ(form->value("scope"), "read write");
  EXPECT_EQ(form->all("audience"), (std::vector<std::string>{"a b", "c"}));
  EXPECT_EQ(form->get("empty"), std::optional<std::string>(""));
  EXPECT_EQ(form->get("flag"), std::optional<std::string>(""));
  EXPECT_EQ(form->get("missing"), std::nullopt);
  EXPECT_EQ(form->count("audience"), 2u);
}

TEST(Form, RejectsBadEscapes) {
  for (std::string_view text : {"a=%", "a=%4", "a=%zz", "a=%00", "%=1"}) EXPECT_FALSE(parse_form(text)) << text;
}

TEST(Form, EmptyBodyIsEmptyForm) {
  auto form = parse_form("");
  ASSERT_TRUE(form);
  EXPECT_TRUE(form->empty());
}

TEST(BasicAuth, DecodesFormEncodedParts) {
  BasicCredentials credentials;
  // base64("my%3Aclient:p%40ss+word") — the id contains ':' and the secret '@' and ' '.
  ASSERT_EQ(parse_basic_authorization("Basic bXklM0FjbGllbnQ6cCU0MHNzK3dvcmQ=", credentials), BasicParse::ok);
  EXPECT_EQ(credentials.client_id, "my:client");
  EXPECT_EQ(credentials.client_secret, "p@ss word");
}

TEST(BasicAuth, SchemeIsCaseInsensitive) {
  BasicCredentials credentials;
  ASSERT_EQ(parse_basic_authorization("basic YTpi", credentials), BasicParse::ok);
  EXPECT_EQ(credentials.client_id, "a");
  EXPECT_EQ(credentials.client_secret, "b");
}

TEST(BasicAuth, OtherSchemesAreAbsent) {
  BasicCredentials credentials;
  EXPECT_EQ(parse_basic_authorization("Bearer abc", credentials), BasicParse::absent);
  EXPECT_EQ(parse_basic_authorization("Basically", credentials), BasicParse::absent);
}

TEST(BasicAuth, MalformedValues) {
  BasicCredentials credentials;
  EXPECT_EQ(parse_basic_authorization("Basic !!!", credentials), BasicParse::malformed);
  EXPECT_EQ(parse_basic_authorization("Basic YWJj", credentials), BasicParse::malformed);  // "abc": no colon
  EXPECT_EQ(parse_basic_authorization("Basic OmI=", credentials), BasicParse::malformed);  // ":b": empty id
  EXPECT_EQ(parse_basic_authorization("Basic JTpi", credentials), BasicParse::malformed);  // "%:b": bad escape
}

TEST(Spaces, SplitAndJoin) {
  EXPECT_EQ(split_spaces("  a b  c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_spaces("").empty());
  EXPECT_EQ(join_spaces({"a", "b"}), "a b");
}

TEST(ScopeStrategy, Exact) {
  std::vector<std::string> allowed = {"read", "a.*"};
  EXPECT_TRUE(scope_allowed(ScopeStrategy::exact, allowed, "read"));
  EXPECT_TRUE(scope_allowed(ScopeStrategy::exact, allowed, "a.*"));
  EXPECT_FALSE(scope_allowed(ScopeStrategy::exact, allowed, "a.b"));
  EXPECT_FALSE(scope_allowed(ScopeStrategy::exact, allowed, "rea"));
}

TEST(ScopeStrategy, Wildcard) {
  struct Case {
    std::string allowed;
    std::string requested;
    bool expected;
  };
  for (const Case& test : std::vector<Case>{{"a.*", "a.b", true},
                                            {"a.*", "a.b.c", true},
                                            {"a.*", "a", false},
                                            {"a.*", "a.", false},
                                            {"a.*.c", "a.x.c", true},
                                            {"a.*.c", "a.x.d", false},
                                            {"a.*.c", "a.x.c.d", false},
                                            {"*", "anything.at.all", true},
                                            {"a", "a", true},
                                            {"a", "a.b", false},
                                            {"a.b", "a", false}}) {
    EXPECT_EQ(scope_allowed(ScopeStrategy::wildcard, {test.allowed}, test.requested), test.expected)
        << test.allowed << " vs " << test.requested;
  }
}

TEST(Audience, ExactAndUrlPrefix) {
  std::vector<std::string> allowed = {"plain-name", "https://api.example.com/v1/"};
  EXPECT_TRUE(audience_allowed(allowed, "plain-name"));
  EXPECT_FALSE(audience_allowed(allowed, "plain"));
  EXPECT_TRUE(audience_allowed(allowed, "https://api.example.com/v1"));
  EXPECT_TRUE(audience_allowed(allowed, "https://api.example.com/v1/orders"));
  EXPECT_FALSE(audience_allowed(allowed, "https://api.example.com/v10"));
  EXPECT_FALSE(audience_allowed(allowed, "http://api.example.com/v1"));
  EXPECT_FALSE(audience_allowed(allowed, "https://evil.example.com/v1"));
  EXPECT_FALSE(audience_allowed({}, "plain-name"));
}

}  // namespace
}  // namespace gh::oauth2
