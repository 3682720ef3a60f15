// gjson path evaluation on a parsed document.
//
// A path is split at unescaped `|` into segments, and each segment at unescaped `.` into
// components. Within a segment, `#` and `#(...)#` map the rest of the segment over array
// elements; a pipe starts a new segment that takes the previous result as its document, which is
// how gjson tells `a.#.b.0` (first b of each element) from `a.#.b|0` (b of the first element).
#include "text/gjson.h"

#include <cstdlib>

namespace gh::text {

namespace json = boost::json;

struct GjsonPath::Step {
  enum class Type { kKey, kPattern, kHash, kQuery, kThis, kPipe };
  enum class Operator { kExists, kEqual, kNotEqual, kLess, kLessOrEqual, kGreater, kGreaterOrEqual, kLike, kNotLike };

  Type type = Type::kKey;
  std::string key;  // unescaped key, or a pattern that keeps its backslash escapes

  // Query parts: `#(query_path operator value)`, with `#` after it to return all matches.
  std::optional<GjsonPath> query_path;  // empty path: the element itself
  Operator op = Operator::kExists;
  std::string value;
  bool all_matches = false;
};

namespace {

using Step = GjsonPath::Step;

// Depth of nested queries a path may contain; paths come from config, so this only keeps
// hostile input from exhausting the stack.
constexpr int kMaxQueryDepth = 16;

Unexpected<std::string> path_error(std::string_view path, size_t position, const std::string& problem) {
  return Unexpected{"invalid gjson path \"" + std::string(path) + "\" at offset " + std::to_string(position) + ": " + problem};
}

// Matches `text` against a gjson wildcard pattern: `*` is any run of bytes, `?` one byte,
// and `\` makes the next character literal.
bool wildcard_match(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = ++p;
      star_text = t;
      continue;
    }
    if (p < pattern.size()) {
      bool escaped = pattern[p] == '\\' && p + 1 < pattern.size();
      char expected = escaped ? pattern[p + 1] : pattern[p];
      if ((!escaped && expected == '?') || expected == text[t]) {
        p += escaped ? 2 : 1;
        ++t;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star;
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

Step make_step(Step::Type type) {
  Step step;
  step.type = type;
  return step;
}

bool is_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// Compares a query operand with the query's literal the way gjson does: by the operand's JSON
// type, strings as text, numbers as float64, and bools in the order false < true.
bool query_matches(const Step& step, const json::value& operand) {
  using Op = Step::Operator;
  const std::string& literal = step.value;
  if (step.op == Op::kExists) return true;

  if (operand.is_string()) {
    std::string_view text = operand.get_string();
    switch (step.op) {
      case Op::kEqual: return text == literal;
      case Op::kNotEqual: return text != literal;
      case Op::kLess: return text < literal;
      case Op::kLessOrEqual: return text <= literal;
      case Op::kGreater: return text > literal;
      case Op::kGreaterOrEqual: return text >= literal;
      case Op::kLike: return wildcard_match(literal, text);
      case Op::kNotLike: return !wildcard_match(literal, text);
      case Op::kExists: return true;
    }
  }
  if (operand.is_number()) {
    double number = operand.to_number<double>();
    double target = std::strtod(literal.c_str(), nullptr);
    switch (step.op) {
      case Op::kEqual: return number == target;
      case Op::kNotEqual: return number != target;
      case Op::kLess: return number < target;
      case Op::kLessOrEqual: return number <= target;
      case Op::kGreater: return number > target;
      case Op::kGreaterOrEqual: return number >= target;
      default: return false;
    }
  }
  if (operand.is_bool()) {
    int left = operand.get_bool() ? 1 : 0;
    int right = literal == "true" ? 1 : 0;
    bool known = literal == "true" || literal == "false";
    switch (step.op) {
      case Op::kEqual: return known && left == right;
      case Op::kNotEqual: return !known || left != right;
      case Op::kLess: return known && left < right;
      case Op::kLessOrEqual: return known && left <= right;
      case Op::kGreater: return known && left > right;
      case Op::kGreaterOrEqual: return known && left >= right;
      default: return false;
    }
  }
  return false;
}

std::optional<Step::Operator> parse_operator(std::string_view text, size_t& length) {
  using Op = Step::Operator;
  static constexpr std::pair<std::string_view, Op> kOperators[] = {
      {"==", Op::kEqual}, {"!=", Op::kNotEqual}, {"<=", Op::kLessOrEqual}, {">=", Op::kGreaterOrEqual},
      {"!%", Op::kNotLike}, {"=", Op::kEqual}, {"<", Op::kLess}, {">", Op::kGreater}, {"%", Op::kLike},
  };
  for (const auto& [spelling, op] : kOperators) {
    if (text.starts_with(spelling)) {
      length = spelling.size();
      return op;
    }
  }
  return std::nullopt;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

namespace detail {

class GjsonCompiler {
 public:
  static Expected<GjsonPath, std::string> compile(std::string_view path, int depth) {
    auto steps = GjsonCompiler(path, depth).run();
    if (!steps) return Unexpected{steps.error()};
    GjsonPath compiled;
    compiled.source_ = std::string(path);
    compiled.steps_ = std::make_shared<const std::vector<Step>>(std::move(*steps));
    return compiled;
  }

  GjsonCompiler(std::string_view path, int depth) : path_(path), depth_(depth) {}

  Expected<std::vector<Step>, std::string> run() {
    if (path_.empty()) return path_error(path_, 0, "the path is empty");
    if (depth_ > kMaxQueryDepth) return path_error(path_, 0, "queries are nested too deeply");

    std::vector<Step> steps;
    size_t start = 0;
    while (true) {
      auto end = find_separator(start);
      if (!end) return Unexpected{std::move(error_)};
      auto step = compile_component(start, *end);
      if (!step) return Unexpected{step.error()};
      steps.push_back(std::move(*step));
      if (*end == path_.size()) break;
      if (path_[*end] == '|') steps.push_back(make_step(Step::Type::kPipe));
      start = *end + 1;
    }
    return steps;
  }

 private:
  // Returns the offset of the `.` or `|` that ends the component starting at `start`, or the
  // path length. Separators inside a query's parentheses or quotes do not count.
  std::optional<size_t> find_separator(size_t start) {
    int depth = 0;
    bool quoted = false;
    for (size_t i = start; i < path_.size(); ++i) {
      char c = path_[i];
      if (c == '\\') {
        if (i + 1 == path_.size()) {
          error_ = path_error(path_, i, "the path ends with a backslash").error;
          return std::nullopt;
        }
        ++i;
        continue;
      }
      if (quoted) {
        if (c == '"') quoted = false;
        continue;
      }
      if (depth > 0 && c == '"') quoted = true;
      else if (c == '(') ++depth;
      else if (c == ')') --depth;
      else if (depth == 0 && (c == '.' || c == '|')) return i;
    }
    if (depth != 0 || quoted) {
      error_ = path_error(path_, start, "unterminated query").error;
      return std::nullopt;
    }
    return path_.size();
  }

  Expected<Step, std::string> compile_component(size_t start, size_t end) {
    std::string_view text = path_.substr(start, end - start);
    if (text.empty()) return path_error(path_, start, "empty path component");
    if (text == "#") return make_step(Step::Type::kHash);
    if (text.starts_with("#(")) return compile_query(start, text);
    if (text[0] == '@') {
      if (text == "@this") return make_step(Step::Type::kThis);
      return path_error(path_, start, "unsupported modifier \"" + std::string(text) + "\"");
    }

    Step step;
    bool wildcard = false;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\\') {
        step.key.push_back(text[++i]);
        continue;
      }
      wildcard = wildcard || text[i] == '*' || text[i] == '?';
      step.key.push_back(text[i]);
    }
    if (wildcard) {
      step.type = Step::Type::kPattern;
      step.key = std::string(text);
    }
    return step;
  }

  Expected<Step, std::string> compile_query(size_t start, std::string_view text) {
    Step step;
    step.type = Step::Type::kQuery;
    size_t close = text.rfind(')');
    std::string_view rest = text.substr(close + 1);
    if (rest == "#") step.all_matches = true;
    else if (!rest.empty()) return path_error(path_, start + close + 1, "unexpected text after query");

    std::string_view body = text.substr(2, close - 2);
    size_t op_at = find_operator(body);
    std::string_view key = trim(body.substr(0, op_at));
    if (!key.empty()) {
      auto nested = compile(key, depth_ + 1);
      if (!nested) return Unexpected{nested.error()};
      step.query_path = std::move(*nested);
    }
    if (op_at == body.size()) {
      if (key.empty()) return path_error(path_, start, "empty query");
      return step;
    }

    size_t length = 0;
    step.op = *parse_operator(body.substr(op_at), length);
    std::string_view literal = trim(body.substr(op_at + length));
    if (literal.empty()) return path_error(path_, start, "query has no value after its operator");
    if (literal.front() == '"') {
      boost::system::error_code error;
      json::value parsed = json::parse(literal, error);
      if (error || !parsed.is_string()) return path_error(path_, start, "invalid quoted string in query");
      step.value = std::string(parsed.get_string());
    } else {
      step.value = std::string(literal);
    }
    return step;
  }

  // Returns the offset of the first comparison operator outside nested parentheses, or the
  // body length when the query only tests that the key exists.
  static size_t find_operator(std::string_view body) {
    int depth = 0;
    for (size_t i = 0; i < body.size(); ++i) {
      char c = body[i];
      if (c == '\\') {
        ++i;
        continue;
      }
      if (c == '(') ++depth;
      else if (c == ')') --depth;
      else if (depth == 0 && std::string_view("=!<>%").find(c) != std::string_view::npos) return i;
    }
    return body.size();
  }

  std::string_view path_;
  int depth_;
  std::string error_;
};

}  // namespace detail

namespace {

// Evaluates steps[at, end of segment) on `current`. Arrays built by `#` and `#(...)#` are
// returned by value, so results never point into temporaries.
std::optional<json::value> evaluate(const std::vector<Step>& steps, size_t at, const json::value& current);

bool is_segment_end(const std::vector<Step>& steps, size_t at) {
  return at == steps.size() || steps[at].type == Step::Type::kPipe;
}

std::optional<json::value> map_elements(const std::vector<Step>& steps, size_t at, const json::array& elements) {
  json::array results;
  for (const auto& element : elements) {
    auto result = evaluate(steps, at, element);
    if (result) results.push_back(std::move(*result));
  }
  return json::value(std::move(results));
}

std::optional<json::value> evaluate_query(const std::vector<Step>& steps, size_t at, const json::value& current) {
  const Step& step = steps[at];
  if (!current.is_array()) return std::nullopt;

  json::array matches;
  for (const auto& element : current.get_array()) {
    std::optional<json::value> operand = step.query_path ? step.query_path->get(element) : element;
    if (!operand || !query_matches(step, *operand)) continue;
    if (!step.all_matches) return evaluate(steps, at + 1, element);
    matches.push_back(element);
  }
  if (!step.all_matches) return std::nullopt;
  return map_elements(steps, at + 1, matches);
}

std::optional<json::value> evaluate(const std::vector<Step>& steps, size_t at, const json::value& current) {
  if (is_segment_end(steps, at)) return current;
  const Step& step = steps[at];

  switch (step.type) {
    case Step::Type::kKey:
      if (current.is_object()) {
        const json::value* member = current.get_object().if_contains(step.key);
        return member ? evaluate(steps, at + 1, *member) : std::nullopt;
      }
      if (current.is_array() && is_digits(step.key)) {
        size_t index = std::strtoull(step.key.c_str(), nullptr, 10);
        const json::array& array = current.get_array();
        return index < array.size() ? evaluate(steps, at + 1, array[index]) : std::nullopt;
      }
      return std::nullopt;
    case Step::Type::kPattern:
      // The first key in document order that matches and under which the rest of the path exists.
      if (!current.is_object()) return std::nullopt;
      for (const auto& member : current.get_object()) {
        if (!wildcard_match(step.key, member.key())) continue;
        if (auto result = evaluate(steps, at + 1, member.value())) return result;
      }
      return std::nullopt;
    case Step::Type::kHash:
      if (!current.is_array()) return std::nullopt;
      if (is_segment_end(steps, at + 1)) return json::value(static_cast<int64_t>(current.get_array().size()));
      return map_elements(steps, at + 1, current.get_array());
    case Step::Type::kQuery:
      return evaluate_query(steps, at, current);
    case Step::Type::kThis:
      return evaluate(steps, at + 1, current);
    case Step::Type::kPipe:
      break;
  }
  return std::nullopt;
}

}  // namespace

Expected<GjsonPath, std::string> GjsonPath::compile(std::string_view path) {
  return detail::GjsonCompiler::compile(path, 0);
}

std::optional<json::value> GjsonPath::get(const json::value& document) const {
  if (!steps_) return std::nullopt;
  const std::vector<Step>& steps = *steps_;

  std::optional<json::value> current = document;
  size_t at = 0;
  while (true) {
    current = evaluate(steps, at, *current);
    while (at < steps.size() && steps[at].type != Step::Type::kPipe) ++at;
    if (!current || at == steps.size()) return current;
    ++at;  // past the pipe
  }
}

}  // namespace gh::text
