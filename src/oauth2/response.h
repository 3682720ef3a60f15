// Responses of the token service, built away from the HTTP layer so the endpoint logic can
// be tested without a socket, and its OAuth2 error body (RFC 6749 §5.2, in Hydra's shape).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace gh::oauth2 {

inline constexpr std::string_view kJsonContentType = "application/json;charset=UTF-8";

struct Response {
  unsigned status = 200;
  std::string content_type;  // empty for a response without a body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// An OAuth2 error: `error` is the RFC 6749 / RFC 7009 / Hydra code, `description` the
// human-readable text sent as error_description.
struct OAuthError {
  unsigned status = 400;
  std::string error;
  std::string description;
  // Adds `WWW-Authenticate: Basic` to a 401, as RFC 6749 §5.2 asks when the client
  // authenticated with the Authorization header.
  bool basic_challenge = false;
};

OAuthError invalid_request(std::string description);
OAuthError invalid_client(std::string description, bool basic_challenge);
OAuthError server_error();

// `{"error": ..., "error_description": ...}` with Cache-Control: no-store and Pragma: no-cache.
Response error_response(const OAuthError& error);

// A JSON response with the no-store headers every token-service response carries.
Response json_response(unsigned status, const boost::json::value& body);

}  // namespace gh::oauth2
