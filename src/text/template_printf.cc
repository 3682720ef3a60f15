// Go fmt.Sprint and fmt.Sprintf for the verbs templates use.
#include <algorithm>
#include <charconv>
#include <optional>

#include "text/template_funcs.h"

namespace gh::text::detail {
namespace {

namespace json = boost::json;

struct Spec {
  bool minus = false;
  bool plus = false;
  bool zero = false;
  size_t width = 0;
  std::optional<size_t> precision;
};

std::string bad_verb(char verb, const json::value& arg) {
  if (arg.is_null()) return std::string("%!") + verb + "(<nil>)";
  return std::string("%!") + verb + "(" + std::string(go_type_name(arg)) + "=" + format_value(arg) + ")";
}

bool is_integer(const json::value& arg) { return arg.is_int64() || arg.is_uint64(); }

std::string format_hex(const json::value& arg, bool upper) {
  static constexpr char kLower[] = "0123456789abcdef";
  static constexpr char kUpper[] = "0123456789ABCDEF";
  const char* digits = upper ? kUpper : kLower;
  std::string out;
  if (arg.is_string()) {
    for (unsigned char c : arg.get_string()) {
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 0xf]);
    }
    return out;
  }
  bool negative = arg.is_int64() && arg.get_int64() < 0;
  uint64_t magnitude = arg.is_uint64() ? arg.get_uint64()
                       : negative      ? uint64_t{0} - static_cast<uint64_t>(arg.get_int64())
                                       : static_cast<uint64_t>(arg.get_int64());
  do {
    out.insert(out.begin(), digits[magnitude & 0xf]);
    magnitude >>= 4;
  } while (magnitude != 0);
  if (negative) out.insert(out.begin(), '-');
  return out;
}

std::string format_fixed(double number, char verb, const Spec& spec) {
  if (verb == 'g' && !spec.precision) return format_float(number);
  char buffer[512];
  int precision = static_cast<int>(std::min<size_t>(spec.precision.value_or(6), 100));
  auto format = verb == 'f' ? std::chars_format::fixed
                : verb == 'e' ? std::chars_format::scientific
                              : std::chars_format::general;
  auto result = std::to_chars(buffer, buffer + sizeof buffer, number, format, precision);
  // The buffer fits every double at precision 100, so this only guards the contract.
  if (result.ec != std::errc()) return "%!f(BADWIDTH)";
  return std::string(buffer, result.ptr);
}

std::string format_one(char verb, const Spec& spec, const json::value& arg) {
  switch (verb) {
    case 'v': return format_value(arg);
    case 's':
      if (arg.is_string()) {
        std::string text(arg.get_string());
        if (spec.precision && *spec.precision < text.size()) text.resize(*spec.precision);
        return text;
      }
      if (arg.is_array() || arg.is_object()) return format_value(arg);
      return bad_verb(verb, arg);
    case 'd':
      if (is_integer(arg)) return format_value(arg);
      return bad_verb(verb, arg);
    case 'q':
      if (arg.is_string()) return quote_go(arg.get_string());
      return bad_verb(verb, arg);
    case 'x':
    case 'X':
      if (arg.is_string() || is_integer(arg)) return format_hex(arg, verb == 'X');
      return bad_verb(verb, arg);
    case 't':
      if (arg.is_bool()) return format_value(arg);
      return bad_verb(verb, arg);
    case 'f':
    case 'e':
    case 'g':
      if (arg.is_double()) return format_fixed(arg.get_double(), verb, spec);
      return bad_verb(verb, arg);
    default:
      return bad_verb(verb, arg);
  }
}

void pad(std::string& text, const Spec& spec, bool numeric) {
  if (text.size() >= spec.width) return;
  size_t fill = spec.width - text.size();
  if (spec.minus) {
    text.append(fill, ' ');
  } else if (spec.zero && numeric) {
    size_t sign = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
    text.insert(sign, fill, '0');
  } else {
    text.insert(0, fill, ' ');
  }
}

size_t parse_count(std::string_view format, size_t& at) {
  size_t count = 0;
  while (at < format.size() && format[at] >= '0' && format[at] <= '9') {
    count = count * 10 + static_cast<size_t>(format[at] - '0');
    // Wider padding could only build strings that the executor rejects anyway.
    if (count > kMaxStringBytes) count = kMaxStringBytes + 1;
    ++at;
  }
  return count;
}

}  // namespace

std::string sprint(std::span<const Value> args) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    bool is_string = args[i].json().is_string();
    if (i > 0 && !is_string && !args[i - 1].json().is_string()) out.push_back(' ');
    append_value(out, args[i].json());
  }
  return out;
}

std::string sprintf_go(std::string_view format, std::span<const Value> args) {
  std::string out;
  size_t next_arg = 0;
  size_t at = 0;
  // Stopping early is safe because the executor rejects strings beyond the limit anyway.
  while (at < format.size() && out.size() <= kMaxStringBytes) {
    char c = format[at++];
    if (c != '%') {
      out.push_back(c);
      continue;
    }

    Spec spec;
    for (; at < format.size(); ++at) {
      char flag = format[at];
      if (flag == '-') spec.minus = true;
      else if (flag == '+') spec.plus = true;
      else if (flag == '0') spec.zero = true;
      else if (flag != ' ' && flag != '#') break;
    }
    spec.width = parse_count(format, at);
    if (at < format.size() && format[at] == '.') {
      ++at;
      spec.precision = parse_count(format, at);
    }
    if (at >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }

    char verb = format[at++];
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (next_arg >= args.size()) {
      out += std::string("%!") + verb + "(MISSING)";
      continue;
    }
    const json::value& arg = args[next_arg++].json();
    std::string text = format_one(verb, spec, arg);
    bool numeric = arg.is_number();
    if (spec.plus && numeric && !text.empty() && text[0] != '-') text.insert(0, 1, '+');
    pad(text, spec, numeric);
    out += text;
  }

  if (next_arg < args.size()) {
    out += "%!(EXTRA ";
    for (size_t i = next_arg; i < args.size(); ++i) {
      if (i > next_arg) out += ", ";
      const json::value& arg = args[i].json();
      out += arg.is_null() ? "<nil>" : std::string(go_type_name(arg)) + "=" + format_value(arg);
    }
    out.push_back(')');
  }
  return out;
}

}  // namespace gh::text::detail
