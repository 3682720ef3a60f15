// Template compilation and the tree-walking executor.
//
// Rendering returns errors as values (only std::bad_alloc can escape): the executor records
// the first error and unwinds by returning early. Work is bounded by the output size, the
// total number of range iterations, and the bytes that function results may allocate, so that
// one hostile template cannot stall a worker.
#include "text/template.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "text/template_funcs.h"
#include "text/template_parse.h"
#include "text/template_value.h"

namespace gh::text {

struct Template::Impl {
  std::string source;
  std::vector<detail::Node> nodes;
  DataUse data_use;
};

namespace {

using namespace detail;
namespace json = boost::json;

constexpr size_t kMaxOutputBytes = size_t{1} << 20;
constexpr size_t kMaxRangeIterations = 100'000;
// Function results may allocate this many bytes in total during one render; real templates
// stay far below it, and it stops `list $big $big …` from multiplying memory.
constexpr size_t kMaxAllocatedBytes = size_t{16} << 20;

enum class Flow { kNormal, kBreak, kContinue };

size_t approximate_size(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string: return value.get_string().size() + 8;
    case json::kind::array: {
      size_t total = 16;
      for (const auto& element : value.get_array()) total += approximate_size(element);
      return total;
    }
    case json::kind::object: {
      size_t total = 16;
      for (const auto& member : value.get_object()) total += member.key().size() + approximate_size(member.value());
      return total;
    }
    default: return 8;
  }
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Canonical MIME header key, as Go's textproto.CanonicalMIMEHeaderKey: "x-foo" → "X-Foo".
// Names with characters outside the token set are returned unchanged.
std::string canonical_header_key(std::string_view name) {
  std::string key(name);
  for (char c : key) {
    if (!is_token_char(c)) return key;
  }
  bool upper = true;
  for (char& c : key) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    else if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    upper = c == '-';
  }
  return key;
}

std::string first_value(const json::value& values) {
  if (values.is_string()) return std::string(values.get_string());
  if (values.is_array() && !values.get_array().empty()) {
    const json::value& first = values.get_array()[0];
    return first.is_string() ? std::string(first.get_string()) : format_value(first);
  }
  return "";
}

// http.Header.Get: the first value under the canonical key. Keys that were stored without
// canonicalization are found by a case-insensitive scan.
std::string header_get(const json::value& headers, std::string_view name) {
  if (!headers.is_object()) return "";
  const json::object& map = headers.get_object();
  if (const json::value* values = map.if_contains(canonical_header_key(name))) return first_value(*values);
  for (const auto& member : map) {
    std::string_view key = member.key();
    bool same = key.size() == name.size() &&
                std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
                });
    if (same) return first_value(member.value());
  }
  return "";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// url.QueryUnescape: '+' is a space and %XX a byte; nullopt on a malformed escape.
std::optional<std::string> query_unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      int high = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
      int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// url.ParseQuery as used by URL.Query(): pairs that contain ';' or a bad escape are skipped.
json::object parse_query(std::string_view raw) {
  json::object values;
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty() || pair.find(';') != std::string_view::npos) continue;

    size_t equals = pair.find('=');
    auto key = query_unescape(pair.substr(0, equals));
    auto value = query_unescape(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
    if (!key || !value) continue;
    auto& list = values[*key];
    if (!list.is_array()) list = json::array();
    list.get_array().emplace_back(*value);
  }
  return values;
}

std::string string_field(const json::value& object, std::string_view key) {
  if (!object.is_object()) return "";
  const json::value* member = object.get_object().if_contains(key);
  return member && member->is_string() ? std::string(member->get_string()) : "";
}

std::string escape_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || std::string_view("-_.~$&+,/:;=@!'()*").find(static_cast<char>(c)) != std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

// url.URL.String for the fields the session carries.
// NOTE: user info is not rendered; sessions never carry it for matched requests.
std::string url_string(const json::value& url) {
  std::string scheme = string_field(url, "Scheme");
  std::string opaque = string_field(url, "Opaque");
  std::string host = string_field(url, "Host");
  std::string path = string_field(url, "RawPath");
  if (path.empty()) path = escape_path(string_field(url, "Path"));

  std::string out;
  if (!scheme.empty()) out += scheme + ":";
  if (!opaque.empty()) {
    out += opaque;
  } else {
    if (!scheme.empty() || !host.empty()) {
      if (!host.empty() || !path.empty()) out += "//";
      out += host;
    }
    if (!path.empty() && path[0] != '/' && !host.empty()) out.push_back('/');
    out += path;
  }
  std::string query = string_field(url, "RawQuery");
  if (!query.empty()) out += "?" + query;
  std::string fragment = string_field(url, "Fragment");
  if (!fragment.empty()) out += "#" + fragment;
  return out;
}

Kind member_kind(Kind parent, std::string_view name) {
  if (parent == Kind::kSession && name == "Header") return Kind::kHeaderMap;
  if (parent == Kind::kSession && name == "MatchContext") return Kind::kMatchContext;
  if (parent == Kind::kMatchContext && name == "Header") return Kind::kHeaderMap;
  if (parent == Kind::kMatchContext && name == "URL") return Kind::kUrl;
  return Kind::kPlain;
}

class Executor {
 public:
  explicit Executor(const json::value& data) : dot_(Value::borrow(data, Kind::kSession)) {
    variables_.emplace_back("$", dot_);
  }

  Expected<std::string, std::string> run(const std::vector<Node>& nodes) {
    walk_list(nodes);
    if (error_) return Unexpected{std::move(*error_)};
    return std::move(out_);
  }

 private:
  bool failed() const { return error_.has_value(); }

  Value fail(Position position, const std::string& message) {
    if (!error_) {
      error_ = "template: " + std::to_string(position.line) + ":" + std::to_string(position.column) + ": " + message;
    }
    return {};
  }

  void write(Position position, std::string_view text) {
    if (out_.size() + text.size() > kMaxOutputBytes) {
      fail(position, "output exceeds " + std::to_string(kMaxOutputBytes) + " bytes");
      return;
    }
    out_ += text;
  }

  Flow walk_list(const std::vector<Node>& nodes) {
    for (const Node& node : nodes) {
      Flow flow = walk(node);
      if (failed() || flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Flow walk(const Node& node) {
    switch (node.type) {
      case Node::Type::kText:
        write(node.position, node.text);
        return Flow::kNormal;
      case Node::Type::kAction: {
        Value value = eval_pipeline(node.pipeline, true);
        // NOTE: Go prints a missing key as "<no value>"; templates here print nothing, which
        // is what `print` gives and what rules expect.
        if (!failed() && node.pipeline.variables.empty() && !value.is_null()) {
          write(node.position, format_value(value.json()));
        }
        return Flow::kNormal;
      }
      case Node::Type::kIf:
      case Node::Type::kWith:
        return walk_if_or_with(node);
      case Node::Type::kRange:
        return walk_range(node);
      case Node::Type::kBreak: return Flow::kBreak;
      case Node::Type::kContinue: return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  Flow walk_if_or_with(const Node& node) {
    size_t scope = variables_.size();
    Value value = eval_pipeline(node.pipeline, true);
    Flow flow = Flow::kNormal;
    if (!failed()) {
      if (!is_true(value.json())) {
        flow = walk_list(node.else_body);
      } else if (node.type == Node::Type::kWith) {
        Value saved = std::exchange(dot_, value);
        flow = walk_list(node.body);
        dot_ = std::move(saved);
      } else {
        flow = walk_list(node.body);
      }
    }
    variables_.resize(scope);
    return flow;
  }

  Flow walk_range(const Node& node) {
    size_t scope = variables_.size();
    Value value = eval_pipeline(node.pipeline, false);
    if (failed()) return Flow::kNormal;
    // A parenthesised declaration inside the range pipeline may have pushed variables already.
    size_t slots = variables_.size();
    for (const auto& name : node.pipeline.variables) variables_.emplace_back(name, Value());

    const json::value& items = value.json();
    size_t count = 0;
    auto iterate = [&](Value key, Value element) {
      if (++iterations_ > kMaxRangeIterations) {
        fail(node.position, "range iterations exceed " + std::to_string(kMaxRangeIterations));
        return Flow::kBreak;
      }
      ++count;
      size_t declared = node.pipeline.variables.size();
      if (declared == 1) variables_[slots].second = element;
      if (declared == 2) {
        variables_[slots].second = std::move(key);
        variables_[slots + 1].second = element;
      }
      Value saved = std::exchange(dot_, std::move(element));
      Flow flow = walk_list(node.body);
      dot_ = std::move(saved);
      variables_.resize(slots + declared);
      return flow;
    };

    if (items.is_array()) {
      const json::array& array = items.get_array();
      for (size_t i = 0; i < array.size(); ++i) {
        if (iterate(Value::own(static_cast<int64_t>(i)), value.member(array[i], Kind::kPlain)) == Flow::kBreak || failed()) break;
      }
    } else if (items.is_object()) {
      std::vector<const json::key_value_pair*> members;
      for (const auto& member : items.get_object()) members.push_back(&member);
      // Go ranges over maps in sorted key order.
      std::sort(members.begin(), members.end(), [](const auto* a, const auto* b) { return a->key() < b->key(); });
      for (const auto* member : members) {
        if (iterate(Value::own(json::value(member->key())), value.member(member->value(), Kind::kPlain)) == Flow::kBreak || failed()) break;
      }
    } else if (items.is_int64()) {
      for (int64_t i = 0; i < items.get_int64(); ++i) {
        if (iterate(Value::own(i), Value::own(i)) == Flow::kBreak || failed()) break;
      }
    } else if (!items.is_null()) {
      fail(node.position, "range can't iterate over " + format_value(items));
    }

    if (!failed() && count == 0) walk_list(node.else_body);
    variables_.resize(scope);
    return Flow::kNormal;
  }

  Value eval_pipeline(const Pipeline& pipeline, bool declare) {
    Value value;
    bool has_final = false;
    for (const Command& command : pipeline.commands) {
      value = eval_command(command, has_final ? &value : nullptr);
      if (failed()) return {};
      has_final = true;
    }
    if (declare) assign_variables(pipeline, value);
    return value;
  }

  void assign_variables(const Pipeline& pipeline, const Value& value) {
    for (const auto& name : pipeline.variables) {
      if (!pipeline.is_assignment) {
        variables_.emplace_back(name, value);
        continue;
      }
      for (auto it = variables_.rbegin(); it != variables_.rend(); ++it) {
        if (it->first == name) {
          it->second = value;
          break;
        }
      }
    }
  }

  Value lookup_variable(const std::string& name) const {
    for (auto it = variables_.rbegin(); it != variables_.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    return {};  // The parser rejects undefined variables, so this is not reached.
  }

  // `final` is the result of the previous command in the pipeline, passed as the last argument.
  Value eval_command(const Command& command, const Value* final) {
    const Operand& first = command.operands.front();
    std::span<const Operand> args(command.operands.data() + 1, command.operands.size() - 1);
    bool has_args = !args.empty() || final != nullptr;

    switch (first.type) {
      case Operand::Type::kFunction:
        return call_function(first, args, final);
      case Operand::Type::kField:
        return eval_chain(dot_, first.fields, args, final, first.position);
      case Operand::Type::kVariable:
      case Operand::Type::kPipeline:
        if (!first.fields.empty()) {
          Value term = eval_term(first);
          if (failed()) return {};
          return eval_chain(term, first.fields, args, final, first.position);
        }
        break;
      case Operand::Type::kNil:
        return fail(first.position, "nil is not a command");
      default:
        break;
    }
    if (has_args) return fail(first.position, "can't give argument to non-function");
    return eval_term(first);
  }

  // Evaluates an operand's term without its field chain.
  Value eval_term(const Operand& operand) {
    switch (operand.type) {
      case Operand::Type::kDot: return dot_;
      case Operand::Type::kVariable: return lookup_variable(operand.name);
      case Operand::Type::kConstant: return Value::own(operand.constant);
      case Operand::Type::kPipeline: return eval_pipeline(*operand.pipeline, true);
      case Operand::Type::kFunction: return call_function(operand, {}, nullptr);
      case Operand::Type::kField:
      case Operand::Type::kNil: break;
    }
    return {};
  }

  Value eval_arg(const Operand& operand) {
    if (operand.type == Operand::Type::kField) return eval_chain(dot_, operand.fields, {}, nullptr, operand.position);
    Value term = eval_term(operand);
    if (failed() || operand.fields.empty()) return term;
    return eval_chain(term, operand.fields, {}, nullptr, operand.position);
  }

  std::optional<std::vector<Value>> eval_args(std::span<const Operand> args, const Value* final) {
    std::vector<Value> values;
    values.reserve(args.size() + 1);
    for (const Operand& arg : args) {
      values.push_back(eval_arg(arg));
      if (failed()) return std::nullopt;
    }
    if (final) values.push_back(*final);
    return values;
  }

  // Applies `.A.B.C` to `receiver`; only the last element receives the arguments.
  Value eval_chain(Value receiver, const std::vector<std::string>& fields, std::span<const Operand> args,
                   const Value* final, Position position) {
    for (size_t i = 0; i + 1 < fields.size(); ++i) {
      receiver = eval_field(receiver, fields[i], std::nullopt, position);
      if (failed()) return {};
    }
    if (args.empty() && final == nullptr) return eval_field(receiver, fields.back(), std::nullopt, position);
    auto values = eval_args(args, final);
    if (!values) return {};
    return eval_field(receiver, fields.back(), std::move(values), position);
  }

  // Evaluates one field or method. `args` is set when the template passes arguments.
  Value eval_field(const Value& receiver, const std::string& name, std::optional<std::vector<Value>> args,
                   Position position) {
    if (auto method = method_arity(receiver.kind(), name)) {
      size_t given = args ? args->size() : 0;
      if (given != *method) {
        return fail(position, "wrong number of args for " + name + ": want " + std::to_string(*method) + " got " + std::to_string(given));
      }
      return call_method(receiver, name, args ? *args : std::vector<Value>{}, position);
    }

    if (args) return fail(position, name + " is not a method but has arguments");
    const json::value& json = receiver.json();
    if (json.is_null()) return {};
    if (!json.is_object()) {
      return fail(position, "can't evaluate field " + name + " in type " + std::string(go_type_name(json)));
    }
    const json::value* member = json.get_object().if_contains(name);
    if (member == nullptr) return {};
    return receiver.member(*member, member_kind(receiver.kind(), name));
  }

  static std::optional<size_t> method_arity(Kind kind, std::string_view name) {
    if ((kind == Kind::kHeaderMap || kind == Kind::kQuery) && name == "Get") return 1;
    if (kind == Kind::kUrl && (name == "String" || name == "Query")) return 0;
    return std::nullopt;
  }

  Value call_method(const Value& receiver, const std::string& name, const std::vector<Value>& args, Position position) {
    if (name == "String") return Value::own(json::value(url_string(receiver.json())));
    if (name == "Query") return Value::own(parse_query(string_field(receiver.json(), "RawQuery")), Kind::kQuery);

    const json::value& key = args[0].json();
    if (!key.is_string()) return fail(position, "wrong type for value; expected string; got " + std::string(go_type_name(key)));
    if (receiver.kind() == Kind::kHeaderMap) return Value::own(json::value(header_get(receiver.json(), key.get_string())));

    const json::value* values = receiver.json().get_object().if_contains(key.get_string());
    return Value::own(json::value(values ? first_value(*values) : ""));
  }

  Value call_function(const Operand& function, std::span<const Operand> args, const Value* final) {
    const FunctionSpec* spec = find_function(function.name);
    size_t given = args.size() + (final ? 1 : 0);
    if (given < spec->min_args || given > spec->max_args) {
      std::string want = spec->min_args == spec->max_args ? std::to_string(spec->min_args)
                                                            : "at least " + std::to_string(spec->min_args);
      return fail(function.position, "wrong number of args for " + function.name + ": want " + want + " got " + std::to_string(given));
    }
    if (spec->call == nullptr) return call_and_or(function.name == "and", args, final);

    auto values = eval_args(args, final);
    if (!values) return {};
    std::string error;
    Value result = spec->call(*values, error);
    if (!error.empty()) return fail(function.position, "error calling " + function.name + ": " + error);

    allocated_ += approximate_size(result.json());
    if (allocated_ > kMaxAllocatedBytes ||
        (result.json().is_string() && result.json().get_string().size() > kMaxStringBytes)) {
      return fail(function.position, "error calling " + function.name + ": result exceeds the template memory limit");
    }
    return result;
  }

  // `and` returns its first false argument or the last one, `or` its first true argument or
  // the last one; later arguments are not evaluated.
  Value call_and_or(bool is_and, std::span<const Operand> args, const Value* final) {
    Value value;
    for (const Operand& arg : args) {
      value = eval_arg(arg);
      if (failed()) return {};
      if (is_true(value.json()) != is_and) return value;
    }
    return final ? *final : value;
  }

  Value dot_;
  std::vector<std::pair<std::string, Value>> variables_;
  std::string out_;
  size_t iterations_ = 0;
  size_t allocated_ = 0;
  std::optional<std::string> error_;
};

// Collects what a parse tree reads from the data. `at_top` is false inside the bodies of
// range and with, where `.` is no longer the data itself, but `$` always is. Variables other
// than `$` hold results of pipelines, whose reads are collected where they are evaluated.
class DataUseCollector {
 public:
  DataUse take() { return std::move(use_); }

  void nodes(const std::vector<Node>& list, bool at_top) {
    for (const Node& node : list) this->node(node, at_top);
  }

 private:
  void node(const Node& node, bool at_top) {
    pipeline(node.pipeline, at_top);
    const bool body_at_top = at_top && node.type != Node::Type::kRange && node.type != Node::Type::kWith;
    nodes(node.body, body_at_top);
    nodes(node.else_body, at_top);
  }

  void pipeline(const Pipeline& pipeline, bool at_top) {
    for (const Command& command : pipeline.commands) {
      for (const Operand& operand : command.operands) this->operand(operand, at_top);
    }
  }

  void operand(const Operand& operand, bool at_top) {
    switch (operand.type) {
      case Operand::Type::kDot:
        if (at_top) use_.everything = true;
        break;
      case Operand::Type::kField:
        if (at_top) chain(operand.fields);
        break;
      case Operand::Type::kVariable:
        if (operand.name != "$") break;
        if (operand.fields.empty()) {
          use_.everything = true;
        } else {
          chain(operand.fields);
        }
        break;
      case Operand::Type::kPipeline:
        if (operand.pipeline) pipeline(*operand.pipeline, at_top);
        break;
      case Operand::Type::kFunction:
      case Operand::Type::kConstant:
      case Operand::Type::kNil:
        break;
    }
  }

  void chain(const std::vector<std::string>& fields) {
    if (fields.empty()) return;
    std::string path = fields.size() == 1 ? fields[0] : fields[0] + "." + fields[1];
    if (std::find(use_.paths.begin(), use_.paths.end(), path) == use_.paths.end()) {
      use_.paths.push_back(std::move(path));
    }
  }

  DataUse use_;
};

}  // namespace

bool DataUse::reads(std::string_view name, std::string_view child) const {
  if (everything) return true;
  for (const std::string& path : paths) {
    std::string_view view(path);
    if (view == name) return true;
    if (!view.starts_with(name) || view.size() <= name.size() || view[name.size()] != '.') continue;
    if (child.empty() || view.substr(name.size() + 1) == child) return true;
  }
  return false;
}

void DataUse::merge(const DataUse& other) {
  everything = everything || other.everything;
  for (const std::string& path : other.paths) {
    if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
  }
}

Template::Template(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

Template Template::compile(std::string_view source) {
  auto impl = std::make_shared<Impl>();
  impl->source = std::string(source);
  impl->nodes = parse_template(source);
  DataUseCollector collector;
  collector.nodes(impl->nodes, true);
  impl->data_use = collector.take();
  return Template(std::move(impl));
}

Expected<std::string, std::string> Template::render(const json::value& data) const {
  Executor executor(data);
  return executor.run(impl_->nodes);
}

const std::string& Template::source() const { return impl_->source; }

const DataUse& Template::data_use() const { return impl_->data_use; }

}  // namespace gh::text
