#include "http/url.h"

#include <boost/container/small_vector.hpp>

namespace gh::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Control bytes (NUL, CR, LF, DEL, ...) have no place in a path. Decoded, they would end up
// in logs and in header values that templates copy from the path.
bool is_control(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

bool is_path_safe(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-': case '.': case '_': case '~':                       // unreserved
    case '!': case '$': case '&': case '\'': case '(': case ')':  // sub-delims
    case '*': case '+': case ',': case ';': case '=':
    case ':': case '@': case '/':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (is_control(c)) return std::nullopt;
    if (c != '%') {
      out += c;
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    char decoded = static_cast<char>(high * 16 + low);
    if (is_control(decoded)) return std::nullopt;
    out += decoded;
    i += 2;
  }
  return out;
}

std::string normalize_path(std::string_view decoded_path) {
  if (decoded_path.empty()) return {};

  // Paths of up to 16 segments stay in the inline storage, without a heap allocation.
  boost::container::small_vector<std::string_view, 16> segments;
  size_t start = 0;
  bool trailing_slash = false;
  while (start <= decoded_path.size()) {
    size_t end = decoded_path.find('/', start);
    if (end == std::string_view::npos) end = decoded_path.size();
    std::string_view segment = decoded_path.substr(start, end - start);
    bool last = end == decoded_path.size();

    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      trailing_slash = last;
    } else if (segment == ".") {
      trailing_slash = last;
    } else if (segment.empty()) {
      trailing_slash = last && !segments.empty();
    } else {
      segments.push_back(segment);
      trailing_slash = false;
    }
    start = end + 1;
  }

  std::string out;
  out.reserve(decoded_path.size() + 1);
  for (std::string_view segment : segments) {
    out += '/';
    out += segment;
  }
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

std::string encode_path(std::string_view decoded_path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(decoded_path.size());
  for (char c : decoded_path) {
    auto byte = static_cast<unsigned char>(c);
    if (is_path_safe(byte)) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
  return out;
}

Target split_target(std::string_view target) {
  Target result;
  size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  size_t question = target.find('?');
  if (question == std::string_view::npos) {
    result.path = target;
    return result;
  }
  result.path = target.substr(0, question);
  result.query = target.substr(question + 1);
  result.has_query = true;
  return result;
}

bool is_valid_host(std::string_view host) {
  if (host.empty() || host.size() > 261) return false;

  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : host.substr(1, close - 1)) {
      bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex && c != ':' && c != '.') return false;
    }
    std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
    name = {};
    if (!rest.empty() && port.empty()) return false;
  } else {
    size_t colon = host.find(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      port = host.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (name.empty()) return false;
    for (char c : name) {
      bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '.' || c == '_' || c == '~';
      if (!allowed) return false;
    }
  }

  if (port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<std::string> query_value(std::string_view raw_query, std::string_view name) {
  size_t start = 0;
  while (start <= raw_query.size()) {
    size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    std::string_view pair = raw_query.substr(start, end - start);
    size_t equals = pair.find('=');
    std::string_view key = pair.substr(0, equals);
    std::string_view value = equals == std::string_view::npos ? "" : pair.substr(equals + 1);

    std::string plus_decoded_key(key);
    for (char& c : plus_decoded_key) {
      if (c == '+') c = ' ';
    }
    std::optional<std::string> decoded_key = percent_decode(plus_decoded_key);
    if (decoded_key && *decoded_key == name) {
      std::string plus_decoded(value);
      for (char& c : plus_decoded) {
        if (c == '+') c = ' ';
      }
      return percent_decode(plus_decoded);
    }
    start = end + 1;
  }
  return std::nullopt;
}

}  // namespace gh::http
