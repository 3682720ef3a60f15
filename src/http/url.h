// Request-path handling shared by the proxy and the decision API.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gh::http {

// Decodes %XX escapes. Returns nullopt for a malformed escape or a control byte such as NUL,
// CR or LF (raw or encoded), which the proxy rejects with 400 rather than guess at.
std::optional<std::string> percent_decode(std::string_view text);

// Normalizes a decoded path for rule matching and forwarding: dot segments are resolved,
// repeated slashes collapse to one, the result starts with '/'; a trailing slash is kept
// (it is significant to many upstreams). "" stays "".
std::string normalize_path(std::string_view decoded_path);

// Percent-encodes a decoded path for the request line sent upstream: every byte outside
// RFC 3986 unreserved, sub-delims, ':', '@' and '/' is escaped, '%' included.
std::string encode_path(std::string_view decoded_path);

// Splits a request target into path and raw query (without '?'); a fragment is dropped.
struct Target {
  std::string_view path;
  std::string_view query;
  bool has_query = false;
};
Target split_target(std::string_view target);

// True for a Host header value of the form host[:port]: a DNS name or IPv4 address (letters,
// digits, '-', '.', '_', '~') or a bracketed IPv6 address, and an optional port of 1 to 5
// digits. Anything else (a path, userinfo, spaces, an empty value) is rejected, because the
// host becomes part of the string that access rules match.
bool is_valid_host(std::string_view host);

// Returns the first value of `name` in an application/x-www-form-urlencoded query, decoded.
std::optional<std::string> query_value(std::string_view raw_query, std::string_view name);

}  // namespace gh::http
