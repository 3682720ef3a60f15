// Pattern compilation. A match.url pattern becomes one anchored regular expression: literal
// text is escaped, each <…> section becomes a capturing group (regexp strategy) or a
// non-capturing translated glob (glob strategy). RE2 runs everything it accepts in linear
// time. Sections that need look-around or back-references, which RE2 rejects, run on PCRE2
// with match and depth limits, so a pathological pattern stops early and counts as no match.
#include <array>
#include <atomic>
#include <chrono>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>
#include <re2/re2.h>
#include <spdlog/spdlog.h>

#include "rules/matcher.h"
#include "rules/pattern_syntax.h"

namespace gh::rules {

namespace {

// PCRE2 backtracking budget per match. PCRE2's own default match limit is 10,000,000; a
// tenth of that is far more than an anchored URL pattern of a few hundred characters needs
// and keeps a pathological pattern to milliseconds of CPU per request.
constexpr uint32_t kPcre2MatchLimit = 1'000'000;
// Nesting depth of PCRE2 backtracking (PCRE2's default is 10,000,000 too).
constexpr uint32_t kPcre2DepthLimit = 10'000;
// Heap used for backtracking frames, in KiB.
constexpr uint32_t kPcre2HeapLimitKib = 8 * 1024;
// A pattern that keeps hitting the limit is reported at most once per interval.
constexpr std::chrono::seconds kLimitLogInterval{60};

// Captures that fit here need no heap allocation during a match.
constexpr int kInlineCaptures = 16;

struct Pcre2CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct Pcre2ContextDeleter {
  void operator()(pcre2_match_context* context) const { pcre2_match_context_free(context); }
};
struct Pcre2MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};

// True when RE2 rejected the expression only because it uses a feature RE2 lacks on purpose
// (look-ahead, look-behind, named groups in the (?<name>) form, back-references).
bool needs_backtracking(const RE2& re) {
  const std::string& arg = re.error_arg();
  if (re.error_code() == RE2::ErrorBadPerlOp) {
    return arg.starts_with("(?=") || arg.starts_with("(?!") || arg.starts_with("(?<") ||
           arg.starts_with("(?P");
  }
  if (re.error_code() == RE2::ErrorBadEscape && arg.size() >= 2) {
    const char escaped = arg[1];
    return (escaped >= '1' && escaped <= '9') || escaped == 'k' || escaped == 'g';
  }
  return false;
}

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buffer{};
  pcre2_get_error_message(code, buffer.data(), buffer.size());
  return std::string(reinterpret_cast<const char*>(buffer.data()));
}

// A match-data block per thread, grown to the largest pattern seen, so PCRE2 matching
// allocates only when a thread first meets a pattern with more groups.
pcre2_match_data* thread_match_data(uint32_t pairs) {
  thread_local std::unique_ptr<pcre2_match_data, Pcre2MatchDataDeleter> data;
  thread_local uint32_t capacity = 0;
  if (!data || capacity < pairs) {
    data.reset(pcre2_match_data_create(pairs, nullptr));
    capacity = pairs;
  }
  return data.get();
}

}  // namespace

Expected<Strategy, std::string> parse_strategy(std::string_view name) {
  if (name.empty() || name == "regexp") return Strategy::regexp;
  if (name == "glob") return Strategy::glob;
  return Unexpected{fmt::format("unknown matching strategy \"{}\" (expected regexp or glob)", name)};
}

struct Pattern::Impl {
  std::string source;
  std::string expression;  // the full anchored expression, RE2 or PCRE2 syntax
  std::string re2_expression;
  std::unique_ptr<RE2> re2;
  std::unique_ptr<pcre2_code, Pcre2CodeDeleter> pcre2;
  std::unique_ptr<pcre2_match_context, Pcre2ContextDeleter> pcre2_context;
  uint32_t pcre2_groups = 0;
  mutable std::atomic<int64_t> last_limit_log{0};  // steady_clock ticks; 0 = never

  bool match_re2(std::string_view target, std::vector<std::string>* captures) const;
  bool match_pcre2(std::string_view target, std::vector<std::string>* captures) const;
  void report_limit(int code) const;
  std::string compile_pcre2();
};

namespace {

Expected<std::string, std::string> build_expression(Strategy strategy, std::string_view pattern) {
  auto sections = find_sections(pattern);
  if (!sections) return Unexpected{sections.error()};

  std::string expression = "^";
  size_t literal_begin = 0;
  for (const Section& section : *sections) {
    expression += RE2::QuoteMeta(pattern.substr(literal_begin, section.begin - literal_begin));
    const std::string_view inner = pattern.substr(section.begin + 1, section.end - section.begin - 2);
    if (strategy == Strategy::regexp) {
      expression += fmt::format("({})", inner);
    } else {
      auto glob = glob_to_re2(inner);
      if (!glob) return Unexpected{fmt::format("invalid glob \"{}\": {}", inner, glob.error())};
      expression += fmt::format("(?:{})", *glob);
    }
    literal_begin = section.end;
  }
  expression += RE2::QuoteMeta(pattern.substr(literal_begin));
  expression += '$';
  return expression;
}

}  // namespace

Expected<Pattern, std::string> Pattern::compile(Strategy strategy, std::string_view pattern) {
  auto expression = build_expression(strategy, pattern);
  if (!expression) return Unexpected{expression.error()};

  auto impl = std::make_unique<Impl>();
  impl->source = std::string(pattern);
  impl->expression = std::move(*expression);

  RE2::Options options;
  options.set_log_errors(false);
  auto re2 = std::make_unique<RE2>(impl->expression, options);
  if (re2->ok()) {
    impl->re2 = std::move(re2);
    impl->re2_expression = impl->expression;
    return Pattern(std::move(impl));
  }

  // Globs translate to RE2 syntax only, so only regexp sections can need PCRE2.
  if (strategy == Strategy::glob || !needs_backtracking(*re2)) return Unexpected{re2->error()};

  if (auto error = impl->compile_pcre2(); !error.empty()) return Unexpected{error};
  spdlog::warn("match.url pattern \"{}\" uses {}, which RE2 does not support; it runs on PCRE2 "
               "with a limit of {} steps per match",
               impl->source, re2->error_arg(), kPcre2MatchLimit);
  return Pattern(std::move(impl));
}

std::string Pattern::Impl::compile_pcre2() {
  int code = 0;
  PCRE2_SIZE offset = 0;
  // `$` must mean the end of the subject, as in RE2, not "before a final newline".
  const uint32_t flags = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY;
  pcre2.reset(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(expression.data()), expression.size(),
                            flags, &code, &offset, nullptr));
  if (!pcre2) return fmt::format("{} at offset {}", pcre2_message(code), offset);

  pcre2_context.reset(pcre2_match_context_create(nullptr));
  pcre2_set_match_limit(pcre2_context.get(), kPcre2MatchLimit);
  pcre2_set_depth_limit(pcre2_context.get(), kPcre2DepthLimit);
  pcre2_set_heap_limit(pcre2_context.get(), kPcre2HeapLimitKib);
  pcre2_pattern_info(pcre2.get(), PCRE2_INFO_CAPTURECOUNT, &pcre2_groups);
  return {};
}

bool Pattern::Impl::match_re2(std::string_view target, std::vector<std::string>* captures) const {
  const re2::StringPiece text(target.data(), target.size());
  if (captures == nullptr) return re2->Match(text, 0, text.size(), RE2::ANCHOR_BOTH, nullptr, 0);

  const int groups = re2->NumberOfCapturingGroups();
  std::array<re2::StringPiece, kInlineCaptures + 1> inline_groups;
  std::vector<re2::StringPiece> heap_groups;
  re2::StringPiece* submatches = inline_groups.data();
  if (groups > kInlineCaptures) {
    heap_groups.resize(static_cast<size_t>(groups) + 1);
    submatches = heap_groups.data();
  }

  if (!re2->Match(text, 0, text.size(), RE2::ANCHOR_BOTH, submatches, groups + 1)) return false;

  captures->clear();
  captures->reserve(static_cast<size_t>(groups));
  for (int i = 1; i <= groups; ++i) captures->emplace_back(submatches[i].data(), submatches[i].size());
  return true;
}

bool Pattern::Impl::match_pcre2(std::string_view target, std::vector<std::string>* captures) const {
  pcre2_match_data* data = thread_match_data(pcre2_groups + 1);
  const int rc = pcre2_match(pcre2.get(), reinterpret_cast<PCRE2_SPTR>(target.data()), target.size(),
                             0, 0, data, pcre2_context.get());
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    report_limit(rc);
    return false;
  }
  if (captures == nullptr) return true;

  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
  captures->clear();
  captures->reserve(pcre2_groups);
  for (uint32_t i = 1; i <= pcre2_groups; ++i) {
    const PCRE2_SIZE begin = ovector[2 * i];
    const PCRE2_SIZE end = ovector[2 * i + 1];
    // An unset group reads as the empty string, as in Go's regexp packages.
    if (begin == PCRE2_UNSET) {
      captures->emplace_back();
    } else {
      captures->emplace_back(target.substr(begin, end - begin));
    }
  }
  return true;
}

void Pattern::Impl::report_limit(int code) const {
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  const int64_t interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(kLimitLogInterval).count();
  int64_t last = last_limit_log.load(std::memory_order_relaxed);
  if (last != 0 && now - last < interval) return;
  if (!last_limit_log.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  spdlog::warn("match.url pattern \"{}\" stopped on PCRE2 ({}); the request counts as not "
               "matching this rule (reported at most once a minute)",
               source, pcre2_message(code));
}

Pattern::Pattern(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Pattern::~Pattern() = default;
Pattern::Pattern(Pattern&&) noexcept = default;
Pattern& Pattern::operator=(Pattern&&) noexcept = default;

bool Pattern::matches(std::string_view target, std::vector<std::string>* captures) const {
  if (impl_->re2) return impl_->match_re2(target, captures);
  return impl_->match_pcre2(target, captures);
}

bool Pattern::uses_pcre2() const { return impl_->pcre2 != nullptr; }
const std::string& Pattern::source() const { return impl_->source; }
const std::string& Pattern::re2_expression() const { return impl_->re2_expression; }

}  // namespace gh::rules
