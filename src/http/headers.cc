#include "http/headers.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <boost/beast/http/field.hpp>
#include <boost/container/small_vector.hpp>

namespace gh::http {
namespace {

namespace bhttp = boost::beast::http;

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool is_token_char(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// The hop-by-hop fields of RFC 9110 section 7.6.1, with the Proxy-Connection of old clients.
bool is_hop_by_hop(bhttp::field field) {
  switch (field) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::proxy_authenticate:
    case bhttp::field::proxy_authorization:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
    case bhttp::field::upgrade:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool same_name_modulo_underscores(std::string_view a, std::string_view b) {
  auto fold = [](char c) { return c == '_' ? '-' : lower(c); };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return fold(x) == fold(y); });
}

bool is_token(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return is_token_char(static_cast<unsigned char>(c));
  });
}

bool is_safe_field_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string canonical_header_name(std::string_view name) {
  std::string out(name);
  if (!is_token(name)) return out;
  bool upper_next = true;
  for (char& c : out) {
    c = upper_next ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : lower(c);
    upper_next = c == '-';
  }
  return out;
}

namespace {

// Returns the non-empty names listed in the Connection headers of `fields`, trimmed. The views
// point into the Connection values.
boost::container::small_vector<std::string_view, 8> connection_tokens(const bhttp::fields& fields) {
  boost::container::small_vector<std::string_view, 8> tokens;
  for (auto [field_it, field_end] = fields.equal_range(bhttp::field::connection); field_it != field_end; ++field_it) {
    std::string_view value = field_it->value();
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string_view::npos) comma = value.size();
      std::string_view token = trim(value.substr(start, comma - start));
      if (!token.empty()) tokens.push_back(token);
      start = comma + 1;
    }
  }
  return tokens;
}

}  // namespace

void remove_hop_by_hop(bhttp::fields& fields) {
  // Names listed in Connection are hop-by-hop too (RFC 9110 section 7.6.1). The views point
  // into the Connection values, so those fields are erased last. Connection never strips
  // Content-Length or Host. Without the length, the next hop would read a forwarded body as a
  // new request (request smuggling). Without Host, the upstream would not see the host the
  // rule was matched against.
  auto listed = connection_tokens(fields);
  listed.erase(std::remove_if(listed.begin(), listed.end(),
                              [](std::string_view token) {
                                return iequals(token, "content-length") || iequals(token, "host");
                              }),
               listed.end());

  // One pass over the fields instead of one lookup per name.
  for (auto field = fields.begin(); field != fields.end();) {
    const bool listed_by_connection = std::any_of(listed.begin(), listed.end(), [&](std::string_view name) {
      return iequals(field->name_string(), name);
    });
    const bool erase = field->name() != bhttp::field::connection &&
                       (is_hop_by_hop(field->name()) || listed_by_connection);
    field = erase ? fields.erase(field) : std::next(field);
  }
  fields.erase(bhttp::field::connection);
}

bool listed_in_connection(const bhttp::fields& fields, std::string_view name) {
  const auto tokens = connection_tokens(fields);
  return std::any_of(tokens.begin(), tokens.end(), [&](std::string_view token) { return iequals(token, name); });
}

void remove_forwarded(bhttp::fields& fields) {
  std::vector<std::string> names;
  for (const auto& field : fields) {
    std::string_view name = field.name_string();
    if (name.size() >= 11 && iequals(name.substr(0, 11), "x-forwarded")) {
      names.emplace_back(name);
    }
  }
  for (const std::string& name : names) fields.erase(name);
  fields.erase(bhttp::field::forwarded);
}

bool find_cookie(const bhttp::fields& fields, std::string_view name, std::string* value) {
  for (auto [field_it, field_end] = fields.equal_range(bhttp::field::cookie); field_it != field_end; ++field_it) {
    const auto& field = *field_it;
    std::string_view list = field.value();
    size_t start = 0;
    while (start < list.size()) {
      size_t end = list.find(';', start);
      if (end == std::string_view::npos) end = list.size();
      std::string_view pair = trim(list.substr(start, end - start));
      size_t equals = pair.find('=');
      if (equals != std::string_view::npos && pair.substr(0, equals) == name) {
        std::string_view found = pair.substr(equals + 1);
        if (found.size() >= 2 && found.front() == '"' && found.back() == '"') {
          found = found.substr(1, found.size() - 2);
        }
        if (value != nullptr) *value = std::string(found);
        return true;
      }
      start = end + 1;
    }
  }
  return false;
}

}  // namespace gh::http
