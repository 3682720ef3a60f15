// Header-name rules shared by the proxy, the decision API and the pipeline.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/fields.hpp>

namespace gh::http {

// Name/value pairs in order; names in canonical MIME form ("X-User").
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Canonical MIME form as Go writes it: first letter and every letter after '-' upper-case,
// the rest lower-case. Names with bytes outside RFC 9110 token characters are returned
// unchanged.
std::string canonical_header_name(std::string_view name);

bool iequals(std::string_view a, std::string_view b);

// True when two header names are equal ignoring case and treating '_' as '-'.
bool same_name_modulo_underscores(std::string_view a, std::string_view b);

// `text` without leading and trailing spaces and tabs (optional whitespace, RFC 9110 5.6.3).
std::string_view trim(std::string_view text);

// True for a header that is valid as an HTTP field name (RFC 9110 token).
bool is_token(std::string_view name);

// True when a field value contains no CR, LF or NUL (it cannot split the header block).
bool is_safe_field_value(std::string_view value);

// Removes hop-by-hop headers (Connection, Keep-Alive, Proxy-Connection, Proxy-Authenticate,
// Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade) and every header named in
// Connection. The message's body framing is the caller's to restore.
void remove_hop_by_hop(boost::beast::http::fields& fields);

// True when a Connection header of `fields` lists `name` (compared ignoring case), which makes
// that header hop-by-hop.
bool listed_in_connection(const boost::beast::http::fields& fields, std::string_view name);

// Removes X-Forwarded-* (any header whose name starts with "x-forwarded") and Forwarded.
void remove_forwarded(boost::beast::http::fields& fields);

// Finds cookie `name` in the Cookie headers; stores its value (quotes removed) in `value`.
bool find_cookie(const boost::beast::http::fields& fields, std::string_view name,
                 std::string* value);

}  // namespace gh::http
