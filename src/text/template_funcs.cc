// The function table. Semantics follow Go's text/template built-ins, Oathkeeper's `print` and
// `printIndex` overrides, and Sprig v3 for the Sprig names; differences are marked NOTE.
#include "text/template_funcs.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

namespace gh::text::detail {
namespace {

namespace json = boost::json;

constexpr size_t kVariadic = std::numeric_limits<size_t>::max();

Value string_value(std::string text) { return Value::own(json::value(std::move(text))); }
Value bool_value(bool flag) { return Value::own(json::value(flag)); }
Value int_value(int64_t number) { return Value::own(json::value(number)); }

std::string wrong_type(std::string_view expected, const json::value& arg) {
  return "wrong type for value; expected " + std::string(expected) + "; got " + std::string(go_type_name(arg));
}

// Reads a string parameter. NOTE: numbers and bools are formatted with %v where Go would
// reject them, so rules that pass a number to a string function still render.
std::optional<std::string> string_arg(const Value& value, std::string& error) {
  const json::value& arg = value.json();
  if (arg.is_string()) return std::string(arg.get_string());
  if (arg.is_null()) {
    error = "invalid value; expected string";
    return std::nullopt;
  }
  if (arg.is_array() || arg.is_object()) {
    error = wrong_type("string", arg);
    return std::nullopt;
  }
  return format_value(arg);
}

// Reads an integer parameter; JSON numbers with an integral value qualify.
std::optional<int64_t> int_arg(const Value& value, std::string& error) {
  const json::value& arg = value.json();
  if (arg.is_int64()) return arg.get_int64();
  if (arg.is_uint64() && arg.get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(arg.get_uint64());
  }
  if (arg.is_double()) {
    double number = arg.get_double();
    if (std::trunc(number) == number && std::fabs(number) < 9.2e18) return static_cast<int64_t>(number);
  }
  error = wrong_type("int", arg);
  return std::nullopt;
}

// Converts like spf13/cast ToInt64, which Sprig's arithmetic uses: never fails, 0 on bad input.
int64_t cast_int64(const json::value& arg) {
  switch (arg.kind()) {
    case json::kind::int64: return arg.get_int64();
    case json::kind::uint64: return static_cast<int64_t>(arg.get_uint64());
    case json::kind::double_: {
      double number = arg.get_double();
      if (!std::isfinite(number) || std::fabs(number) >= 9.2e18) return 0;
      return static_cast<int64_t>(number);
    }
    case json::kind::bool_: return arg.get_bool() ? 1 : 0;
    case json::kind::string: {
      std::string_view text = arg.get_string();
      // cast accepts "10.0" by dropping a zero fraction, and base prefixes like strconv base 0.
      if (auto dot = text.find('.'); dot != std::string_view::npos &&
                                     text.find_first_not_of('0', dot + 1) == std::string_view::npos) {
        text = text.substr(0, dot);
      }
      bool negative = !text.empty() && text[0] == '-';
      if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
      int base = 10;
      if (text.size() > 1 && text[0] == '0') {
        char marker = text[1];
        if (marker == 'x' || marker == 'X') base = 16, text.remove_prefix(2);
        else if (marker == 'o' || marker == 'O') base = 8, text.remove_prefix(2);
        else if (marker == 'b' || marker == 'B') base = 2, text.remove_prefix(2);
        else base = 8, text.remove_prefix(1);
      }
      int64_t number = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number, base);
      if (text.empty() || error != std::errc() || end != text.data() + text.size()) return 0;
      return negative ? -number : number;
    }
    default: return 0;
  }
}

// Sprig's strslice: the elements of a list as strings (nil elements dropped), or a scalar as a
// one-element list.
std::vector<std::string> string_list(const json::value& arg) {
  std::vector<std::string> items;
  if (arg.is_array()) {
    for (const auto& element : arg.get_array()) {
      if (!element.is_null()) items.push_back(format_value(element));
    }
  } else if (!arg.is_null()) {
    items.push_back(format_value(arg));
  }
  return items;
}

// Splits like Go's strings.Split; an empty separator splits into UTF-8 sequences.
std::vector<std::string> split_go(std::string_view text, std::string_view separator) {
  std::vector<std::string> parts;
  if (separator.empty()) {
    for (size_t at = 0; at < text.size();) {
      size_t length = 1;
      while (at + length < text.size() && (static_cast<unsigned char>(text[at + length]) & 0xc0) == 0x80) ++length;
      parts.emplace_back(text.substr(at, length));
      at += length;
    }
    return parts;
  }
  size_t start = 0;
  while (true) {
    size_t found = text.find(separator, start);
    if (found == std::string_view::npos) break;
    parts.emplace_back(text.substr(start, found - start));
    start = found + separator.size();
  }
  parts.emplace_back(text.substr(start));
  return parts;
}

std::optional<int> compare_values(const json::value& a, const json::value& b, bool ordered, std::string& error) {
  if (a.is_number() && b.is_number()) {
    if (a.is_double() || b.is_double()) {
      double x = a.to_number<double>();
      double y = b.to_number<double>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.is_int64() && b.is_int64()) return a.get_int64() < b.get_int64() ? -1 : a.get_int64() > b.get_int64();
    // One side is a uint64 above the int64 range or a negative int64 compared with a uint64.
    if (a.is_uint64() && b.is_uint64()) return a.get_uint64() < b.get_uint64() ? -1 : a.get_uint64() > b.get_uint64();
    if (a.is_uint64()) return b.get_int64() < 0 || a.get_uint64() > static_cast<uint64_t>(b.get_int64()) ? 1 : a.get_uint64() == static_cast<uint64_t>(b.get_int64()) ? 0 : -1;
    return a.get_int64() < 0 || static_cast<uint64_t>(a.get_int64()) < b.get_uint64() ? -1 : static_cast<uint64_t>(a.get_int64()) == b.get_uint64() ? 0 : 1;
  }
  if (a.is_string() && b.is_string()) {
    int result = a.get_string().subview().compare(b.get_string().subview());
    return result < 0 ? -1 : result > 0 ? 1 : 0;
  }
  if (a.is_bool() && b.is_bool() && !ordered) return a.get_bool() == b.get_bool() ? 0 : 1;
  if (a.is_array() || a.is_object() || b.is_array() || b.is_object()) {
    error = "non-comparable type";
    return std::nullopt;
  }
  if (ordered && (a.is_bool() || b.is_bool() || a.is_null() || b.is_null())) {
    error = "invalid type for comparison";
    return std::nullopt;
  }
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null() ? 0 : 1;
  error = "incompatible types for comparison";
  return std::nullopt;
}

// ---- Oathkeeper overrides ----

Value fn_print(std::span<const Value> args, std::string&) {
  if (args[0].is_null()) return string_value("");
  return string_value(format_value(args[0].json()));
}

Value fn_print_index(std::span<const Value> args, std::string& error) {
  auto index = int_arg(args[1], error);
  if (!index) return {};
  const json::value& list = args[0].json();
  if (!list.is_array() || *index < 0 || static_cast<size_t>(*index) >= list.get_array().size()) {
    return string_value("");
  }
  return string_value(format_value(list.get_array()[static_cast<size_t>(*index)]));
}

// ---- Go built-ins ----

Value fn_index(std::span<const Value> args, std::string& error) {
  Value item = args[0];
  for (const Value& key : args.subspan(1)) {
    const json::value& container = item.json();
    if (container.is_array() || container.is_string()) {
      auto position = int_arg(key, error);
      if (!position) return {};
      size_t size = container.is_array() ? container.get_array().size() : container.get_string().size();
      if (*position < 0 || static_cast<size_t>(*position) >= size) {
        error = "index out of range: " + std::to_string(*position);
        return {};
      }
      size_t at = static_cast<size_t>(*position);
      item = container.is_array()
                 ? Value::own(container.get_array()[at])
                 : int_value(static_cast<unsigned char>(container.get_string()[at]));
      continue;
    }
    if (container.is_object()) {
      auto name = string_arg(key, error);
      if (!name) return {};
      const json::value* member = container.get_object().if_contains(*name);
      item = member ? Value::own(*member) : Value();
      continue;
    }
    error = container.is_null() ? "index of untyped nil" : "can't index item of type " + std::string(go_type_name(container));
    return {};
  }
  return item;
}

Value fn_len(std::span<const Value> args, std::string& error) {
  const json::value& arg = args[0].json();
  if (arg.is_string()) return int_value(static_cast<int64_t>(arg.get_string().size()));
  if (arg.is_array()) return int_value(static_cast<int64_t>(arg.get_array().size()));
  if (arg.is_object()) return int_value(static_cast<int64_t>(arg.get_object().size()));
  error = arg.is_null() ? "len of nil pointer" : "len of type " + std::string(go_type_name(arg));
  return {};
}

Value fn_slice(std::span<const Value> args, std::string& error) {
  const json::value& item = args[0].json();
  if (!item.is_string() && !item.is_array()) {
    error = "can't slice item of type " + std::string(go_type_name(item));
    return {};
  }
  size_t size = item.is_string() ? item.get_string().size() : item.get_array().size();
  if (args.size() > 3) {  // NOTE: Go's three-index form for arrays is not supported
    error = "too many slice indexes: " + std::to_string(args.size() - 1);
    return {};
  }
  int64_t bounds[2] = {0, static_cast<int64_t>(size)};
  for (size_t i = 1; i < args.size(); ++i) {
    auto bound = int_arg(args[i], error);
    if (!bound) return {};
    if (*bound < 0 || static_cast<size_t>(*bound) > size) {
      error = "index out of range: " + std::to_string(*bound);
      return {};
    }
    bounds[i - 1] = *bound;
  }
  if (bounds[0] > bounds[1]) {
    error = "invalid slice index: " + std::to_string(bounds[0]) + " > " + std::to_string(bounds[1]);
    return {};
  }
  size_t from = static_cast<size_t>(bounds[0]);
  size_t to = static_cast<size_t>(bounds[1]);
  if (item.is_string()) return string_value(std::string(item.get_string().subview().substr(from, to - from)));
  json::array part(item.get_array().begin() + static_cast<ptrdiff_t>(from),
                   item.get_array().begin() + static_cast<ptrdiff_t>(to));
  return Value::own(std::move(part));
}

Value fn_eq(std::span<const Value> args, std::string& error) {
  for (const Value& other : args.subspan(1)) {
    auto order = compare_values(args[0].json(), other.json(), false, error);
    if (!order) return {};
    if (*order == 0) return bool_value(true);
  }
  return bool_value(false);
}

Value fn_ne(std::span<const Value> args, std::string& error) {
  auto order = compare_values(args[0].json(), args[1].json(), false, error);
  if (!order) return {};
  return bool_value(*order != 0);
}

template <bool (*Test)(int)>
Value fn_ordered(std::span<const Value> args, std::string& error) {
  auto order = compare_values(args[0].json(), args[1].json(), true, error);
  if (!order) return {};
  return bool_value(Test(*order));
}

Value fn_not(std::span<const Value> args, std::string&) { return bool_value(!is_true(args[0].json())); }

Value fn_printf(std::span<const Value> args, std::string& error) {
  auto format = string_arg(args[0], error);
  if (!format) return {};
  return string_value(sprintf_go(*format, args.subspan(1)));
}

Value fn_println(std::span<const Value> args, std::string&) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out.push_back(' ');
    append_value(out, args[i].json());
  }
  out.push_back('\n');
  return string_value(std::move(out));
}

// The text Go's escapers work on: a single string argument as is, otherwise fmt.Sprint.
std::string escaper_input(std::span<const Value> args) {
  if (args.size() == 1 && args[0].json().is_string()) return std::string(args[0].json().get_string());
  return sprint(args);
}

Value fn_urlquery(std::span<const Value> args, std::string&) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : escaper_input(args)) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return string_value(std::move(out));
}

Value fn_html(std::span<const Value> args, std::string&) {
  std::string out;
  for (char c : escaper_input(args)) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out.push_back(c);
    }
  }
  return string_value(std::move(out));
}

Value fn_js(std::span<const Value> args, std::string&) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : escaper_input(args)) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '<': out += "\\u003C"; break;
      case '>': out += "\\u003E"; break;
      case '&': out += "\\u0026"; break;
      case '=': out += "\\u003D"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return string_value(std::move(out));
}

// ---- Sprig: strings ----

Value fn_join(std::span<const Value> args, std::string& error) {
  auto separator = string_arg(args[0], error);
  if (!separator) return {};
  std::string out;
  bool first = true;
  for (const auto& item : string_list(args[1].json())) {
    if (!first) out += *separator;
    first = false;
    out += item;
    if (out.size() > kMaxStringBytes) break;
  }
  return string_value(std::move(out));
}

template <char (*Convert)(char)>
Value fn_map_chars(std::span<const Value> args, std::string& error) {
  auto text = string_arg(args[0], error);
  if (!text) return {};
  // NOTE: only ASCII letters change case; Go's strings.ToUpper also maps other Unicode letters.
  std::transform(text->begin(), text->end(), text->begin(), Convert);
  return string_value(std::move(*text));
}

char to_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

Value fn_trim(std::span<const Value> args, std::string& error) {
  auto text = string_arg(args[0], error);
  if (!text) return {};
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  size_t first = text->find_first_not_of(kSpace);
  if (first == std::string::npos) return string_value("");
  size_t last = text->find_last_not_of(kSpace);
  return string_value(text->substr(first, last - first + 1));
}

// Sprig's affix functions take the affix first and the subject second, to suit pipelines.
enum class Affix { kTrimPrefix, kTrimSuffix, kHasPrefix, kHasSuffix, kContains };

template <Affix Operation>
Value fn_affix(std::span<const Value> args, std::string& error) {
  auto affix = string_arg(args[0], error);
  if (!affix) return {};
  auto text = string_arg(args[1], error);
  if (!text) return {};
  std::string_view subject = *text;
  switch (Operation) {
    case Affix::kTrimPrefix:
      if (subject.starts_with(*affix)) subject.remove_prefix(affix->size());
      return string_value(std::string(subject));
    case Affix::kTrimSuffix:
      if (subject.ends_with(*affix)) subject.remove_suffix(affix->size());
      return string_value(std::string(subject));
    case Affix::kHasPrefix: return bool_value(subject.starts_with(*affix));
    case Affix::kHasSuffix: return bool_value(subject.ends_with(*affix));
    case Affix::kContains: return bool_value(subject.find(*affix) != std::string_view::npos);
  }
  return {};
}

Value fn_replace(std::span<const Value> args, std::string& error) {
  auto old_text = string_arg(args[0], error);
  if (!old_text) return {};
  auto new_text = string_arg(args[1], error);
  if (!new_text) return {};
  auto subject = string_arg(args[2], error);
  if (!subject) return {};

  // An empty pattern matches before every UTF-8 sequence and at the end, as in Go.
  std::vector<std::string> pieces = old_text->empty() ? split_go(*subject, "") : split_go(*subject, *old_text);
  if (old_text->empty()) {
    pieces.insert(pieces.begin(), "");
    pieces.emplace_back("");
  }
  size_t total = subject->size() + (pieces.size() - 1) * new_text->size();
  if (total > kMaxStringBytes) {
    error = "result exceeds " + std::to_string(kMaxStringBytes) + " bytes";
    return {};
  }
  std::string out;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) out += *new_text;
    out += pieces[i];
  }
  return string_value(std::move(out));
}

Value fn_split(std::span<const Value> args, std::string& error) {
  auto separator = string_arg(args[0], error);
  if (!separator) return {};
  auto text = string_arg(args[1], error);
  if (!text) return {};
  json::object parts;
  size_t i = 0;
  for (auto& part : split_go(*text, *separator)) parts["_" + std::to_string(i++)] = part;
  return Value::own(std::move(parts));
}

Value fn_split_list(std::span<const Value> args, std::string& error) {
  auto separator = string_arg(args[0], error);
  if (!separator) return {};
  auto text = string_arg(args[1], error);
  if (!text) return {};
  json::array parts;
  for (auto& part : split_go(*text, *separator)) parts.emplace_back(part);
  return Value::own(std::move(parts));
}

constexpr char kBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Value fn_b64enc(std::span<const Value> args, std::string& error) {
  auto text = string_arg(args[0], error);
  if (!text) return {};
  std::string out;
  const auto* bytes = reinterpret_cast<const unsigned char*>(text->data());
  for (size_t i = 0; i < text->size(); i += 3) {
    uint32_t group = static_cast<uint32_t>(bytes[i]) << 16;
    if (i + 1 < text->size()) group |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < text->size()) group |= bytes[i + 2];
    out.push_back(kBase64Alphabet[(group >> 18) & 63]);
    out.push_back(kBase64Alphabet[(group >> 12) & 63]);
    out.push_back(i + 1 < text->size() ? kBase64Alphabet[(group >> 6) & 63] : '=');
    out.push_back(i + 2 < text->size() ? kBase64Alphabet[group & 63] : '=');
  }
  return string_value(std::move(out));
}

// Decodes padded standard base64. Like Sprig, a decoding failure yields the error text as the
// result rather than a render error.
Value fn_b64dec(std::span<const Value> args, std::string& error) {
  auto text = string_arg(args[0], error);
  if (!text) return {};
  std::string out;
  uint32_t group = 0;
  int bits = 0;
  size_t padding_at = text->find('=');
  for (size_t i = 0; i < text->size(); ++i) {
    char c = (*text)[i];
    if (i >= padding_at) {
      if (c != '=' || text->size() - padding_at > 2) return string_value("illegal base64 data at input byte " + std::to_string(i));
      continue;
    }
    const char* found = std::strchr(kBase64Alphabet, c);
    if (c == '\0' || found == nullptr) return string_value("illegal base64 data at input byte " + std::to_string(i));
    group = (group << 6) | static_cast<uint32_t>(found - kBase64Alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((group >> bits) & 0xff));
    }
  }
  if (text->size() % 4 != 0) return string_value("illegal base64 data at input byte " + std::to_string(text->size() / 4 * 4));
  return string_value(std::move(out));
}

Value fn_to_json(std::span<const Value> args, std::string&) { return string_value(marshal_json(args[0].json())); }

Value fn_to_string(std::span<const Value> args, std::string&) { return string_value(format_value(args[0].json())); }

template <bool Single>
Value fn_quote(std::span<const Value> args, std::string&) {
  std::string out;
  bool first = true;
  for (const Value& arg : args) {
    if (arg.is_null()) continue;
    if (!first) out.push_back(' ');
    first = false;
    out += Single ? "'" + format_value(arg.json()) + "'" : quote_go(format_value(arg.json()));
  }
  return string_value(std::move(out));
}

// ---- Sprig: arithmetic (int64, as Sprig's cast-based helpers) ----

Value fn_add(std::span<const Value> args, std::string&) {
  uint64_t sum = 0;  // unsigned, so that overflow wraps like Go instead of being undefined
  for (const Value& arg : args) sum += static_cast<uint64_t>(cast_int64(arg.json()));
  return int_value(static_cast<int64_t>(sum));
}

Value fn_mul(std::span<const Value> args, std::string&) {
  uint64_t product = 1;
  for (const Value& arg : args) product *= static_cast<uint64_t>(cast_int64(arg.json()));
  return int_value(static_cast<int64_t>(product));
}

Value fn_sub(std::span<const Value> args, std::string&) {
  uint64_t a = static_cast<uint64_t>(cast_int64(args[0].json()));
  uint64_t b = static_cast<uint64_t>(cast_int64(args[1].json()));
  return int_value(static_cast<int64_t>(a - b));
}

template <bool Modulo>
Value fn_divide(std::span<const Value> args, std::string& error) {
  int64_t a = cast_int64(args[0].json());
  int64_t b = cast_int64(args[1].json());
  if (b == 0) {
    error = "integer divide by zero";
    return {};
  }
  if (b == -1) return int_value(Modulo ? 0 : static_cast<int64_t>(uint64_t{0} - static_cast<uint64_t>(a)));
  return int_value(Modulo ? a % b : a / b);
}

Value fn_int(std::span<const Value> args, std::string&) { return int_value(cast_int64(args[0].json())); }

// ---- Sprig: collections and defaults ----

Value fn_empty(std::span<const Value> args, std::string&) { return bool_value(!is_true(args[0].json())); }

Value fn_default(std::span<const Value> args, std::string&) {
  if (args.size() < 2 || !is_true(args[1].json())) return args[0];
  return args[1];
}

Value fn_coalesce(std::span<const Value> args, std::string&) {
  for (const Value& arg : args) {
    if (is_true(arg.json())) return arg;
  }
  return {};
}

Value fn_ternary(std::span<const Value> args, std::string& error) {
  if (!args[2].json().is_bool()) {
    error = wrong_type("bool", args[2].json());
    return {};
  }
  return args[2].json().get_bool() ? args[0] : args[1];
}

Value fn_list(std::span<const Value> args, std::string&) {
  json::array items;
  for (const Value& arg : args) items.push_back(arg.json());
  return Value::own(std::move(items));
}

Value fn_dict(std::span<const Value> args, std::string&) {
  json::object map;
  for (size_t i = 0; i < args.size(); i += 2) {
    std::string key = format_value(args[i].json());
    map[key] = i + 1 < args.size() ? args[i + 1].json() : json::value("");
  }
  return Value::own(std::move(map));
}

const json::object* object_arg(const Value& value, std::string& error) {
  if (value.json().is_object()) return &value.json().get_object();
  error = wrong_type("map[string]interface {}", value.json());
  return nullptr;
}

Value fn_has_key(std::span<const Value> args, std::string& error) {
  const json::object* map = object_arg(args[0], error);
  if (!map) return {};
  auto key = string_arg(args[1], error);
  if (!key) return {};
  return bool_value(map->contains(*key));
}

Value fn_get(std::span<const Value> args, std::string& error) {
  const json::object* map = object_arg(args[0], error);
  if (!map) return {};
  auto key = string_arg(args[1], error);
  if (!key) return {};
  const json::value* member = map->if_contains(*key);
  return member ? Value::own(*member) : string_value("");
}

// dig "a" "b" default map: the value at map.a.b, or default when a key is missing.
Value fn_dig(std::span<const Value> args, std::string& error) {
  const json::object* map = object_arg(args.back(), error);
  if (!map) return {};
  const Value& fallback = args[args.size() - 2];
  std::span<const Value> keys = args.first(args.size() - 2);
  for (size_t i = 0; i < keys.size(); ++i) {
    auto key = string_arg(keys[i], error);
    if (!key) return {};
    const json::value* member = map->if_contains(*key);
    if (!member) return fallback;
    if (i + 1 == keys.size()) return Value::own(*member);
    if (!member->is_object()) {
      error = "value at key \"" + *key + "\" is not a map";
      return {};
    }
    map = &member->get_object();
  }
  return fallback;
}

bool is_less(int order) { return order < 0; }
bool is_less_or_equal(int order) { return order <= 0; }
bool is_greater(int order) { return order > 0; }
bool is_greater_or_equal(int order) { return order >= 0; }

// Sorted by name for binary search.
constexpr FunctionSpec kFunctions[] = {
    {"add", 0, kVariadic, fn_add},
    {"and", 1, kVariadic, nullptr},
    {"b64dec", 1, 1, fn_b64dec},
    {"b64enc", 1, 1, fn_b64enc},
    {"coalesce", 0, kVariadic, fn_coalesce},
    {"contains", 2, 2, fn_affix<Affix::kContains>},
    {"default", 1, 2, fn_default},
    {"dict", 0, kVariadic, fn_dict},
    {"dig", 3, kVariadic, fn_dig},
    {"div", 2, 2, fn_divide<false>},
    {"empty", 1, 1, fn_empty},
    {"eq", 2, kVariadic, fn_eq},
    {"ge", 2, 2, fn_ordered<is_greater_or_equal>},
    {"get", 2, 2, fn_get},
    {"gt", 2, 2, fn_ordered<is_greater>},
    {"hasKey", 2, 2, fn_has_key},
    {"hasPrefix", 2, 2, fn_affix<Affix::kHasPrefix>},
    {"hasSuffix", 2, 2, fn_affix<Affix::kHasSuffix>},
    {"html", 0, kVariadic, fn_html},
    {"index", 1, kVariadic, fn_index},
    {"int", 1, 1, fn_int},
    {"join", 2, 2, fn_join},
    {"js", 0, kVariadic, fn_js},
    {"le", 2, 2, fn_ordered<is_less_or_equal>},
    {"len", 1, 1, fn_len},
    {"list", 0, kVariadic, fn_list},
    {"lower", 1, 1, fn_map_chars<to_lower>},
    {"lt", 2, 2, fn_ordered<is_less>},
    {"mod", 2, 2, fn_divide<true>},
    {"mul", 1, kVariadic, fn_mul},
    {"ne", 2, 2, fn_ne},
    {"not", 1, 1, fn_not},
    {"or", 1, kVariadic, nullptr},
    {"print", 1, 1, fn_print},
    {"printIndex", 2, 2, fn_print_index},
    {"printf", 1, kVariadic, fn_printf},
    {"println", 0, kVariadic, fn_println},
    {"quote", 0, kVariadic, fn_quote<false>},
    {"replace", 3, 3, fn_replace},
    {"slice", 1, kVariadic, fn_slice},
    {"split", 2, 2, fn_split},
    {"splitList", 2, 2, fn_split_list},
    {"squote", 0, kVariadic, fn_quote<true>},
    {"sub", 2, 2, fn_sub},
    {"ternary", 3, 3, fn_ternary},
    {"toJson", 1, 1, fn_to_json},
    {"toString", 1, 1, fn_to_string},
    {"trim", 1, 1, fn_trim},
    {"trimPrefix", 2, 2, fn_affix<Affix::kTrimPrefix>},
    {"trimSuffix", 2, 2, fn_affix<Affix::kTrimSuffix>},
    {"upper", 1, 1, fn_map_chars<to_upper>},
    {"urlquery", 0, kVariadic, fn_urlquery},
};

}  // namespace

const FunctionSpec* find_function(std::string_view name) {
  const auto* end = std::end(kFunctions);
  const auto* found = std::lower_bound(std::begin(kFunctions), end, name,
                                       [](const FunctionSpec& spec, std::string_view key) { return spec.name < key; });
  if (found == end || found->name != name) return nullptr;
  return found;
}

}  // namespace gh::text::detail
