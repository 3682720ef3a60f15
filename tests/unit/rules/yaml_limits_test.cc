#include <gtest/gtest.h>

#include "rules/rule.h"

namespace gh::rules {
namespace {

TEST(RuleYamlLimits, SelfReferencingAliasIsAnError) {
  EXPECT_THROW(parse_rules("- &a [*a]\n", "loop.yaml"), RuleError);
}

TEST(RuleYamlLimits, DeepNestingIsAnError) {
  std::string text = "- id: deep\n  description:\n";
  for (int i = 0; i < 100; ++i) text += std::string(static_cast<size_t>(i) * 2 + 4, ' ') + "k:\n";
  EXPECT_THROW(parse_rules(text, "deep.yaml"), RuleError);
}

}  // namespace
}  // namespace gh::rules
