// The OAuth 2.0 client credentials grant (RFC 6749 §4.4), used two ways:
//
//  - the oauth2_client_credentials authenticator, which takes HTTP Basic credentials from
//    the request and accepts them when the token endpoint issues a token for them;
//  - the pre_authorization of oauth2_introspection, which gets a token for gatehouse itself
//    and sends it to the introspection endpoint.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "common/expected.h"
#include "http/client.h"
#include "pipeline/handler.h"
#include "pipeline/remote_call.h"

namespace gh::pipeline::authn {

struct GrantRequest {
  std::string token_url;
  std::string client_id;
  std::string client_secret;
  std::vector<std::string> scopes;  // sent space-separated as `scope` when not empty
  std::string audience;             // sent as `audience` when not empty
  RetryPolicy retry;
};

struct GrantedToken {
  std::string access_token;
  std::optional<std::chrono::seconds> expires_in;  // absent when the endpoint omits it
};

// Sends the grant: a form POST with the client authenticated by HTTP Basic (id and secret
// form-encoded first, as RFC 6749 §2.3.1 requires). Retries per `request.retry`.
boost::asio::awaitable<Expected<http::ClientResponse, http::ClientError>> send_grant(const GrantRequest& request);

// Reads a successful token response. Returns nullopt unless the body is a JSON object with
// a non-empty string `access_token`.
std::optional<GrantedToken> parse_token_response(std::string_view body);

// A client credentials token for gatehouse's own calls. The token is reused until shortly
// before it expires; when several requests need a new one at once, one of them fetches it
// and the others wait for that result.
class ClientTokenSource {
 public:
  explicit ClientTokenSource(GrantRequest request) : request_(std::move(request)) {}

  // Returns a valid access token, or the error for the client (502, 503, 504 or 429).
  boost::asio::awaitable<Expected<std::string, Error>> token();

  // Drops `token` when it is still the cached one, so the next call fetches a new one.
  void invalidate(const std::string& token);

 private:
  GrantRequest request_;
  std::mutex mutex_;
  std::string token_;
  std::chrono::steady_clock::time_point refresh_at_{};
  bool fetching_ = false;
};

// Returns the token source shared by every handler with the same grant settings, so rule
// overrides and reloads reuse one token.
std::shared_ptr<ClientTokenSource> shared_token_source(const GrantRequest& request);

// oauth2_client_credentials: accepts the request's HTTP Basic credentials when the token
// endpoint issues a token for them with the `required_scope`; the subject is the client id.
Expected<std::shared_ptr<const Authenticator>, std::string> make_client_credentials(
    const boost::json::object& config);

}  // namespace gh::pipeline::authn
