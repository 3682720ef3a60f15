// The compiled matcher. For each request method that any rule lists, one RE2::Set holds the
// RE2 expressions of that method's rules, so a single DFA pass over the URL finds every
// matching rule whatever the number of rules. Rules on PCRE2 (look-around, back-references)
// are checked one by one after the set. If the set's DFA runs out of memory on some input,
// that request falls back to checking each candidate pattern in turn.
#include <algorithm>
#include <atomic>
#include <cctype>

#include <fmt/format.h>
#include <re2/re2.h>
#include <re2/set.h>

#include "rules/matcher.h"

namespace gh::rules {

namespace {

// Memory budget of one method's RE2::Set, shared by its compiled program and its DFA cache.
// RE2's default of 8 MiB is sized for one expression; a set of 10,000 URL patterns compiles
// to a program of several MiB before the DFA gets any room.
constexpr int64_t kSetMaxMemory = int64_t{256} << 20;

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string to_upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

// The rules that list one method.
struct MethodTable {
  std::string method;                // upper case
  std::unique_ptr<RE2::Set> set;     // null when no rule of this method runs on RE2
  std::vector<size_t> set_rules;     // set entry -> rule index
  std::vector<size_t> pcre2_rules;   // rule indexes checked one by one
};

}  // namespace

struct Matcher::Impl {
  std::vector<Rule> rules;
  std::vector<Pattern> patterns;  // parallel to rules
  Strategy strategy = Strategy::regexp;
  std::vector<MethodTable> methods;
  mutable std::atomic<uint64_t> dfa_fallbacks{0};

  const MethodTable* find_method(std::string_view method) const {
    for (const MethodTable& table : methods) {
      if (equals_ignore_case(table.method, method)) return &table;
    }
    return nullptr;
  }

  MethodTable& method_table(const std::string& upper_method) {
    for (MethodTable& table : methods) {
      if (table.method == upper_method) return table;
    }
    methods.push_back(MethodTable{upper_method, nullptr, {}, {}});
    return methods.back();
  }

  std::string add_rule(size_t index);
  std::string compile_sets();
  void collect(const MethodTable& table, std::string_view url, std::vector<size_t>& found) const;
};

std::string Matcher::Impl::add_rule(size_t index) {
  const Pattern& pattern = patterns[index];
  std::vector<std::string> seen;  // a method listed twice must not add the rule twice
  for (const std::string& method : rules[index].match_methods) {
    std::string upper = to_upper(method);
    if (std::find(seen.begin(), seen.end(), upper) != seen.end()) continue;
    seen.push_back(upper);

    MethodTable& table = method_table(upper);
    if (pattern.uses_pcre2()) {
      table.pcre2_rules.push_back(index);
      continue;
    }
    if (!table.set) {
      RE2::Options options;
      options.set_log_errors(false);
      options.set_max_mem(kSetMaxMemory);
      table.set = std::make_unique<RE2::Set>(options, RE2::ANCHOR_BOTH);
    }
    std::string error;
    if (table.set->Add(pattern.re2_expression(), &error) < 0) {
      return fmt::format("rule \"{}\": pattern \"{}\" was rejected by RE2::Set: {}", rules[index].id,
                         pattern.source(), error);
    }
    table.set_rules.push_back(index);
  }
  return {};
}

std::string Matcher::Impl::compile_sets() {
  for (MethodTable& table : methods) {
    if (table.set && !table.set->Compile()) {
      return fmt::format("the {} rules of method {} do not fit the matcher's memory budget of {} MiB",
                         table.set_rules.size(), table.method, kSetMaxMemory >> 20);
    }
  }
  return {};
}

void Matcher::Impl::collect(const MethodTable& table, std::string_view url,
                            std::vector<size_t>& found) const {
  if (table.set) {
    // Reused per thread, so a match does not allocate once the vector has grown.
    thread_local std::vector<int> entries;
    RE2::Set::ErrorInfo info{};
    const bool matched = table.set->Match(re2::StringPiece(url.data(), url.size()), &entries, &info);
    if (matched) {
      for (int entry : entries) found.push_back(table.set_rules[static_cast<size_t>(entry)]);
    } else if (info.kind != RE2::Set::kNoError) {
      // The DFA ran out of memory on this input; each RE2 pattern still matches on its own.
      dfa_fallbacks.fetch_add(1, std::memory_order_relaxed);
      for (size_t index : table.set_rules) {
        if (patterns[index].matches(url, nullptr)) found.push_back(index);
      }
    }
  }

  for (size_t index : table.pcre2_rules) {
    if (patterns[index].matches(url, nullptr)) found.push_back(index);
  }
}

Expected<std::shared_ptr<const Matcher>, std::vector<std::string>> Matcher::build(
    std::vector<Rule> rules, Strategy strategy) {
  auto impl = std::make_unique<Impl>();
  impl->strategy = strategy;
  std::vector<std::string> errors;

  for (const Rule& rule : rules) {
    auto pattern = Pattern::compile(strategy, rule.match_url);
    if (!pattern) {
      errors.push_back(fmt::format("rule \"{}\": invalid match.url pattern \"{}\": {}", rule.id,
                                   rule.match_url, pattern.error()));
      continue;
    }
    impl->patterns.push_back(std::move(*pattern));
  }
  if (!errors.empty()) return Unexpected{std::move(errors)};

  impl->rules = std::move(rules);
  for (size_t i = 0; i < impl->rules.size(); ++i) {
    if (auto error = impl->add_rule(i); !error.empty()) errors.push_back(std::move(error));
  }
  if (auto error = impl->compile_sets(); !error.empty()) errors.push_back(std::move(error));
  if (!errors.empty()) return Unexpected{std::move(errors)};

  return std::shared_ptr<const Matcher>(new Matcher(std::move(impl)));
}

MatchResult Matcher::match(std::string_view method, std::string_view url) const {
  MatchResult result;
  const MethodTable* table = impl_->find_method(method);
  if (table == nullptr) return result;

  if (table->set_rules.size() == 1 && table->pcre2_rules.empty()) {
    // With one candidate, matching its own expression finds the captures in the same pass,
    // where the set would need a second pass for them.
    const size_t index = table->set_rules.front();
    if (impl_->patterns[index].matches(url, &result.captures)) {
      result.kind = MatchResult::Kind::one;
      result.index = index;
    }
    return result;
  }

  std::vector<size_t> found;
  impl_->collect(*table, url, found);
  if (found.empty()) return result;

  if (found.size() == 1) {
    result.kind = MatchResult::Kind::one;
    result.index = found.front();
    impl_->patterns[result.index].matches(url, &result.captures);
    return result;
  }

  std::sort(found.begin(), found.end());
  result.kind = MatchResult::Kind::many;
  result.indexes = std::move(found);
  return result;
}

uint64_t Matcher::dfa_fallbacks() const { return impl_->dfa_fallbacks.load(std::memory_order_relaxed); }
const std::vector<Rule>& Matcher::rules() const { return impl_->rules; }
Strategy Matcher::strategy() const { return impl_->strategy; }

Matcher::Matcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Matcher::~Matcher() = default;

}  // namespace gh::rules
