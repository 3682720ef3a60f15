#include "oauth2/response.h"

#include <boost/json.hpp>

namespace gh::oauth2 {
namespace {

void add_no_store(Response& response) {
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Pragma", "no-cache");
}

}  // namespace

OAuthError invalid_request(std::string description) { return OAuthError{400, "invalid_request", std::move(description), false}; }

OAuthError invalid_client(std::string description, bool basic_challenge) {
  return OAuthError{401, "invalid_client", std::move(description), basic_challenge};
}

OAuthError server_error() {
  return OAuthError{500, "server_error", "The authorization server encountered an unexpected condition.", false};
}

Response error_response(const OAuthError& error) {
  // Hydra replaces double quotes in descriptions with single quotes; clients that show the
  // text raw then need no escaping.
  std::string description = error.description;
  std::replace(description.begin(), description.end(), '"', '\'');
  Response response = json_response(error.status, boost::json::object{{"error", error.error}, {"error_description", description}});
  if (error.status == 401 && error.basic_challenge) {
    response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"gatehouse\"");
  }
  return response;
}

Response json_response(unsigned status, const boost::json::value& body) {
  Response response;
  response.status = status;
  response.content_type = std::string(kJsonContentType);
  response.body = boost::json::serialize(body);
  add_no_store(response);
  return response;
}

}  // namespace gh::oauth2
