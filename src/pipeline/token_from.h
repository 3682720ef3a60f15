// Where an authenticator reads a bearer token from: the `token_from` key shared by jwt,
// bearer_token and oauth2_introspection.
#pragma once

#include <string>

#include <boost/json.hpp>

#include "common/expected.h"
#include "pipeline/session.h"

namespace gh::pipeline {

struct TokenLocation {
  enum class Kind {
    authorization_bearer,  // `Authorization: Bearer <token>`, scheme case-insensitive
    header,                // the raw value of header `name`
    query_parameter,       // the decoded value of query parameter `name`
    cookie,                // the value of cookie `name`
  };
  Kind kind = Kind::authorization_bearer;
  std::string name;
};

// Reads a `token_from` value. Null, an absent key (pass nullptr) and `{}` select the
// Authorization header. `{header: "Authorization"}`, spelled exactly so, also parses the
// Bearer scheme, while any other header name (`authorization` included) yields the raw
// value, as Oathkeeper does. The error names the problem.
Expected<TokenLocation, std::string> parse_token_from(const boost::json::value* token_from);

// Returns the token at `location`, or an empty string when it is absent. An empty token
// means the authenticator is not responsible for the request.
std::string extract_token(const Request& request, const TokenLocation& location);

}  // namespace gh::pipeline
