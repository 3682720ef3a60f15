// JWT claims (RFC 7519): decoding the payload of a verified JWS and checking the
// registered claims. The clock is passed in, so callers and tests choose the time.
#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/expected.h"

namespace gh::jose {

enum class ClaimErrorCode {
  malformed,           // payload is not a JSON object, or a claim has the wrong type
  expired,             // now >= exp + leeway
  not_yet_valid,       // now + leeway < nbf
  issued_in_future,    // now + leeway < iat
  issuer_not_trusted,  // iss missing or not in the trusted list
  audience_missing,    // a required audience is not in aud
};

std::string_view to_string(ClaimErrorCode code);

struct ClaimError {
  ClaimErrorCode code;
  std::string message;
};

// Parses a JWS payload as a JWT claims set, which must be a JSON object.
gh::Expected<boost::json::object, ClaimError> parse_claims(std::string_view payload);

// Checks `exp`, `nbf` and `iat` when present, allowing `leeway` of clock skew in each
// direction. Each must be a JSON number (seconds since the epoch, fractions allowed). A
// token without `exp` passes.
gh::Expected<void, ClaimError> check_time(const boost::json::object& claims,
                                          std::chrono::system_clock::time_point now,
                                          std::chrono::seconds leeway);

// Checks that `iss` equals one of `trusted` exactly. An empty list trusts every issuer,
// including a token with no `iss`.
gh::Expected<void, ClaimError> check_issuer(const boost::json::object& claims,
                                            std::span<const std::string> trusted);

// Checks that every value in `required` appears in `aud`, which may be one string or an
// array of strings. An empty list passes.
gh::Expected<void, ClaimError> check_audience(const boost::json::object& claims,
                                              std::span<const std::string> required);

// Returns the scopes from the first present claim of `scp`, `scope` and `scopes`: a
// string is split on spaces (empty parts dropped), an array gives its elements. As in
// Oathkeeper, a non-string array element becomes "". No claim gives an empty list.
std::vector<std::string> extract_scopes(const boost::json::object& claims);

}  // namespace gh::jose
