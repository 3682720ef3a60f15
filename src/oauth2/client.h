// The OAuth2 client registration, with Hydra's JSON field names, and its validation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/expected.h"

namespace gh::oauth2 {

struct Client {
  std::string client_id;
  std::string client_name;
  std::string secret_hash;  // PHC string; empty for clients without a secret
  std::vector<std::string> grant_types;
  std::vector<std::string> response_types;
  std::string scope;  // space-separated
  std::vector<std::string> audience;
  std::string token_endpoint_auth_method = "client_secret_basic";
  std::string token_endpoint_auth_signing_alg;  // empty: any asymmetric JWS algorithm
  std::optional<boost::json::value> jwks;        // for private_key_jwt
  std::string access_token_strategy;             // "", "opaque" or "jwt"; "" uses the config
  std::string owner;
  boost::json::value metadata;  // free JSON, null when absent
  int64_t created_at = 0;       // unix seconds
  int64_t updated_at = 0;

  // Effective grant types: an empty list means authorization_code only, as in Hydra.
  bool allows_grant(std::string_view grant_type) const;
};

// A client as read from an admin request, with the plain secret when one was given.
struct ClientInput {
  Client client;
  std::optional<std::string> secret;
};

// An admin-API problem, returned as Hydra's error JSON (`error`, `error_description`).
struct ClientError {
  std::string error = "invalid_client_metadata";
  std::string description;
};

// Shortest accepted client secret, as in Hydra.
inline constexpr std::size_t kMinSecretBytes = 6;
// Longest accepted client id, a bound on storage keys and log lines.
inline constexpr std::size_t kMaxClientIdBytes = 255;

// Reads and validates a client from admin JSON. Unknown fields are ignored, as Hydra's
// read-only and browser-flow fields may be sent back by SDKs.
gh::Expected<ClientInput, ClientError> client_from_json(const boost::json::value& json);

// The client as admin JSON. `secret` is included only when given (on create).
boost::json::object client_to_json(const Client& client, const std::optional<std::string>& secret = std::nullopt);

// The stored form: every field except the id, the secret hash and the timestamps.
std::string client_data_to_text(const Client& client);
// Reverses client_data_to_text onto `client`. Returns false for corrupt data.
bool client_data_from_text(std::string_view text, Client& client);

// A generated client secret: 26 characters from an alphabet of 62 (about 154 bits).
std::string generate_client_secret();

// RFC 3339 UTC text of a unix time ("2024-05-01T12:00:00Z").
std::string format_rfc3339(int64_t unix_seconds);

}  // namespace gh::oauth2
