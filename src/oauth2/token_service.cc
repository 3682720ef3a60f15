// Public endpoints: token, revocation, discovery, JWKS, readiness.
#include "oauth2/token_service.h"

#include <ctime>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "jose/base64url.h"
#include "jose/generate.h"
#include "jose/jws.h"
#include "oauth2/client_auth.h"
#include "oauth2/crypto.h"
#include "oauth2/opaque_token.h"

namespace gh::oauth2 {
namespace {

namespace json = boost::json;

constexpr std::string_view kClientCredentials = "client_credentials";

std::vector<std::string> system_secrets_of(const Settings& settings) {
  if (!settings.system_secrets.empty()) return settings.system_secrets;
  // Only the memory DSN gets here (read_settings requires secrets otherwise): its tokens
  // die with the process anyway, so a random secret loses nothing.
  spdlog::warn("token service: oauth2.secrets.system is not set; using a random secret for this process");
  return {jose::base64url_encode(random_bytes(32))};
}

json::array to_array(const std::vector<std::string>& items) {
  json::array array;
  for (const std::string& item : items) array.emplace_back(item);
  return array;
}

// A JWS has exactly two dots; an opaque token starts with its prefix.
bool looks_like_jws(std::string_view token) {
  return !token.starts_with(kAccessTokenPrefix) && std::count(token.begin(), token.end(), '.') == 2;
}

std::string_view jws_signature(std::string_view token) { return token.substr(token.rfind('.') + 1); }

}  // namespace

TokenService::TokenService(Settings settings, std::unique_ptr<Storage> storage, Clock clock)
    : settings_(std::move(settings)),
      storage_(std::move(storage)),
      clock_(clock ? std::move(clock) : Clock([] { return static_cast<int64_t>(std::time(nullptr)); })),
      system_secrets_(system_secrets_of(settings_)),
      keys_(*storage_, system_secrets_, settings_.jwt_algorithm, settings_.access_token_ttl, clock_) {}

gh::Expected<void, std::string> TokenService::prepare() {
  if (settings_.dsn == "memory") {
    auto migrated = storage_->migrate();
    if (!migrated) return gh::Unexpected("cannot create the in-memory database: " + migrated.error().message);
  }
  auto version = storage_->schema_version();
  if (!version) return gh::Unexpected("cannot read the schema version: " + version.error().message);
  int expected = latest_schema_version();
  if (*version < expected) {
    return gh::Unexpected(fmt::format("the database schema is at version {} but this gatehouse needs version {}; "
                                      "run `gatehouse migrate sql` with the same DSN first",
                                      *version, expected));
  }
  auto keys = keys_.keys(true);
  if (!keys) return gh::Unexpected(keys.error());
  return {};
}

Response TokenService::token(const Form& form, const std::optional<std::string>& authorization) {
  if (form.empty()) return error_response(invalid_request("The request body is empty; send form-encoded parameters."));
  std::string grant_type = form.value("grant_type");
  if (grant_type.empty()) return error_response(invalid_request("The grant_type parameter is missing."));
  for (std::string_view name : {"grant_type", "scope"}) {
    if (form.count(name) > 1) return error_response(invalid_request(fmt::format("The {} parameter is repeated.", name)));
  }

  int64_t now = clock_();
  ClientAuthContext context{*storage_, secrets_, settings_.endpoint("/oauth2/token"), now};
  auto client = authenticate_client(ClientAuthRequest{form, authorization}, context);

  // An unknown grant type is reported before a failed client authentication, as Hydra does.
  if (grant_type != kClientCredentials) {
    return error_response(OAuthError{400, "unsupported_grant_type",
                                     fmt::format("The grant type '{}' is not supported; this server issues tokens for "
                                                 "client_credentials only.",
                                                 grant_type.substr(0, 64)),
                                     false});
  }
  if (!client) return error_response(client.error());

  std::vector<std::string> allowed_scopes = split_spaces(client->scope);
  std::vector<std::string> scopes = split_spaces(form.value("scope"));
  for (const std::string& scope : scopes) {
    if (!scope_allowed(settings_.scope_strategy, allowed_scopes, scope)) {
      return error_response(OAuthError{400, "invalid_scope",
                                       fmt::format("The client is not allowed to request the scope '{}'.", scope.substr(0, 128)),
                                       false});
    }
  }
  std::vector<std::string> audience;
  for (const std::string& value : form.all("audience")) {
    for (std::string& item : split_spaces(value)) audience.push_back(std::move(item));
  }
  for (const std::string& item : audience) {
    if (!audience_allowed(client->audience, item)) {
      return error_response(invalid_request(
          fmt::format("The requested audience '{}' is not in the client's audience list.", item.substr(0, 128))));
    }
  }
  if (client->token_endpoint_auth_method == "none") {
    return error_response(OAuthError{400, "invalid_grant", "A public client (token_endpoint_auth_method none) may not use "
                                                           "the client_credentials grant.", false});
  }
  if (!client->allows_grant(kClientCredentials)) {
    return error_response(OAuthError{400, "unauthorized_client",
                                     "The client is not allowed to use the client_credentials grant; add it to the "
                                     "client's grant_types.", false});
  }

  TokenRecord record;
  record.client_id = client->client_id;
  record.subject = client->client_id;
  record.scopes = scopes;
  record.audience = audience;
  record.issued_at = now;
  record.expires_at = now + settings_.access_token_ttl.count();
  record.strategy = client->access_token_strategy.empty() ? settings_.access_token_strategy : client->access_token_strategy;

  std::string access_token;
  std::string signature;
  if (record.strategy == "jwt") {
    auto jwt = issue_jwt(record, signature);
    if (!jwt) return error_response(jwt.error());
    access_token = std::move(*jwt);
  } else {
    OpaqueToken opaque = make_opaque_token(system_secrets_.front());
    access_token = std::move(opaque.token);
    signature = std::move(opaque.signature);
  }
  record.signature_hash = signature_key(signature);
  if (auto stored = storage_->insert_token(record); !stored) {
    spdlog::error("token service: cannot store a token of client {}: {}", record.client_id, stored.error().message);
    return error_response(server_error());
  }

  return json_response(200, json::object{{"access_token", access_token},
                                         {"expires_in", record.expires_at - now},
                                         {"scope", join_spaces(scopes)},
                                         {"token_type", "bearer"}});
}

gh::Expected<std::string, OAuthError> TokenService::issue_jwt(const TokenRecord& record, std::string& signature) {
  auto ring = keys_.keys();
  if (!ring || !(*ring)->signing_key) {
    spdlog::error("token service: no signing key: {}", ring ? "every key is retired" : ring.error());
    return gh::Unexpected(server_error());
  }
  const jose::Jwk& key = (*ring)->keys[*(*ring)->signing_key];

  json::object claims{{"iss", settings_.issuer},
                      {"sub", record.subject},
                      {"aud", to_array(record.audience)},
                      {"exp", record.expires_at},
                      {"iat", record.issued_at},
                      {"nbf", record.issued_at},
                      {"jti", jose::random_uuid_v4()},
                      {"client_id", record.client_id},
                      {"scp", to_array(record.scopes)}};
  jose::SignOptions options;
  options.alg = jose::parse_algorithm(key.alg()).value_or(settings_.jwt_algorithm);
  options.typ = settings_.jwt_typ;
  auto token = jose::sign(json::serialize(claims), key, options);
  if (!token) {
    spdlog::error("token service: signing with key {} failed: {}", key.kid(), token.error());
    return gh::Unexpected(server_error());
  }
  signature = std::string(jws_signature(*token));
  return std::move(*token);
}

std::optional<TokenRecord> TokenService::find_token(std::string_view token, bool verify_jwt) {
  std::string signature;
  if (looks_like_jws(token)) {
    if (verify_jwt) {
      auto ring = keys_.keys();
      if (!ring) return std::nullopt;
      auto verified = jose::verify(token, (*ring)->public_set, std::span<const jose::Algorithm>(jose::kAllAlgorithms));
      if (!verified && verified.error().code == jose::VerifyErrorCode::key_not_found) {
        // Another replica may have rotated the key moments ago.
        ring = keys_.keys(true);
        if (!ring) return std::nullopt;
        verified = jose::verify(token, (*ring)->public_set, std::span<const jose::Algorithm>(jose::kAllAlgorithms));
      }
      if (!verified) return std::nullopt;
    }
    signature = std::string(jws_signature(token));
  } else {
    auto checked = check_opaque_token(token, system_secrets_);
    if (!checked) return std::nullopt;
    signature = std::move(*checked);
  }
  auto record = storage_->get_token(signature_key(signature));
  if (!record) {
    spdlog::error("token service: cannot read a token: {}", record.error().message);
    return std::nullopt;
  }
  return std::move(*record);
}

Response TokenService::revoke(const Form& form, const std::optional<std::string>& authorization) {
  if (form.empty()) return error_response(invalid_request("The request body is empty; send form-encoded parameters."));
  ClientAuthContext context{*storage_, secrets_, settings_.endpoint("/oauth2/token"), clock_()};
  auto client = authenticate_client(ClientAuthRequest{form, authorization}, context);
  if (!client) return error_response(client.error());
  std::string token = form.value("token");
  if (token.empty()) return error_response(invalid_request("The token parameter is missing."));

  Response ok;
  ok.headers = {{"Cache-Control", "no-store"}, {"Pragma", "no-cache"}};
  // RFC 7009 §2.2: an unknown token, or one of another client, gets the same 200 as a success,
  // so a client cannot probe which tokens exist.
  std::optional<TokenRecord> record = find_token(token, false);
  if (!record || record->client_id != client->client_id) return ok;
  if (auto revoked = storage_->revoke_token(record->signature_hash); !revoked) {
    spdlog::error("token service: cannot revoke a token of client {}: {}", record->client_id, revoked.error().message);
    return error_response(server_error());
  }
  return ok;
}

Response TokenService::discovery() const {
  json::array algorithms;
  for (jose::Algorithm alg : {jose::Algorithm::rs256, jose::Algorithm::rs384, jose::Algorithm::rs512, jose::Algorithm::ps256,
                              jose::Algorithm::ps384, jose::Algorithm::ps512, jose::Algorithm::es256, jose::Algorithm::es384,
                              jose::Algorithm::es512, jose::Algorithm::eddsa}) {
    algorithms.emplace_back(jose::algorithm_name(alg));
  }
  json::object document{
      {"issuer", settings_.issuer},
      {"token_endpoint", settings_.endpoint("/oauth2/token")},
      {"jwks_uri", settings_.endpoint("/.well-known/jwks.json")},
      {"revocation_endpoint", settings_.endpoint("/oauth2/revoke")},
      {"grant_types_supported", json::array{kClientCredentials}},
      {"response_types_supported", json::array{}},
      {"token_endpoint_auth_methods_supported", json::array{"client_secret_post", "client_secret_basic", "private_key_jwt"}},
      {"token_endpoint_auth_signing_alg_values_supported", algorithms},
      {"revocation_endpoint_auth_methods_supported", json::array{"client_secret_post", "client_secret_basic", "private_key_jwt"}},
      {"subject_types_supported", json::array{"public"}},
      {"id_token_signing_alg_values_supported", json::array{jose::algorithm_name(settings_.jwt_algorithm)}},
  };
  Response response = json_response(200, document);
  return response;
}

Response TokenService::jwks() {
  auto ring = keys_.keys();
  if (!ring) {
    spdlog::error("token service: cannot load signing keys: {}", ring.error());
    return error_response(server_error());
  }
  return json_response(200, (*ring)->public_set.to_public_json());
}

Response TokenService::ready() {
  if (auto ping = storage_->ping(); !ping) {
    return json_response(503, json::object{{"errors", json::object{{"database", "the database does not respond"}}}});
  }
  return json_response(200, json::object{{"status", "ok"}});
}

gh::Expected<int64_t, std::string> TokenService::purge() {
  auto purged = storage_->purge(clock_());
  if (!purged) return gh::Unexpected(purged.error().message);
  return *purged;
}

}  // namespace gh::oauth2
