#include "oauth2/form.h"

#include "http/headers.h"
#include "jose/base64url.h"

namespace gh::oauth2 {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> Form::get(std::string_view name) const {
  for (const auto& [key, value] : fields_) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string Form::value(std::string_view name) const { return get(name).value_or(std::string()); }

std::vector<std::string> Form::all(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : fields_) {
    if (key == name) values.push_back(value);
  }
  return values;
}

std::size_t Form::count(std::string_view name) const {
  std::size_t total = 0;
  for (const auto& field : fields_) total += field.first == name ? 1 : 0;
  return total;
}

std::optional<std::string> form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
      continue;
    }
    if (c != '%') {
      if (c == '\0') return std::nullopt;
      out += c;
      continue;
    }
    int high = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
    int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (high < 0 || low < 0) return std::nullopt;
    char decoded = static_cast<char>(high * 16 + low);
    if (decoded == '\0') return std::nullopt;
    out += decoded;
    i += 2;
  }
  return out;
}

std::optional<Form> parse_form(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> fields;
  while (!text.empty()) {
    std::size_t end = text.find('&');
    std::string_view pair = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (pair.empty()) continue;

    std::size_t equals = pair.find('=');
    std::optional<std::string> name = form_decode(pair.substr(0, equals));
    std::optional<std::string> value =
        form_decode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
    if (!name || !value) return std::nullopt;
    fields.emplace_back(std::move(*name), std::move(*value));
  }
  return Form(std::move(fields));
}

BasicParse parse_basic_authorization(std::string_view header, BasicCredentials& out) {
  constexpr std::string_view kScheme = "basic";
  if (header.size() < kScheme.size() || !http::iequals(header.substr(0, kScheme.size()), kScheme)) {
    return BasicParse::absent;
  }
  std::string_view rest = header.substr(kScheme.size());
  if (rest.empty() || rest.front() != ' ') return BasicParse::absent;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);

  std::optional<std::string> decoded = jose::base64_decode(rest);
  if (!decoded) return BasicParse::malformed;
  std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return BasicParse::malformed;
  std::optional<std::string> id = form_decode(std::string_view(*decoded).substr(0, colon));
  std::optional<std::string> secret = form_decode(std::string_view(*decoded).substr(colon + 1));
  if (!id || !secret || id->empty()) return BasicParse::malformed;
  out = BasicCredentials{std::move(*id), std::move(*secret)};
  return BasicParse::ok;
}

std::vector<std::string> split_spaces(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    std::size_t end = text.find(' ');
    std::string_view item = text.substr(0, end);
    if (!item.empty()) items.emplace_back(item);
    if (end == std::string_view::npos) break;
    text = text.substr(end + 1);
  }
  return items;
}

std::string join_spaces(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ' ';
    out += item;
  }
  return out;
}

}  // namespace gh::oauth2
