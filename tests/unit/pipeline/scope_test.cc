#include "pipeline/scope.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gh::pipeline {
namespace {

struct Case {
  std::string required;
  bool granted;
};

void expect_cases(ScopeStrategy strategy, const std::vector<std::string>& granted,
                  const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(scope_granted(strategy, granted, c.required), c.granted) << "required scope: \"" << c.required << "\"";
  }
}

TEST(ScopeStrategy, ParsesKnownNames) {
  EXPECT_EQ(parse_scope_strategy("none"), ScopeStrategy::none);
  EXPECT_EQ(parse_scope_strategy("exact"), ScopeStrategy::exact);
  EXPECT_EQ(parse_scope_strategy("hierarchic"), ScopeStrategy::hierarchic);
  EXPECT_EQ(parse_scope_strategy("wildcard"), ScopeStrategy::wildcard);
  EXPECT_FALSE(parse_scope_strategy("whatever").has_value());
  EXPECT_FALSE(parse_scope_strategy("Exact").has_value());
}

TEST(ScopeStrategy, NamedStrategiesMatchSimpleCases) {
  EXPECT_TRUE(scope_granted(ScopeStrategy::exact, std::vector<std::string>{"foo"}, "foo"));
  EXPECT_TRUE(scope_granted(ScopeStrategy::hierarchic, std::vector<std::string>{"foo"}, "foo.bar"));
  EXPECT_TRUE(scope_granted(ScopeStrategy::wildcard, std::vector<std::string>{"foo.*"}, "foo.bar"));
  EXPECT_FALSE(scope_granted(ScopeStrategy::none, std::vector<std::string>{"foo"}, "foo"));
}

TEST(ScopeStrategy, ExactRequiresEqualString) {
  expect_cases(ScopeStrategy::exact, {"foo.bar.baz", "foo.bar"},
               {{"foo.bar.baz", true}, {"foo.bar", true}, {"foo.bar.baz.baz", false},
                {"foo.bar.bar", false}, {"foo.bar.baz1", false}, {"foo.bar1", false}});
  expect_cases(ScopeStrategy::exact, {}, {{"foo", false}});
}

TEST(ScopeStrategy, HierarchicGrantsChildren) {
  expect_cases(ScopeStrategy::hierarchic,
               {"foo.bar", "bar.baz", "baz.baz.1", "baz.baz.2", "baz.baz.3", "baz.baz.baz"},
               {{"foo.bar.baz", true}, {"baz.baz.baz", true}, {"foo.bar", true}, {"foo", false},
                {"bar.baz", true}, {"bar.baz.zad", true}, {"bar", false}, {"baz", false}});
  expect_cases(ScopeStrategy::hierarchic, {}, {{"foo", false}, {"", false}});
}

TEST(ScopeStrategy, HierarchicTopLevelScopes) {
  expect_cases(ScopeStrategy::hierarchic, {"hydra", "openid", "offline"},
               {{"hydra", true}, {"hydra.bar", true}, {"openid.baz.bar", true},
                {"offline.baz.bar.baz", true}, {"foo", false}, {"foo.bar", false}});
}

TEST(ScopeStrategy, HierarchicPrefixMustEndAtDot) {
  expect_cases(ScopeStrategy::hierarchic, {"foo"}, {{"foobar", false}, {"foo.bar", true}});
}

TEST(ScopeStrategy, WildcardTrailingStar) {
  expect_cases(ScopeStrategy::wildcard, {"foo.*.bar.*"},
               {{"foo.baz.bar.baz", true}, {"foo.baz.baz.bar.baz", false},
                {"foo.baz.bar.bar.bar", true}, {"foo.baz.bar", false},
                {"foo.1.bar.1.2.3.4.5", true}});
}

TEST(ScopeStrategy, WildcardInnerStar) {
  expect_cases(ScopeStrategy::wildcard, {"foo.*.bar"},
               {{"foo.bar.bar", true}, {"foo.bar.bar.bar", false}, {"foo..bar", false},
                {"foo.bar..bar", false}});
}

TEST(ScopeStrategy, WildcardSeveralStars) {
  expect_cases(ScopeStrategy::wildcard, {"foo.*.bar.*.baz.*"},
               {{"foo.bar.bar.baz.baz.baz", true}, {"foo.bar.bar.baz.baz.baz.baz", true},
                {"foo.bar.bar.baz.baz", false}, {"foo.b*.bar", false}});
  expect_cases(ScopeStrategy::wildcard, {"hydra.*", "openid", "offline", "hydra"},
               {{"hydra.clients", true}, {"hydra.clients.get", true}, {"hydra", true},
                {"offline", true}});
}

TEST(ScopeStrategy, WildcardEdgeCases) {
  expect_cases(ScopeStrategy::wildcard, {"*"}, {{"asdf", true}, {"asdf.asdf", true}, {"", false}});
  expect_cases(ScopeStrategy::wildcard, {"foo"}, {{"foo", true}, {"foo.*", false}, {"*", false}});
  expect_cases(ScopeStrategy::wildcard, {"foo*"}, {{"foo", false}, {"fooa", false}, {"foo*", true}});
  // "foo.*" needs a segment after "foo".
  expect_cases(ScopeStrategy::wildcard, {"foo.*"}, {{"foo.bar", true}, {"foo.bar.baz", true}, {"foo", false}});
  expect_cases(ScopeStrategy::wildcard, {"foo.*.baz"},
               {{"foo.bar.baz", true}, {"foo..baz", false}, {"foo.baz", false}});
}

TEST(ScopeStrategy, FirstMissingScope) {
  std::vector<std::string> granted{"read", "write.own"};
  std::vector<std::string> required{"read", "write.own", "admin"};
  EXPECT_EQ(first_missing_scope(ScopeStrategy::exact, granted, required), "admin");

  std::vector<std::string> satisfied{"read", "write.own"};
  EXPECT_FALSE(first_missing_scope(ScopeStrategy::exact, granted, satisfied).has_value());
  EXPECT_FALSE(first_missing_scope(ScopeStrategy::exact, granted, {}).has_value());
}

}  // namespace
}  // namespace gh::pipeline
