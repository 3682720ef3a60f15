// Client authentication at the token and revocation endpoints (RFC 6749 §2.3, RFC 7523
// §2.2): client_secret_basic, client_secret_post and private_key_jwt. A client must use the
// method it registered, and exactly one method per request.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "common/expected.h"
#include "oauth2/client.h"
#include "oauth2/form.h"
#include "oauth2/response.h"
#include "oauth2/secret_verifier.h"
#include "oauth2/storage/storage.h"

namespace gh::oauth2 {

inline constexpr std::string_view kJwtBearerAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct ClientAuthRequest {
  const Form& form;
  std::optional<std::string> authorization;  // the Authorization header, when present
};

struct ClientAuthContext {
  Storage& storage;
  SecretVerifier& secrets;
  std::string token_endpoint;  // the URL a client assertion's `aud` must contain
  int64_t now = 0;             // unix seconds
};

// Returns the authenticated client, or the error to send: 400 invalid_request for missing
// or malformed credentials, 401 invalid_client for an unknown client, a wrong secret, a
// method other than the registered one or a bad assertion, 400 jti_known for a replayed
// assertion. A client registered with `none` that sends only its id is returned as is;
// the caller decides what it may do. Blocking (storage, PBKDF2).
gh::Expected<Client, OAuthError> authenticate_client(const ClientAuthRequest& request, ClientAuthContext& context);

}  // namespace gh::oauth2
