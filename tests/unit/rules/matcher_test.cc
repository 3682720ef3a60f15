#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "rules/matcher.h"

namespace gh::rules {
namespace {

Rule make_rule(std::string id, std::string url, std::vector<std::string> methods) {
  Rule rule;
  rule.id = std::move(id);
  rule.match_url = std::move(url);
  rule.match_methods = std::move(methods);
  return rule;
}

std::shared_ptr<const Matcher> build_ok(std::vector<Rule> rules, Strategy strategy = Strategy::regexp) {
  auto matcher = Matcher::build(std::move(rules), strategy);
  EXPECT_TRUE(matcher.has_value());
  return matcher ? *matcher : nullptr;
}

// The id of the one matching rule, or "" when none or several match.
std::string matched_id(const Matcher& matcher, std::string_view method, std::string_view url) {
  const MatchResult result = matcher.match(method, url);
  if (result.kind != MatchResult::Kind::one) return "";
  return matcher.rules()[result.index].id;
}

TEST(Matcher, SelectsByMethodAndUrl) {
  auto matcher = build_ok({
      make_rule("foo1", "https://localhost:1234/<foo|bar>", {"POST"}),
      make_rule("foo2", "https://localhost:34/<baz|bar>", {"GET"}),
      make_rule("foo3", "https://localhost:343/<baz|bar>", {"GET"}),
  });
  EXPECT_EQ(matched_id(*matcher, "GET", "https://localhost:34/baz"), "foo2");
  EXPECT_EQ(matched_id(*matcher, "POST", "https://localhost:1234/foo"), "foo1");
  EXPECT_EQ(matcher->match("DELETE", "https://localhost:1234/foo").kind, MatchResult::Kind::none);
  EXPECT_EQ(matcher->match("GET", "https://localhost:34/qux").kind, MatchResult::Kind::none);
}

TEST(Matcher, ReturnsCapturesOfOneMatch) {
  auto matcher = build_ok({make_rule("users", "<http|https>://localhost/<.*>", {"GET"})});
  const MatchResult result = matcher->match("GET", "http://localhost/user");
  ASSERT_EQ(result.kind, MatchResult::Kind::one);
  EXPECT_EQ(result.index, 0u);
  EXPECT_EQ(result.captures, (std::vector<std::string>{"http", "user"}));

  auto plain = build_ok({make_rule("root", "http://localhost", {"GET"})});
  const MatchResult literal = plain->match("GET", "http://localhost");
  ASSERT_EQ(literal.kind, MatchResult::Kind::one);
  EXPECT_TRUE(literal.captures.empty());
}

TEST(Matcher, ReportsEveryOverlappingRule) {
  auto matcher = build_ok({
      make_rule("a", "https://api.test/<.*>", {"GET"}),
      make_rule("b", "https://other.test/<.*>", {"GET"}),
      make_rule("c", "https://api.test/items/<[0-9]+>", {"GET", "POST"}),
      make_rule("d", "https://api.test/items/<(?!0).*>", {"GET"}),
  });
  const MatchResult result = matcher->match("GET", "https://api.test/items/12");
  ASSERT_EQ(result.kind, MatchResult::Kind::many);
  EXPECT_EQ(result.indexes, (std::vector<size_t>{0, 2, 3}));

  EXPECT_EQ(matched_id(*matcher, "POST", "https://api.test/items/12"), "c");
  EXPECT_EQ(matcher->match("GET", "https://api.test/items/0").kind, MatchResult::Kind::many);
}

TEST(Matcher, MethodsAreCaseInsensitive) {
  auto matcher = build_ok({make_rule("r", "https://localhost/x", {"delete", "Get"})});
  EXPECT_EQ(matched_id(*matcher, "DELETE", "https://localhost/x"), "r");
  EXPECT_EQ(matched_id(*matcher, "get", "https://localhost/x"), "r");
  EXPECT_EQ(matched_id(*matcher, "gEt", "https://localhost/x"), "r");
  EXPECT_EQ(matcher->match("POST", "https://localhost/x").kind, MatchResult::Kind::none);
}

TEST(Matcher, RepeatedMethodCountsOnce) {
  auto matcher = build_ok({make_rule("r", "https://localhost/x", {"GET", "get"})});
  EXPECT_EQ(matched_id(*matcher, "GET", "https://localhost/x"), "r");
}

TEST(Matcher, CustomMethods) {
  auto matcher = build_ok({
      make_rule("custom", "https://localhost/users/<[0-9]+>", {"CUSTOM"}),
      make_rule("mkcol", "http://tasks.foo-bar_baz/<.*>", {"MKCOL"}),
  });
  EXPECT_EQ(matched_id(*matcher, "CUSTOM", "https://localhost/users/1"), "custom");
  EXPECT_EQ(matcher->match("DELETE", "https://localhost/users/1").kind, MatchResult::Kind::none);
  EXPECT_EQ(matched_id(*matcher, "MKCOL", "http://tasks.foo-bar_baz/a"), "mkcol");
}

TEST(Matcher, EmptyMethodListMatchesNothing) {
  auto matcher = build_ok({make_rule("r", "https://localhost/<.*>", {})});
  EXPECT_EQ(matcher->match("GET", "https://localhost/x").kind, MatchResult::Kind::none);
}

TEST(Matcher, DigitRulesAgreeAcrossEngines) {
  const auto regexp = build_ok({make_rule("r", "https://localhost/users/<[[:digit:]]*>", {"DELETE"})});
  const auto glob = build_ok({make_rule("r", "https://localhost/users/<[0-9]*>", {"DELETE"})}, Strategy::glob);
  for (const auto& matcher : {regexp, glob}) {
    EXPECT_EQ(matched_id(*matcher, "DELETE", "https://localhost/users/1234"), "r");
    EXPECT_EQ(matcher->match("DELETE", "https://localhost/users/abcd").kind, MatchResult::Kind::none);
  }
}

TEST(Matcher, LookAheadRuleOnPcre2) {
  auto matcher = build_ok({make_rule("r", "https://localhost/users/<(?!admin).*>", {"DELETE"})});
  EXPECT_EQ(matched_id(*matcher, "DELETE", "https://localhost/users/manager"), "r");
  EXPECT_EQ(matcher->match("DELETE", "https://localhost/users/admin").kind, MatchResult::Kind::none);
}

// Callers pass scheme://host/path with the query already removed; a '?' that reaches the
// matcher came from a decoded path (%3F) and is ordinary path text.
TEST(Matcher, QueryIsNotSpecialInPath) {
  auto matcher = build_ok({make_rule("r", "https://localhost/users/<[0-9]+>", {"GET"})});
  EXPECT_EQ(matched_id(*matcher, "GET", "https://localhost/users/1234"), "r");
  EXPECT_EQ(matcher->match("GET", "https://localhost/users/1234?key=value").kind, MatchResult::Kind::none);
}

TEST(Matcher, GlobRulesNeverCapture) {
  auto matcher = build_ok({make_rule("r", "<{http,https}>://localhost/<*>", {"GET"})}, Strategy::glob);
  const MatchResult result = matcher->match("GET", "http://localhost/user");
  ASSERT_EQ(result.kind, MatchResult::Kind::one);
  EXPECT_TRUE(result.captures.empty());
  EXPECT_EQ(matcher->strategy(), Strategy::glob);
}

TEST(Matcher, CollectsEveryBadPattern) {
  auto matcher = Matcher::build({make_rule("ok", "https://a/<.*>", {"GET"}), make_rule("open", "https://a/<.*", {"GET"}),
                                 make_rule("class", "https://a/<[a-z>", {"GET"})},
                                Strategy::regexp);
  ASSERT_FALSE(matcher.has_value());
  const std::vector<std::string>& errors = matcher.error();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_TRUE(errors[0].starts_with(R"(rule "open": invalid match.url pattern "https://a/<.*": )")) << errors[0];
  EXPECT_NE(errors[0].find("unbalanced"), std::string::npos) << errors[0];
  EXPECT_TRUE(errors[1].starts_with(R"(rule "class": invalid match.url pattern "https://a/<[a-z>": )")) << errors[1];
}

TEST(Matcher, EmptyRuleSetMatchesNothing) {
  auto matcher = build_ok({});
  EXPECT_EQ(matcher->match("GET", "https://localhost/").kind, MatchResult::Kind::none);
  EXPECT_TRUE(matcher->rules().empty());
}

TEST(Matcher, ManyRulesFindTheRightOne) {
  std::vector<Rule> rules;
  for (int i = 0; i < 2000; ++i) {
    rules.push_back(make_rule(fmt::format("svc{}", i), fmt::format("<https|http>://api{}.example.com/svc{}/<[0-9]+>", i % 7, i),
                              {"GET", "POST"}));
  }
  auto matcher = build_ok(std::move(rules));
  for (int i : {0, 1, 999, 1999}) {
    const MatchResult result = matcher->match("POST", fmt::format("https://api{}.example.com/svc{}/77", i % 7, i));
    ASSERT_EQ(result.kind, MatchResult::Kind::one) << i;
    EXPECT_EQ(matcher->rules()[result.index].id, fmt::format("svc{}", i));
    EXPECT_EQ(result.captures, (std::vector<std::string>{"https", "77"}));
  }
  EXPECT_EQ(matcher->match("GET", "https://api1.example.com/svc2/77").kind, MatchResult::Kind::none);
  EXPECT_EQ(matcher->dfa_fallbacks(), 0u);
}

TEST(Matcher, ConcurrentMatchesAgree) {
  auto matcher = build_ok({make_rule("a", "https://a.test/<[0-9]+>", {"GET"}), make_rule("b", "https://b.test/<(?!x).*>", {"GET"})});
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (matched_id(*matcher, "GET", "https://a.test/5") != "a") ++wrong;
        if (matched_id(*matcher, "GET", "https://b.test/y") != "b") ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace gh::rules
