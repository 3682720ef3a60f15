#include "jose/jwt.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cmath>
#include <fmt/format.h>
#include <optional>

namespace gh::jose {
namespace {

gh::Unexpected<ClaimError> fail(ClaimErrorCode code, std::string message) {
  return gh::Unexpected{ClaimError{code, std::move(message)}};
}

// Reads a NumericDate claim. Absent → nullopt value; present but not a finite number → error.
gh::Expected<std::optional<double>, ClaimError> numeric_date(const boost::json::object& claims,
                                                             std::string_view name) {
  const boost::json::value* value = claims.if_contains(name);
  if (value == nullptr) return std::optional<double>();

  double seconds = 0;
  if (value->is_int64()) {
    seconds = static_cast<double>(value->get_int64());
  } else if (value->is_uint64()) {
    seconds = static_cast<double>(value->get_uint64());
  } else if (value->is_double() && std::isfinite(value->get_double())) {
    seconds = value->get_double();
  } else {
    return fail(ClaimErrorCode::malformed, fmt::format("claim \"{}\" must be a number", name));
  }
  return std::optional<double>(seconds);
}

}  // namespace

std::string_view to_string(ClaimErrorCode code) {
  switch (code) {
    case ClaimErrorCode::malformed: return "malformed";
    case ClaimErrorCode::expired: return "expired";
    case ClaimErrorCode::not_yet_valid: return "not_yet_valid";
    case ClaimErrorCode::issued_in_future: return "issued_in_future";
    case ClaimErrorCode::issuer_not_trusted: return "issuer_not_trusted";
    case ClaimErrorCode::audience_missing: return "audience_missing";
  }
  return "unknown";
}

gh::Expected<boost::json::object, ClaimError> parse_claims(std::string_view payload) {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(payload, error);
  if (error || !value.is_object()) {
    return fail(ClaimErrorCode::malformed, "JWT payload is not a JSON object");
  }
  return std::move(value.get_object());
}

gh::Expected<void, ClaimError> check_time(const boost::json::object& claims,
                                          std::chrono::system_clock::time_point now,
                                          std::chrono::seconds leeway) {
  const double now_seconds =
      std::chrono::duration<double>(now.time_since_epoch()).count();
  const double skew = static_cast<double>(leeway.count());

  auto exp = numeric_date(claims, "exp");
  if (!exp) return gh::Unexpected{exp.error()};
  auto nbf = numeric_date(claims, "nbf");
  if (!nbf) return gh::Unexpected{nbf.error()};
  auto iat = numeric_date(claims, "iat");
  if (!iat) return gh::Unexpected{iat.error()};

  // RFC 7519 §4.1.4: the token must not be accepted on or after exp.
  if (*exp && now_seconds >= **exp + skew) {
    return fail(ClaimErrorCode::expired, fmt::format("token expired at {}", **exp));
  }
  if (*nbf && now_seconds + skew < **nbf) {
    return fail(ClaimErrorCode::not_yet_valid, fmt::format("token is not valid before {}", **nbf));
  }
  if (*iat && now_seconds + skew < **iat) {
    return fail(ClaimErrorCode::issued_in_future,
                fmt::format("token is issued in the future, at {}", **iat));
  }
  return {};
}

gh::Expected<void, ClaimError> check_issuer(const boost::json::object& claims,
                                            std::span<const std::string> trusted) {
  if (trusted.empty()) return {};
  const boost::json::value* iss = claims.if_contains("iss");
  if (iss == nullptr || !iss->is_string()) {
    return fail(ClaimErrorCode::issuer_not_trusted, "token has no \"iss\" string");
  }
  const std::string_view issuer = iss->get_string();
  if (std::find(trusted.begin(), trusted.end(), issuer) == trusted.end()) {
    return fail(ClaimErrorCode::issuer_not_trusted,
                fmt::format("issuer \"{}\" is not trusted", issuer.substr(0, 256)));
  }
  return {};
}

gh::Expected<void, ClaimError> check_audience(const boost::json::object& claims,
                                              std::span<const std::string> required) {
  if (required.empty()) return {};

  std::vector<std::string_view> audiences;
  if (const boost::json::value* aud = claims.if_contains("aud")) {
    if (aud->is_string()) {
      audiences.push_back(aud->get_string());
    } else if (aud->is_array()) {
      for (const boost::json::value& entry : aud->get_array()) {
        if (!entry.is_string()) {
          return fail(ClaimErrorCode::malformed, "claim \"aud\" must contain only strings");
        }
        audiences.push_back(entry.get_string());
      }
    } else {
      return fail(ClaimErrorCode::malformed, "claim \"aud\" must be a string or an array");
    }
  }

  for (const std::string& audience : required) {
    if (std::find(audiences.begin(), audiences.end(), audience) == audiences.end()) {
      return fail(ClaimErrorCode::audience_missing,
                  fmt::format("token audience does not include \"{}\"", audience));
    }
  }
  return {};
}

std::vector<std::string> extract_scopes(const boost::json::object& claims) {
  std::vector<std::string> scopes;
  for (std::string_view name : {"scp", "scope", "scopes"}) {
    const boost::json::value* value = claims.if_contains(name);
    if (value == nullptr) continue;

    if (value->is_string()) {
      const std::string_view text = value->get_string();
      std::size_t start = 0;
      while (start <= text.size()) {
        const std::size_t end = std::min(text.find(' ', start), text.size());
        if (end > start) scopes.emplace_back(text.substr(start, end - start));
        start = end + 1;
      }
    } else if (value->is_array()) {
      for (const boost::json::value& entry : value->get_array()) {
        scopes.emplace_back(entry.is_string() ? std::string_view(entry.get_string()) : "");
      }
    }
    break;
  }
  return scopes;
}

}  // namespace gh::jose
