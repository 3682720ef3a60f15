// Match time per request against 10, 1,000 and 10,000 regexp rules. Each rule has its own
// host and path prefix, in the shape of a typical API gateway rule set, so exactly one rule
// matches a hit and none matches a miss.
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "rules/matcher.h"

namespace {

using gh::rules::Matcher;
using gh::rules::MatchResult;
using gh::rules::Rule;
using gh::rules::Strategy;

std::shared_ptr<const Matcher> build_matcher(int count) {
  std::vector<Rule> rules;
  rules.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    Rule rule;
    rule.id = fmt::format("svc{}", i);
    rule.match_url = fmt::format("<https|http>://api{}.example.com/svc{}/<[0-9]+>", i % 50, i);
    rule.match_methods = {"GET", "POST"};
    rules.push_back(std::move(rule));
  }
  auto matcher = Matcher::build(std::move(rules), Strategy::regexp);
  return matcher ? *matcher : nullptr;
}

void run(benchmark::State& state, const std::string& url, MatchResult::Kind expected) {
  const int count = static_cast<int>(state.range(0));
  const auto matcher = build_matcher(count);
  if (!matcher) {
    state.SkipWithError("the rules did not compile");
    return;
  }

  for (auto _ : state) {
    MatchResult result = matcher->match("GET", url);
    benchmark::DoNotOptimize(result);
    if (result.kind != expected) {
      state.SkipWithError("unexpected match result");
      return;
    }
  }
  state.counters["dfa_fallbacks"] = static_cast<double>(matcher->dfa_fallbacks());
}

void BM_MatchHit(benchmark::State& state) {
  const int target = static_cast<int>(state.range(0)) / 2;
  run(state, fmt::format("https://api{}.example.com/svc{}/12345", target % 50, target), MatchResult::Kind::one);
}

void BM_MatchMiss(benchmark::State& state) {
  run(state, "https://api7.example.com/unknown/12345", MatchResult::Kind::none);
}

// Compile time of the whole rule set, paid once per load or reload.
void BM_Build(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(build_matcher(static_cast<int>(state.range(0))));
}

BENCHMARK(BM_Build)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatchHit)->Arg(10)->Arg(1000)->Arg(10000);
BENCHMARK(BM_MatchMiss)->Arg(10)->Arg(1000)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
