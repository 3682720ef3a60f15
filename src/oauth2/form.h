// application/x-www-form-urlencoded parsing (WHATWG URL standard, as RFC 6749 uses it) and
// the HTTP Basic credentials of RFC 6749 §2.3.1.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gh::oauth2 {

// Form fields in order; a name may repeat (for example `audience`).
class Form {
 public:
  Form() = default;
  explicit Form(std::vector<std::pair<std::string, std::string>> fields) : fields_(std::move(fields)) {}

  // The first value of `name`, or nullopt.
  std::optional<std::string> get(std::string_view name) const;
  // The first value of `name`, or "" when absent.
  std::string value(std::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string> all(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // How many times `name` occurs.
  std::size_t count(std::string_view name) const;
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Parses a form body or query. '+' means a space and %XX an escaped byte. Returns nullopt
// for a malformed escape or a NUL byte, either of which makes the request invalid.
std::optional<Form> parse_form(std::string_view text);

// Decodes one form-encoded component ('+' and %XX).
std::optional<std::string> form_decode(std::string_view text);

struct BasicCredentials {
  std::string client_id;
  std::string client_secret;
};

enum class BasicParse { absent, malformed, ok };

// Reads `Authorization: Basic base64(id:secret)`. The id and secret are form-decoded after
// the base64 step, as RFC 6749 §2.3.1 requires, so "a%3Ab" is the id "a:b". Returns absent
// when the header uses another scheme or is missing.
BasicParse parse_basic_authorization(std::string_view header, BasicCredentials& out);

// Splits a space-separated list (scope, audience), dropping empty items.
std::vector<std::string> split_spaces(std::string_view text);

// Joins items with single spaces.
std::string join_spaces(const std::vector<std::string>& items);

}  // namespace gh::oauth2
