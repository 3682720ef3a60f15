#include "oauth2/client_auth.h"

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "jose/jwt.h"
#include "jose/jws.h"

namespace gh::oauth2 {
namespace {

constexpr std::string_view kAuthenticationFailed =
    "Client authentication failed: the client is unknown, the credentials are wrong, or the client used an "
    "authentication method other than the one it registered.";

constexpr jose::Algorithm kAssertionAlgorithms[] = {
    jose::Algorithm::rs256, jose::Algorithm::rs384, jose::Algorithm::rs512, jose::Algorithm::ps256,
    jose::Algorithm::ps384, jose::Algorithm::ps512, jose::Algorithm::es256, jose::Algorithm::es384,
    jose::Algorithm::es512, jose::Algorithm::eddsa};

// Client ids come from the caller; logs get a bounded copy.
std::string loggable(std::string_view text) { return std::string(text.substr(0, 64)); }

gh::Expected<Client, OAuthError> load_client(ClientAuthContext& context, const std::string& client_id, bool basic) {
  auto client = context.storage.get_client(client_id);
  if (!client) {
    spdlog::error("token service: cannot read client {}: {}", loggable(client_id), client.error().message);
    return gh::Unexpected(server_error());
  }
  if (!*client) return gh::Unexpected(invalid_client(std::string(kAuthenticationFailed), basic));
  return std::move(**client);
}

gh::Expected<Client, OAuthError> check_method(Client client, std::string_view used, bool basic) {
  if (client.token_endpoint_auth_method == used) return client;
  return gh::Unexpected(invalid_client(
      fmt::format("{} The client registered '{}' but authenticated with '{}'.", kAuthenticationFailed,
                  client.token_endpoint_auth_method, used),
      basic));
}

gh::Expected<Client, OAuthError> authenticate_with_secret(ClientAuthContext& context, const std::string& client_id,
                                                          const std::string& secret, std::string_view method) {
  bool basic = method == "client_secret_basic";
  auto client = load_client(context, client_id, basic);
  if (!client) return client;
  client = check_method(std::move(*client), method, basic);
  if (!client) return client;
  if (!context.secrets.verify(client_id, secret, client->secret_hash)) {
    return gh::Unexpected(invalid_client(std::string(kAuthenticationFailed), basic));
  }
  return client;
}

OAuthError bad_assertion(std::string_view reason) {
  return invalid_client(fmt::format("{} The client assertion is invalid: {}.", kAuthenticationFailed, reason), false);
}

std::string string_claim(const boost::json::object& claims, std::string_view name) {
  const boost::json::value* value = claims.if_contains(name);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

gh::Expected<Client, OAuthError> authenticate_with_assertion(const ClientAuthRequest& request, ClientAuthContext& context) {
  if (request.form.value("client_assertion_type") != kJwtBearerAssertionType) {
    return gh::Unexpected(invalid_request(fmt::format("The client_assertion_type parameter must be '{}'.", kJwtBearerAssertionType)));
  }
  std::string assertion = request.form.value("client_assertion");
  auto decoded = jose::decode_unverified(assertion);
  if (!decoded) return gh::Unexpected(bad_assertion("it is not a compact JWS"));
  auto unverified = jose::parse_claims(decoded->payload);
  if (!unverified) return gh::Unexpected(bad_assertion("its payload is not a JSON object"));

  std::string client_id = string_claim(*unverified, "sub");
  if (client_id.empty()) return gh::Unexpected(bad_assertion("the sub claim is missing"));
  if (auto body_id = request.form.get("client_id"); body_id && *body_id != client_id) {
    return gh::Unexpected(invalid_request("The client_id parameter differs from the sub claim of the client assertion."));
  }

  auto client = load_client(context, client_id, false);
  if (!client) return client;
  client = check_method(std::move(*client), "private_key_jwt", false);
  if (!client) return client;

  auto keys = client->jwks ? jose::jwks_from_json(*client->jwks) : gh::Expected<jose::JwkSet, std::string>(jose::JwkSet());
  if (!keys) return gh::Unexpected(bad_assertion("the client's registered jwks cannot be read"));
  std::vector<jose::Algorithm> allowed(std::begin(kAssertionAlgorithms), std::end(kAssertionAlgorithms));
  if (!client->token_endpoint_auth_signing_alg.empty()) {
    allowed = {jose::parse_algorithm(client->token_endpoint_auth_signing_alg).value_or(jose::Algorithm::rs256)};
  }
  auto verified = jose::verify(assertion, *keys, allowed);
  if (!verified) return gh::Unexpected(bad_assertion(verified.error().message));

  auto claims = jose::parse_claims(verified->payload);
  if (!claims) return gh::Unexpected(bad_assertion("its payload is not a JSON object"));
  if (string_claim(*claims, "iss") != client_id) return gh::Unexpected(bad_assertion("iss must equal sub and the client id"));
  const boost::json::value* exp = claims->if_contains("exp");
  if (!exp || !exp->is_number()) return gh::Unexpected(bad_assertion("the exp claim is missing"));
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(context.now));
  if (auto time = jose::check_time(*claims, now, std::chrono::seconds(0)); !time) {
    return gh::Unexpected(bad_assertion(time.error().message));
  }
  std::string endpoint = context.token_endpoint;
  if (auto audience = jose::check_audience(*claims, std::span<const std::string>(&endpoint, 1)); !audience) {
    return gh::Unexpected(bad_assertion("the aud claim must contain " + endpoint));
  }
  std::string jti = string_claim(*claims, "jti");
  if (jti.empty()) return gh::Unexpected(bad_assertion("the jti claim is missing"));

  auto recorded = context.storage.record_jti(client_id, jti, static_cast<int64_t>(exp->to_number<double>()));
  if (!recorded) {
    spdlog::error("token service: cannot record an assertion id of client {}: {}", loggable(client_id), recorded.error().message);
    return gh::Unexpected(server_error());
  }
  if (!*recorded) {
    return gh::Unexpected(OAuthError{400, "jti_known", "The jti of the client assertion was used before; every assertion must have a new one.", false});
  }
  return client;
}

}  // namespace

gh::Expected<Client, OAuthError> authenticate_client(const ClientAuthRequest& request, ClientAuthContext& context) {
  BasicCredentials basic;
  BasicParse basic_state = request.authorization ? parse_basic_authorization(*request.authorization, basic) : BasicParse::absent;
  if (basic_state == BasicParse::malformed) {
    return gh::Unexpected(invalid_request("The Authorization header is not valid HTTP Basic credentials (base64 of id:secret)."));
  }

  bool uses_basic = basic_state == BasicParse::ok;
  bool uses_post = request.form.has("client_id") && request.form.has("client_secret");
  bool uses_assertion = request.form.has("client_assertion") || request.form.has("client_assertion_type");
  if (int(uses_basic) + int(uses_post) + int(uses_assertion) > 1) {
    return gh::Unexpected(invalid_request("The request uses more than one client authentication method; use exactly one."));
  }
  for (std::string_view name : {"client_id", "client_secret", "client_assertion", "client_assertion_type"}) {
    if (request.form.count(name) > 1) {
      return gh::Unexpected(invalid_request(fmt::format("The {} parameter is repeated.", name)));
    }
  }

  if (uses_basic) {
    if (auto body_id = request.form.get("client_id"); body_id && *body_id != basic.client_id) {
      return gh::Unexpected(invalid_request("The client_id parameter differs from the client id of the Authorization header."));
    }
    return authenticate_with_secret(context, basic.client_id, basic.client_secret, "client_secret_basic");
  }
  if (uses_post) {
    return authenticate_with_secret(context, request.form.value("client_id"), request.form.value("client_secret"),
                                    "client_secret_post");
  }
  if (uses_assertion) return authenticate_with_assertion(request, context);

  std::string client_id = request.form.value("client_id");
  if (client_id.empty()) {
    return gh::Unexpected(invalid_request("The request contains no client credentials; authenticate with HTTP Basic, "
                                          "client_id and client_secret, or a client assertion."));
  }
  auto client = load_client(context, client_id, false);
  if (!client) return client;
  return check_method(std::move(*client), "none", false);
}

}  // namespace gh::oauth2
