#include "oauth2/client.h"

#include <ctime>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "jose/jwk.h"
#include "jose/jws.h"
#include "oauth2/crypto.h"

namespace gh::oauth2 {
namespace {

namespace json = boost::json;

constexpr std::string_view kAuthMethods[] = {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"};

ClientError invalid(std::string description) { return ClientError{"invalid_client_metadata", std::move(description)}; }

// Reads an optional string field; a present non-string is an error.
bool read_string(const json::object& object, std::string_view key, std::string& out, std::optional<ClientError>& error) {
  const json::value* value = object.if_contains(key);
  if (!value || value->is_null()) return true;
  if (!value->is_string()) {
    error = invalid(fmt::format("Field {} must be a string.", key));
    return false;
  }
  out = std::string(value->as_string());
  return true;
}

bool read_strings(const json::object& object, std::string_view key, std::vector<std::string>& out,
                  std::optional<ClientError>& error) {
  const json::value* value = object.if_contains(key);
  if (!value || value->is_null()) return true;
  if (!value->is_array()) {
    error = invalid(fmt::format("Field {} must be an array of strings.", key));
    return false;
  }
  out.clear();
  for (const json::value& item : value->as_array()) {
    if (!item.is_string()) {
      error = invalid(fmt::format("Field {} must be an array of strings.", key));
      return false;
    }
    out.emplace_back(item.as_string());
  }
  return true;
}

json::array to_array(const std::vector<std::string>& items) {
  json::array array;
  for (const std::string& item : items) array.emplace_back(item);
  return array;
}

std::optional<ClientError> check_fields(const Client& client) {
  if (client.client_id.size() > kMaxClientIdBytes) {
    return invalid(fmt::format("Field client_id is longer than {} bytes.", kMaxClientIdBytes));
  }
  bool known_method = std::find(std::begin(kAuthMethods), std::end(kAuthMethods),
                                client.token_endpoint_auth_method) != std::end(kAuthMethods);
  if (!known_method) {
    return invalid(fmt::format("Field token_endpoint_auth_method has the unsupported value '{}'; use "
                               "client_secret_basic, client_secret_post, private_key_jwt or none.",
                               client.token_endpoint_auth_method));
  }
  if (!client.access_token_strategy.empty() && client.access_token_strategy != "opaque" &&
      client.access_token_strategy != "jwt") {
    return invalid("Field access_token_strategy must be 'opaque' or 'jwt'.");
  }
  if (!client.token_endpoint_auth_signing_alg.empty()) {
    auto alg = jose::parse_algorithm(client.token_endpoint_auth_signing_alg);
    if (!alg || *alg == jose::Algorithm::hs256 || *alg == jose::Algorithm::hs384 || *alg == jose::Algorithm::hs512) {
      return invalid("Field token_endpoint_auth_signing_alg must name an asymmetric JWS algorithm such as RS256.");
    }
  }
  if (client.token_endpoint_auth_method == "private_key_jwt") {
    if (!client.jwks) return invalid("Field jwks is required when token_endpoint_auth_method is private_key_jwt.");
    auto keys = jose::jwks_from_json(*client.jwks);
    if (!keys) return invalid("Field jwks is not a valid JSON Web Key Set: " + keys.error());
    if (keys->keys().empty()) return invalid("Field jwks contains no usable key.");
    for (const jose::Jwk& key : keys->keys()) {
      if (key.is_private() || key.type() == jose::KeyType::oct) {
        return invalid("Field jwks must contain public keys only.");
      }
    }
  }
  return std::nullopt;
}

}  // namespace

bool Client::allows_grant(std::string_view grant_type) const {
  if (grant_types.empty()) return grant_type == "authorization_code";
  return std::find(grant_types.begin(), grant_types.end(), grant_type) != grant_types.end();
}

gh::Expected<ClientInput, ClientError> client_from_json(const json::value& value) {
  if (!value.is_object()) return gh::Unexpected(invalid("The request body must be a JSON object."));
  const json::object& object = value.as_object();

  ClientInput input;
  Client& client = input.client;
  client.token_endpoint_auth_method.clear();
  std::string secret;
  std::optional<ClientError> error;
  bool read = read_string(object, "client_id", client.client_id, error) &&
              read_string(object, "client_name", client.client_name, error) &&
              read_string(object, "client_secret", secret, error) &&
              read_strings(object, "grant_types", client.grant_types, error) &&
              read_strings(object, "response_types", client.response_types, error) &&
              read_string(object, "scope", client.scope, error) &&
              read_strings(object, "audience", client.audience, error) &&
              read_string(object, "token_endpoint_auth_method", client.token_endpoint_auth_method, error) &&
              read_string(object, "token_endpoint_auth_signing_alg", client.token_endpoint_auth_signing_alg, error) &&
              read_string(object, "access_token_strategy", client.access_token_strategy, error) &&
              read_string(object, "owner", client.owner, error);
  if (!read) return gh::Unexpected(std::move(*error));

  if (client.token_endpoint_auth_method.empty()) client.token_endpoint_auth_method = "client_secret_basic";
  if (const json::value* jwks = object.if_contains("jwks"); jwks && !jwks->is_null()) client.jwks = *jwks;
  if (const json::value* metadata = object.if_contains("metadata")) client.metadata = *metadata;
  if (!secret.empty()) {
    if (secret.size() < kMinSecretBytes) {
      return gh::Unexpected(invalid(fmt::format("Field client_secret must be at least {} characters long.", kMinSecretBytes)));
    }
    input.secret = std::move(secret);
  }

  if (auto problem = check_fields(client)) return gh::Unexpected(std::move(*problem));
  return input;
}

json::object client_to_json(const Client& client, const std::optional<std::string>& secret) {
  json::object object;
  object["client_id"] = client.client_id;
  object["client_name"] = client.client_name;
  if (secret) object["client_secret"] = *secret;
  object["grant_types"] = to_array(client.grant_types);
  object["response_types"] = to_array(client.response_types);
  object["scope"] = client.scope;
  object["audience"] = to_array(client.audience);
  object["owner"] = client.owner;
  object["token_endpoint_auth_method"] = client.token_endpoint_auth_method;
  if (!client.token_endpoint_auth_signing_alg.empty()) {
    object["token_endpoint_auth_signing_alg"] = client.token_endpoint_auth_signing_alg;
  }
  if (client.jwks) object["jwks"] = *client.jwks;
  if (!client.access_token_strategy.empty()) object["access_token_strategy"] = client.access_token_strategy;
  object["metadata"] = client.metadata;
  object["client_secret_expires_at"] = 0;
  object["created_at"] = format_rfc3339(client.created_at);
  object["updated_at"] = format_rfc3339(client.updated_at);
  return object;
}

std::string client_data_to_text(const Client& client) {
  json::object object = client_to_json(client);
  object.erase("client_id");
  object.erase("created_at");
  object.erase("updated_at");
  object.erase("client_secret_expires_at");
  return json::serialize(object);
}

bool client_data_from_text(std::string_view text, Client& client) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return false;
  std::string id = client.client_id;
  std::string hash = client.secret_hash;
  int64_t created = client.created_at;
  int64_t updated = client.updated_at;
  auto input = client_from_json(value);
  if (!input) return false;
  client = std::move(input->client);
  client.client_id = std::move(id);
  client.secret_hash = std::move(hash);
  client.created_at = created;
  client.updated_at = updated;
  return true;
}

std::string generate_client_secret() {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  constexpr std::size_t kLength = 26;
  std::string secret;
  // Rejection sampling keeps every character equally likely: 248 is the largest multiple
  // of 62 that fits in a byte.
  while (secret.size() < kLength) {
    for (unsigned char byte : random_bytes(kLength)) {
      if (byte < 248 && secret.size() < kLength) secret += kAlphabet[byte % kAlphabet.size()];
    }
  }
  return secret;
}

std::string format_rfc3339(int64_t unix_seconds) {
  std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm parts{};
  gmtime_r(&time, &parts);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                     parts.tm_hour, parts.tm_min, parts.tm_sec);
}

}  // namespace gh::oauth2
