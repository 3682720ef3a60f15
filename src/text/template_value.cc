#include "text/template_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

namespace gh::text::detail {
namespace {

namespace json = boost::json;

const json::value& null_json() {
  static const json::value null;
  return null;
}

std::vector<const json::key_value_pair*> sorted_members(const json::object& object) {
  std::vector<const json::key_value_pair*> members;
  members.reserve(object.size());
  for (const auto& member : object) members.push_back(&member);
  std::sort(members.begin(), members.end(),
            [](const auto* a, const auto* b) { return a->key() < b->key(); });
  return members;
}

// Splits the shortest round-trip form of `number` (which must be finite and positive) into its
// decimal digits and the exponent of the first digit.
void shortest_digits(double number, std::string& digits, int& exponent) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::scientific);
  std::string_view text(buffer, static_cast<size_t>(result.ptr - buffer));

  size_t e = text.find('e');
  std::string_view mantissa = text.substr(0, e);
  exponent = std::stoi(std::string(text.substr(e + 1)));
  digits.clear();
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
}

void append_exponent(std::string& out, int exponent) {
  out.push_back(exponent < 0 ? '-' : '+');
  int magnitude = std::abs(exponent);
  if (magnitude < 10) out.push_back('0');
  out += std::to_string(magnitude);
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        // encoding/json escapes <, > and & so its output is safe inside HTML.
        if (c < 0x20 || c == '<' || c == '>' || c == '&') {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

// Formats a float64 as encoding/json does: plain decimal between 1e-6 and 1e21, exponent
// form outside, with a two-digit exponent shortened to one digit ("1e-7", "1e+21").
std::string marshal_float(double number) {
  if (!std::isfinite(number)) return "null";
  double magnitude = std::fabs(number);
  char buffer[512];
  if (magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21)) {
    auto result = std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::scientific);
    std::string text(buffer, result.ptr);
    // Both write "1e-07", and Go then shortens a negative two-digit exponent to "1e-7".
    size_t e = text.find('e');
    if (e != std::string::npos && text.size() - e == 4 && text[e + 1] == '-' && text[e + 2] == '0') {
      text.erase(e + 2, 1);
    }
    return text;
  }
  auto result = std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::fixed);
  return std::string(buffer, result.ptr);
}

void append_marshaled(std::string& out, const json::value& json) {
  switch (json.kind()) {
    case json::kind::null: out += "null"; return;
    case json::kind::bool_: out += json.get_bool() ? "true" : "false"; return;
    case json::kind::int64: out += std::to_string(json.get_int64()); return;
    case json::kind::uint64: out += std::to_string(json.get_uint64()); return;
    case json::kind::double_: out += marshal_float(json.get_double()); return;
    case json::kind::string: append_json_string(out, json.get_string()); return;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : json.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_marshaled(out, element);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto* member : sorted_members(json.get_object())) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, member->key());
        out.push_back(':');
        append_marshaled(out, member->value());
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

Value::Value() : Value(&null_json(), nullptr, Kind::kPlain) {}

Value::Value(const json::value* json, std::shared_ptr<const json::value> owned, Kind kind)
    : json_(json), owned_(std::move(owned)), kind_(kind) {}

Value Value::borrow(const json::value& json, Kind kind) { return Value(&json, nullptr, kind); }

Value Value::own(json::value json, Kind kind) {
  auto owned = std::make_shared<const json::value>(std::move(json));
  const json::value* pointer = owned.get();
  return Value(pointer, std::move(owned), kind);
}

bool is_true(const json::value& json) {
  switch (json.kind()) {
    case json::kind::null: return false;
    case json::kind::bool_: return json.get_bool();
    case json::kind::int64: return json.get_int64() != 0;
    case json::kind::uint64: return json.get_uint64() != 0;
    case json::kind::double_: return json.get_double() != 0;
    case json::kind::string: return !json.get_string().empty();
    case json::kind::array: return !json.get_array().empty();
    case json::kind::object: return !json.get_object().empty();
  }
  return false;
}

std::string format_float(double number) {
  if (std::isnan(number)) return "NaN";
  if (std::isinf(number)) return number > 0 ? "+Inf" : "-Inf";
  if (number == 0) return std::signbit(number) ? "-0" : "0";

  std::string out;
  if (number < 0) out.push_back('-');
  std::string digits;
  int exponent = 0;
  shortest_digits(std::fabs(number), digits, exponent);

  if (exponent < -4 || exponent >= 6) {
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    append_exponent(out, exponent);
    return out;
  }

  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out += digits;
    return out;
  }
  size_t integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) {
    out += digits;
    out.append(integer_digits - digits.size(), '0');
    return out;
  }
  out.append(digits, 0, integer_digits);
  out.push_back('.');
  out.append(digits, integer_digits);
  return out;
}

void append_value(std::string& out, const json::value& json) {
  switch (json.kind()) {
    case json::kind::null: out += "<nil>"; return;
    case json::kind::bool_: out += json.get_bool() ? "true" : "false"; return;
    case json::kind::int64: out += std::to_string(json.get_int64()); return;
    case json::kind::uint64: out += std::to_string(json.get_uint64()); return;
    case json::kind::double_: out += format_float(json.get_double()); return;
    case json::kind::string: out += json.get_string(); return;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : json.get_array()) {
        if (!first) out.push_back(' ');
        first = false;
        append_value(out, element);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object: {
      out += "map[";
      bool first = true;
      for (const auto* member : sorted_members(json.get_object())) {
        if (!first) out.push_back(' ');
        first = false;
        out += member->key();
        out.push_back(':');
        append_value(out, member->value());
      }
      out.push_back(']');
      return;
    }
  }
}

std::string format_value(const json::value& json) {
  std::string out;
  append_value(out, json);
  return out;
}

std::string quote_go(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        // NOTE: bytes from 0x80 up are copied unchanged, assuming valid UTF-8. Go escapes
        // invalid UTF-8 and non-printable runes as \x.. or \u.... .
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string marshal_json(const json::value& json) {
  std::string out;
  append_marshaled(out, json);
  return out;
}

std::string_view go_type_name(const json::value& json) {
  switch (json.kind()) {
    case json::kind::null: return "<nil>";
    case json::kind::bool_: return "bool";
    case json::kind::int64: return "int";
    case json::kind::uint64: return "uint64";
    case json::kind::double_: return "float64";
    case json::kind::string: return "string";
    case json::kind::array: return "[]interface {}";
    case json::kind::object: return "map[string]interface {}";
  }
  return "unknown";
}

}  // namespace gh::text::detail
