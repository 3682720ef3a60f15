#include <gtest/gtest.h>

#include "config/config.h"

namespace gh::config {
namespace {

TEST(YamlLimits, SelfReferencingAliasIsAnError) {
  EXPECT_THROW(parse_document("- &a [*a]\n", "loop.yaml"), ConfigError);
}

TEST(YamlLimits, AliasBombIsAnError) {
  // Each level repeats the previous one ten times: 10^7 strings at the last level.
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char previous = 'a';
  for (char level = 'b'; level <= 'g'; ++level) {
    text += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i == 0 ? "" : ", ") + "*" + previous;
    text += "]\n";
    previous = level;
  }
  EXPECT_THROW(parse_document(text, "bomb.yaml"), ConfigError);
}

TEST(YamlLimits, DeepNestingIsAnError) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += std::string(static_cast<size_t>(i) * 2, ' ') + "k:\n";
  EXPECT_THROW(parse_document(text, "deep.yaml"), ConfigError);
}

}  // namespace
}  // namespace gh::config
