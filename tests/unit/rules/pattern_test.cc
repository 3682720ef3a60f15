#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/matcher.h"
#include "rules/pattern_syntax.h"

namespace gh::rules {
namespace {

using Captures = std::vector<std::string>;

Pattern compile_ok(Strategy strategy, std::string_view source) {
  auto pattern = Pattern::compile(strategy, source);
  EXPECT_TRUE(pattern.has_value()) << source << ": " << (pattern ? "" : pattern.error());
  return std::move(*pattern);
}

TEST(FindSections, RejectsUnbalancedDelimiters) {
  for (const char* source : {"<", ">", ">>", "><>", "foo.bar<var", "foo.bar>var", "foo.bar><var", "foo.bar<<>var"}) {
    EXPECT_FALSE(find_sections(source).has_value()) << source;
  }
}

TEST(FindSections, KeepsNestedSectionsWhole) {
  auto one = find_sections("foo.bar<<>>");
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].begin, 7u);
  EXPECT_EQ((*one)[0].end, 11u);

  auto three = find_sections("foo.bar<<>><>tt<>");
  ASSERT_TRUE(three.has_value());
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ((*three)[0].begin, 7u);
  EXPECT_EQ((*three)[0].end, 11u);
  EXPECT_EQ((*three)[1].begin, 11u);
  EXPECT_EQ((*three)[1].end, 13u);
  EXPECT_EQ((*three)[2].begin, 15u);
  EXPECT_EQ((*three)[2].end, 17u);
}

TEST(RegexpPattern, CapturesEachSection) {
  Captures captures;
  EXPECT_TRUE(compile_ok(Strategy::regexp, "urn:foo:<.*>").matches("urn:foo:user", &captures));
  EXPECT_EQ(captures, (Captures{"user"}));

  EXPECT_TRUE(compile_ok(Strategy::regexp, "urn:foo:<.*>:<.*>").matches("urn:foo:user:one", &captures));
  EXPECT_EQ(captures, (Captures{"user", "one"}));

  EXPECT_TRUE(compile_ok(Strategy::regexp, "urn:foo:<foo|bar>").matches("urn:foo:bar", &captures));
  EXPECT_EQ(captures, (Captures{"bar"}));
}

TEST(RegexpPattern, MatchesWholeTargetOnly) {
  EXPECT_FALSE(compile_ok(Strategy::regexp, "urn:foo:<.?>").matches("urn:foo:user", nullptr));

  const Pattern root = compile_ok(Strategy::regexp, "https://mydomain.com/");
  EXPECT_TRUE(root.matches("https://mydomain.com/", nullptr));
  EXPECT_FALSE(root.matches("https://mydomain.com/foo", nullptr));
  EXPECT_FALSE(root.matches("https://mydomain.com", nullptr));
  EXPECT_FALSE(root.matches("xhttps://mydomain.com/", nullptr));
}

TEST(RegexpPattern, EscapesLiteralText) {
  const Pattern pattern = compile_ok(Strategy::regexp, "https://my.domain.com/a+b/<.*>");
  EXPECT_TRUE(pattern.matches("https://my.domain.com/a+b/x", nullptr));
  EXPECT_FALSE(pattern.matches("https://myXdomain.com/a+b/x", nullptr));
  EXPECT_FALSE(pattern.matches("https://my.domain.com/aab/x", nullptr));
}

TEST(RegexpPattern, SchemeAlternationAndPath) {
  const Pattern pattern = compile_ok(Strategy::regexp, "<https|http>://mydomain.com/<.*>");
  Captures captures;
  EXPECT_TRUE(pattern.matches("https://mydomain.com/", &captures));
  EXPECT_EQ(captures, (Captures{"https", ""}));
  EXPECT_TRUE(pattern.matches("http://mydomain.com/foo", &captures));
  EXPECT_EQ(captures, (Captures{"http", "foo"}));
  EXPECT_FALSE(pattern.matches("https://other-domain.com/", nullptr));
  EXPECT_FALSE(pattern.matches("https://mydomain.com", nullptr));
}

TEST(RegexpPattern, NestedGroupsAreCaptured) {
  Captures captures;
  const Pattern pattern = compile_ok(Strategy::regexp, "/<(a|b)(c)>/<x>");
  EXPECT_TRUE(pattern.matches("/bc/x", &captures));
  EXPECT_EQ(captures, (Captures{"bc", "b", "c", "x"}));
}

TEST(RegexpPattern, NestedDelimitersStayInSection) {
  Captures captures;
  const Pattern pattern = compile_ok(Strategy::regexp, "/<(?P<id>[0-9]+)>");
  EXPECT_FALSE(pattern.uses_pcre2());
  EXPECT_TRUE(pattern.matches("/42", &captures));
  EXPECT_EQ(captures, (Captures{"42", "42"}));
}

TEST(RegexpPattern, PosixClassesRunOnRe2) {
  const Pattern pattern = compile_ok(Strategy::regexp, "http://mydomain.com/<[[:digit:]]+>");
  EXPECT_FALSE(pattern.uses_pcre2());
  EXPECT_FALSE(pattern.re2_expression().empty());
  EXPECT_TRUE(pattern.matches("http://mydomain.com/123", nullptr));
  EXPECT_FALSE(pattern.matches("http://mydomain.com/abc", nullptr));
}

TEST(RegexpPattern, LookAheadRunsOnPcre2) {
  const Pattern pattern = compile_ok(Strategy::regexp, "https://localhost/users/<(?!admin).*>");
  EXPECT_TRUE(pattern.uses_pcre2());
  EXPECT_TRUE(pattern.re2_expression().empty());

  Captures captures;
  EXPECT_TRUE(pattern.matches("https://localhost/users/manager", &captures));
  EXPECT_EQ(captures, (Captures{"manager"}));
  EXPECT_FALSE(pattern.matches("https://localhost/users/admin", nullptr));
  EXPECT_FALSE(pattern.matches("https://localhost/users/manager\n", nullptr));
}

TEST(RegexpPattern, BackReferenceRunsOnPcre2) {
  // The section itself is group 1, so the first group inside it is group 2.
  const Pattern pattern = compile_ok(Strategy::regexp, "/<(a+)-\\2>");
  EXPECT_TRUE(pattern.uses_pcre2());
  EXPECT_TRUE(pattern.matches("/aa-aa", nullptr));
  EXPECT_FALSE(pattern.matches("/aa-a", nullptr));
}

TEST(RegexpPattern, UnsetPcre2GroupIsEmpty) {
  Captures captures;
  const Pattern pattern = compile_ok(Strategy::regexp, "/<(?=x)(x)|(y)>");
  ASSERT_TRUE(pattern.matches("/y", &captures));
  EXPECT_EQ(captures, (Captures{"y", "", "y"}));
}

TEST(RegexpPattern, PathologicalPcre2PatternStops) {
  const Pattern pattern = compile_ok(Strategy::regexp, "/<(?=a)(a|aa)+[^a]>");
  ASSERT_TRUE(pattern.uses_pcre2());
  const std::string target = "/" + std::string(60, 'a');

  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(pattern.matches(target, nullptr));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Unlimited backtracking would take about 2^60 steps; the limit ends it in well under a second.
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(RegexpPattern, InvalidSyntaxIsAnError) {
  auto unbalanced = Pattern::compile(Strategy::regexp, "https://x/<.*");
  ASSERT_FALSE(unbalanced.has_value());
  EXPECT_NE(unbalanced.error().find("unbalanced"), std::string::npos) << unbalanced.error();

  auto bad_regex = Pattern::compile(Strategy::regexp, "https://x/<[a-z>");
  ASSERT_FALSE(bad_regex.has_value());
  EXPECT_NE(bad_regex.error().find("missing ]"), std::string::npos) << bad_regex.error();

  auto bad_lookahead = Pattern::compile(Strategy::regexp, "https://x/<(?!a>");
  EXPECT_FALSE(bad_lookahead.has_value());
}

TEST(GlobPattern, QuestionMarkIsOneCharacter) {
  const Pattern pattern = compile_ok(Strategy::glob, "urn:foo:<?>");
  EXPECT_TRUE(pattern.matches("urn:foo:u", nullptr));
  EXPECT_FALSE(pattern.matches("urn:foo:user", nullptr));
  EXPECT_FALSE(pattern.matches("urn:foo:", nullptr));

  EXPECT_TRUE(compile_ok(Strategy::glob, "urn:foo:<?>&&<?>").matches("urn:foo:w&&r", nullptr));
}

TEST(GlobPattern, LiteralTextIsNotGlob) {
  const Pattern question = compile_ok(Strategy::glob, "urn:foo:<?>?<?>");
  EXPECT_TRUE(question.matches("urn:foo:w?r", nullptr));
  EXPECT_FALSE(question.matches("urn:foo:w&r", nullptr));

  const Pattern star = compile_ok(Strategy::glob, "*:foo:<*>:<*>");
  EXPECT_FALSE(star.matches("urn:foo:usr:swen", nullptr));
  EXPECT_TRUE(star.matches("*:foo:usr:swen", nullptr));
}

TEST(GlobPattern, StarMatchesRunWithoutSeparator) {
  const Pattern star = compile_ok(Strategy::glob, "urn:foo:<*>");
  EXPECT_TRUE(star.matches("urn:foo:user", nullptr));
  EXPECT_TRUE(star.matches("urn:foo:", nullptr));
  EXPECT_TRUE(compile_ok(Strategy::glob, "urn:foo:<*>:<*>").matches("urn:foo:usr:swen", nullptr));

  const Pattern role = compile_ok(Strategy::glob, "urn:foo:<*>:role:<?>");
  EXPECT_TRUE(role.matches("urn:foo:usr:role:a", nullptr));
  EXPECT_FALSE(role.matches("urn:foo:usr:role:admin", nullptr));

  const Pattern path = compile_ok(Strategy::glob, "http://example.com/<*>");
  EXPECT_FALSE(path.matches("http://example.com/foo/bar", nullptr));
  EXPECT_FALSE(path.matches("http://example.com/foo.bar", nullptr));
  EXPECT_TRUE(path.matches("http://example.com/foo", nullptr));
}

TEST(GlobPattern, SeparatorsStopSingleCharacterWildcards) {
  const Pattern question = compile_ok(Strategy::glob, "/a<?>b");
  EXPECT_FALSE(question.matches("/a/b", nullptr));
  EXPECT_FALSE(question.matches("/a.b", nullptr));
  EXPECT_TRUE(question.matches("/a-b", nullptr));
}

TEST(GlobPattern, DoubleStarCrossesSeparators) {
  const Pattern pattern = compile_ok(Strategy::glob, "http://example.com/<**>");
  EXPECT_TRUE(pattern.matches("http://example.com/foo/bar.json", nullptr));
  EXPECT_TRUE(pattern.matches("http://example.com/", nullptr));
}

TEST(GlobPattern, CharacterClasses) {
  const Pattern listed = compile_ok(Strategy::glob, "urn:foo:<m[a,o,u]n>");
  EXPECT_TRUE(listed.matches("urn:foo:man", nullptr));
  EXPECT_FALSE(listed.matches("urn:foo:moon", nullptr));

  const Pattern negated = compile_ok(Strategy::glob, "urn:foo:<m[!a,o,u]n>");
  EXPECT_FALSE(negated.matches("urn:foo:man", nullptr));
  EXPECT_TRUE(negated.matches("urn:foo:min", nullptr));

  const Pattern range = compile_ok(Strategy::glob, "/<[a-c][0-9]>");
  EXPECT_TRUE(range.matches("/b7", nullptr));
  EXPECT_FALSE(range.matches("/d7", nullptr));
}

TEST(GlobPattern, Alternatives) {
  const Pattern pattern = compile_ok(Strategy::glob, "https://mydomain.com/<{foo*,bar*}>");
  EXPECT_TRUE(pattern.matches("https://mydomain.com/foo", nullptr));
  EXPECT_TRUE(pattern.matches("https://mydomain.com/barbaz", nullptr));
  EXPECT_FALSE(pattern.matches("https://mydomain.com/any", nullptr));

  const Pattern nested = compile_ok(Strategy::glob, "/<{a{1,2},b}>");
  EXPECT_TRUE(nested.matches("/a2", nullptr));
  EXPECT_TRUE(nested.matches("/b", nullptr));
  EXPECT_FALSE(nested.matches("/a3", nullptr));
}

TEST(GlobPattern, NeverCaptures) {
  Captures captures{"stale"};
  const Pattern pattern = compile_ok(Strategy::glob, "<http|https>://localhost/<*>");
  ASSERT_TRUE(compile_ok(Strategy::glob, "<{http,https}>://localhost/<*>").matches("http://localhost/user", &captures));
  EXPECT_TRUE(captures.empty());
  EXPECT_FALSE(pattern.uses_pcre2());
}

TEST(GlobPattern, InvalidGlobIsAnError) {
  for (const char* source : {"/<[ab>", "/<{a,b>", "/<a}>", "/<\\>"}) {
    auto pattern = Pattern::compile(Strategy::glob, source);
    EXPECT_FALSE(pattern.has_value()) << source;
  }
}

TEST(GlobToRe2, EscapesRegexMetacharacters) {
  auto expression = glob_to_re2("a.b+(c)");
  ASSERT_TRUE(expression.has_value());
  EXPECT_EQ(*expression, "a\\.b\\+\\(c\\)");
}

TEST(ParseStrategy, AcceptsKnownNames) {
  EXPECT_EQ(*parse_strategy(""), Strategy::regexp);
  EXPECT_EQ(*parse_strategy("regexp"), Strategy::regexp);
  EXPECT_EQ(*parse_strategy("glob"), Strategy::glob);
  EXPECT_FALSE(parse_strategy("UNKNOWN").has_value());
}

}  // namespace
}  // namespace gh::rules
