#include "oauth2/token_service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "jose/base64url.h"
#include "jose/generate.h"
#include "jose/jws.h"
#include "jose/jwt.h"
#include "oauth2/opaque_token.h"

namespace gh::oauth2 {
namespace {

namespace json = boost::json;

constexpr int64_t kStart = 1'700'000'000;
constexpr const char* kIssuer = "http://127.0.0.1:4444/";

// Standard base64 with padding, as HTTP clients send Basic credentials.
std::string base64(std::string_view bytes) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::string basic(std::string_view id, std::string_view secret) {
  return "Basic " + base64(std::string(id) + ":" + std::string(secret));
}

Form form(std::string_view text) { return parse_form(text).value(); }

json::object body_of(const Response& response) { return json::parse(response.body).as_object(); }

std::string header_of(const Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return {};
}

class TokenServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { make_service("opaque"); }

  void make_service(std::string strategy) {
    Settings settings;
    settings.enabled = true;
    settings.issuer = kIssuer;
    settings.access_token_strategy = std::move(strategy);
    settings.system_secrets = {"first system secret, 32 bytes long"};
    settings.access_token_ttl = std::chrono::seconds(3600);
    service_ = std::make_unique<TokenService>(settings, std::move(open_storage("memory").value()), [this] { return now_; });
    auto prepared = service_->prepare();
    ASSERT_TRUE(prepared) << prepared.error();
  }

  void create_client(const json::object& client) {
    Response created = service_->create_client(json::serialize(client));
    ASSERT_EQ(created.status, 201u) << created.body;
  }

  // Creates the client "app" (secret "app-secret") allowed scopes read, write and orders.*.
  void create_app(std::string method = "client_secret_basic") {
    create_client({{"client_id", "app"},
                   {"client_secret", "app-secret"},
                   {"grant_types", json::array{"client_credentials"}},
                   {"scope", "read write orders.*"},
                   {"audience", json::array{"https://api.example.com"}},
                   {"token_endpoint_auth_method", method}});
  }

  Response grant(std::string_view body, std::optional<std::string> authorization = basic("app", "app-secret")) {
    return service_->token(form(body), authorization);
  }

  json::object introspect(std::string_view token) {
    Response response = service_->introspect(form("token=" + std::string(token)));
    EXPECT_EQ(response.status, 200u);
    return body_of(response);
  }

  int64_t now_ = kStart;
  std::unique_ptr<TokenService> service_;
};

TEST_F(TokenServiceTest, CreateClientGeneratesIdAndSecret) {
  Response created = service_->create_client(R"({"grant_types":["client_credentials"]})");
  ASSERT_EQ(created.status, 201u);
  json::object client = body_of(created);
  EXPECT_EQ(client.at("client_id").as_string().size(), 36u);
  EXPECT_EQ(client.at("client_secret").as_string().size(), 26u);
  EXPECT_EQ(client.at("token_endpoint_auth_method"), "client_secret_basic");

  Response loaded = service_->get_client(std::string(client.at("client_id").as_string()));
  ASSERT_EQ(loaded.status, 200u);
  EXPECT_FALSE(body_of(loaded).contains("client_secret"));
}

TEST_F(TokenServiceTest, ClientValidation) {
  EXPECT_EQ(service_->create_client(R"({"client_secret":"short"})").status, 400u);
  EXPECT_EQ(body_of(service_->create_client(R"({"access_token_strategy":"other"})")).at("error"), "invalid_client_metadata");
  EXPECT_EQ(service_->create_client(R"({"token_endpoint_auth_method":"private_key_jwt"})").status, 400u);
  EXPECT_EQ(service_->create_client("not json").status, 400u);
  EXPECT_EQ(service_->create_client(R"({"scope": 5})").status, 400u);
  create_app();
  Response duplicate = service_->create_client(R"({"client_id":"app"})");
  EXPECT_EQ(duplicate.status, 409u);
}

TEST_F(TokenServiceTest, UpdateKeepsSecretAndDeleteRemoves) {
  create_app();
  Response updated = service_->update_client("app", R"({"scope":"read","grant_types":["client_credentials"]})");
  ASSERT_EQ(updated.status, 200u) << updated.body;
  EXPECT_EQ(body_of(updated).at("scope"), "read");
  EXPECT_EQ(grant("grant_type=client_credentials&scope=read").status, 200u);
  EXPECT_EQ(service_->delete_client("app").status, 204u);
  EXPECT_EQ(service_->delete_client("app").status, 404u);
  EXPECT_EQ(service_->get_client("app").status, 404u);
  EXPECT_EQ(service_->update_client("app", "{}").status, 404u);
}

TEST_F(TokenServiceTest, OpaqueGrantIntrospectRevoke) {
  create_app();
  Response response = grant("grant_type=client_credentials&scope=read+orders.list&audience=https%3A%2F%2Fapi.example.com");
  ASSERT_EQ(response.status, 200u) << response.body;
  EXPECT_EQ(header_of(response, "Cache-Control"), "no-store");
  EXPECT_EQ(header_of(response, "Pragma"), "no-cache");
  json::object body = body_of(response);
  EXPECT_EQ(body.at("token_type"), "bearer");
  EXPECT_EQ(body.at("expires_in"), 3600);
  EXPECT_EQ(body.at("scope"), "read orders.list");
  std::string token(body.at("access_token").as_string());
  EXPECT_TRUE(token.starts_with("ory_at_"));

  json::object active = introspect(token);
  EXPECT_EQ(active.at("active"), true);
  EXPECT_EQ(active.at("client_id"), "app");
  EXPECT_EQ(active.at("sub"), "app");
  EXPECT_EQ(active.at("scope"), "read orders.list");
  EXPECT_EQ(active.at("aud"), (json::array{"https://api.example.com"}));
  EXPECT_EQ(active.at("iss"), kIssuer);
  EXPECT_EQ(active.at("exp"), kStart + 3600);
  EXPECT_EQ(active.at("iat"), kStart);
  EXPECT_EQ(active.at("nbf"), kStart);
  EXPECT_EQ(active.at("token_type"), "Bearer");
  EXPECT_EQ(active.at("token_use"), "access_token");

  Response scoped = service_->introspect(form("token=" + token + "&scope=write"));
  EXPECT_EQ(body_of(scoped).at("active"), false);

  Response revoked = service_->revoke(form("token=" + token), basic("app", "app-secret"));
  EXPECT_EQ(revoked.status, 200u);
  EXPECT_TRUE(revoked.body.empty());
  EXPECT_EQ(introspect(token), (json::object{{"active", false}}));
}

TEST_F(TokenServiceTest, ExpiredTokenIsInactive) {
  create_app();
  std::string token(body_of(grant("grant_type=client_credentials")).at("access_token").as_string());
  now_ += 3599;
  EXPECT_EQ(introspect(token).at("active"), true);
  now_ += 1;
  EXPECT_EQ(introspect(token).at("active"), false);
  ASSERT_EQ(service_->purge().value(), 1);
  EXPECT_FALSE(service_->storage().get_token(signature_key(token.substr(token.find('.') + 1))).value());
}

TEST_F(TokenServiceTest, IntrospectEdgeCases) {
  EXPECT_EQ(service_->introspect(form("")).status, 400u);
  EXPECT_EQ(introspect("garbage"), (json::object{{"active", false}}));
  EXPECT_EQ(introspect("ory_at_" + std::string(43, 'A') + "." + std::string(43, 'A')), (json::object{{"active", false}}));
  Response no_token = service_->introspect(form("other=1"));
  EXPECT_EQ(body_of(no_token), (json::object{{"active", false}}));
}

TEST_F(TokenServiceTest, ClientSecretPost) {
  create_app("client_secret_post");
  EXPECT_EQ(grant("grant_type=client_credentials&client_id=app&client_secret=app-secret", std::nullopt).status, 200u);
  // The registered method is post, so Basic is a mismatch.
  Response basic_used = grant("grant_type=client_credentials");
  EXPECT_EQ(basic_used.status, 401u);
  EXPECT_EQ(body_of(basic_used).at("error"), "invalid_client");
}

TEST_F(TokenServiceTest, AuthenticationFailures) {
  create_app();
  Response wrong = grant("grant_type=client_credentials", basic("app", "wrong-secret"));
  EXPECT_EQ(wrong.status, 401u);
  EXPECT_EQ(body_of(wrong).at("error"), "invalid_client");
  EXPECT_EQ(header_of(wrong, "WWW-Authenticate"), "Basic realm=\"gatehouse\"");

  Response unknown = grant("grant_type=client_credentials", basic("nobody", "app-secret"));
  EXPECT_EQ(unknown.status, 401u);

  Response none = grant("grant_type=client_credentials", std::nullopt);
  EXPECT_EQ(none.status, 400u);
  EXPECT_EQ(body_of(none).at("error"), "invalid_request");

  Response malformed = grant("grant_type=client_credentials", std::string("Basic !!!"));
  EXPECT_EQ(malformed.status, 400u);

  Response both = grant("grant_type=client_credentials&client_id=app&client_secret=app-secret");
  EXPECT_EQ(body_of(both).at("error"), "invalid_request");
}

TEST_F(TokenServiceTest, RequestErrors) {
  create_app();
  struct Case {
    std::string body;
    unsigned status;
    std::string error;
  };
  for (const Case& test : std::vector<Case>{
           {"", 400, "invalid_request"},
           {"scope=read", 400, "invalid_request"},
           {"grant_type=password", 400, "unsupported_grant_type"},
           {"grant_type=client_credentials&grant_type=client_credentials", 400, "invalid_request"},
           {"grant_type=client_credentials&scope=admin", 400, "invalid_scope"},
           {"grant_type=client_credentials&scope=orders", 400, "invalid_scope"},
           {"grant_type=client_credentials&audience=https%3A%2F%2Fother.example.com", 400, "invalid_request"},
       }) {
    Response response = grant(test.body);
    EXPECT_EQ(response.status, test.status) << test.body;
    EXPECT_EQ(body_of(response).at("error").as_string(), test.error) << test.body;
    EXPECT_FALSE(body_of(response).at("error_description").as_string().empty()) << test.body;
  }
}

TEST_F(TokenServiceTest, UnknownGrantReportedBeforeBadCredentials) {
  create_app();
  Response response = grant("grant_type=password", basic("app", "wrong-secret"));
  EXPECT_EQ(body_of(response).at("error"), "unsupported_grant_type");
}

TEST_F(TokenServiceTest, GrantTypeMustBeRegistered) {
  create_client({{"client_id", "web"}, {"client_secret", "web-secret"}});
  Response response = grant("grant_type=client_credentials", basic("web", "web-secret"));
  EXPECT_EQ(response.status, 400u);
  EXPECT_EQ(body_of(response).at("error"), "unauthorized_client");
}

TEST_F(TokenServiceTest, PublicClientGetsInvalidGrant) {
  create_client({{"client_id", "spa"}, {"grant_types", json::array{"client_credentials"}}, {"token_endpoint_auth_method", "none"}});
  Response response = grant("grant_type=client_credentials&client_id=spa", std::nullopt);
  EXPECT_EQ(body_of(response).at("error"), "invalid_grant");
}

TEST_F(TokenServiceTest, RevokeOtherClientsTokenIsIgnored) {
  create_app();
  create_client({{"client_id", "other"}, {"client_secret", "other-secret"}, {"grant_types", json::array{"client_credentials"}}});
  std::string token(body_of(grant("grant_type=client_credentials")).at("access_token").as_string());
  EXPECT_EQ(service_->revoke(form("token=" + token), basic("other", "other-secret")).status, 200u);
  EXPECT_EQ(introspect(token).at("active"), true);
  EXPECT_EQ(service_->revoke(form("token=unknown"), basic("app", "app-secret")).status, 200u);
  EXPECT_EQ(service_->revoke(form("token=" + token), basic("app", "bad-secret")).status, 401u);
  EXPECT_EQ(service_->revoke(form("foo=bar"), basic("app", "app-secret")).status, 400u);
}

TEST_F(TokenServiceTest, JwtStrategyTokens) {
  make_service("jwt");
  create_app();
  Response response = grant("grant_type=client_credentials&scope=read&audience=https%3A%2F%2Fapi.example.com");
  ASSERT_EQ(response.status, 200u) << response.body;
  std::string token(body_of(response).at("access_token").as_string());

  auto keys = jose::parse_jwks(service_->jwks().body);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->keys().size(), 1u);
  EXPECT_FALSE(keys->keys()[0].is_private());
  auto verified = jose::verify(token, *keys, std::span<const jose::Algorithm>(jose::kAllAlgorithms));
  ASSERT_TRUE(verified) << verified.error().message;
  EXPECT_EQ(verified->alg, jose::Algorithm::rs256);
  EXPECT_EQ(verified->header.at("typ"), "JWT");
  EXPECT_EQ(verified->kid, keys->keys()[0].kid());

  json::object claims = jose::parse_claims(verified->payload).value();
  EXPECT_EQ(claims.at("iss"), kIssuer);
  EXPECT_EQ(claims.at("sub"), "app");
  EXPECT_EQ(claims.at("client_id"), "app");
  EXPECT_EQ(claims.at("aud"), (json::array{"https://api.example.com"}));
  EXPECT_EQ(claims.at("scp"), (json::array{"read"}));
  EXPECT_EQ(claims.at("exp"), kStart + 3600);
  EXPECT_EQ(claims.at("iat"), kStart);
  EXPECT_EQ(claims.at("nbf"), kStart);
  EXPECT_EQ(claims.at("jti").as_string().size(), 36u);

  EXPECT_EQ(introspect(token).at("active"), true);
  ASSERT_EQ(service_->revoke(form("token=" + token), basic("app", "app-secret")).status, 200u);
  EXPECT_EQ(introspect(token).at("active"), false);
}

TEST_F(TokenServiceTest, PerClientStrategyOverride) {
  create_client({{"client_id", "jwt-app"},
                 {"client_secret", "jwt-secret"},
                 {"grant_types", json::array{"client_credentials"}},
                 {"access_token_strategy", "jwt"}});
  std::string token(body_of(grant("grant_type=client_credentials", basic("jwt-app", "jwt-secret"))).at("access_token").as_string());
  EXPECT_FALSE(token.starts_with("ory_at_"));
  EXPECT_EQ(std::count(token.begin(), token.end(), '.'), 2);
}

TEST_F(TokenServiceTest, ForgedJwtIsInactive) {
  make_service("jwt");
  create_app();
  std::string token(body_of(grant("grant_type=client_credentials")).at("access_token").as_string());
  auto other_key = jose::parse_jwk(jose::generate_jwk({}).value()).value();
  auto decoded = jose::decode_unverified(token).value();
  jose::SignOptions options;
  options.kid = decoded.kid;
  std::string forged = jose::sign(decoded.payload, other_key, options).value();
  EXPECT_EQ(introspect(forged).at("active"), false);
}

TEST_F(TokenServiceTest, KeyRotationKeepsOldKeyPublished) {
  make_service("jwt");
  create_app();
  std::string before(body_of(grant("grant_type=client_credentials")).at("access_token").as_string());
  Response rotated = service_->rotate_key(R"({"alg":"ES256"})");
  ASSERT_EQ(rotated.status, 201u) << rotated.body;
  std::string new_kid(body_of(rotated).at("keys").as_array()[0].as_object().at("kid").as_string());

  auto keys = jose::parse_jwks(service_->jwks().body).value();
  EXPECT_EQ(keys.keys().size(), 2u);
  std::string after(body_of(grant("grant_type=client_credentials")).at("access_token").as_string());
  auto decoded = jose::decode_unverified(after).value();
  EXPECT_EQ(decoded.kid, new_kid);
  EXPECT_EQ(decoded.alg, jose::Algorithm::es256);
  EXPECT_EQ(introspect(before).at("active"), true);

  // Once every token of the old key has expired, the key is purged and no longer published.
  now_ += 3601;
  ASSERT_TRUE(service_->purge());
  EXPECT_EQ(jose::parse_jwks(service_->list_keys().body).value().keys().size(), 1u);
  EXPECT_EQ(service_->rotate_key(R"({"alg":"HS256"})").status, 400u);
}

class PrivateKeyJwtTest : public TokenServiceTest {
 protected:
  void SetUp() override {
    TokenServiceTest::SetUp();
    jose::GenerateOptions options;
    options.alg = jose::Algorithm::es256;
    options.kid = "client-key";
    key_ = jose::parse_jwk(jose::generate_jwk(options).value()).value();
    create_client({{"client_id", "signer"},
                   {"grant_types", json::array{"client_credentials"}},
                   {"token_endpoint_auth_method", "private_key_jwt"},
                   {"jwks", json::object{{"keys", json::array{*key_->to_public_json()}}}}});
  }

  std::string assertion(json::object claims) {
    jose::SignOptions options;
    options.alg = jose::Algorithm::es256;
    return jose::sign(json::serialize(claims), *key_, options).value();
  }

  json::object claims(std::string jti) {
    return {{"iss", "signer"}, {"sub", "signer"}, {"aud", "http://127.0.0.1:4444/oauth2/token"}, {"exp", now_ + 60}, {"jti", jti}};
  }

  Response grant_with(const std::string& jwt) {
    return grant("grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                 "&client_assertion=" + jwt,
                 std::nullopt);
  }

  std::optional<jose::Jwk> key_;
};

TEST_F(PrivateKeyJwtTest, AcceptsValidAssertionOnce) {
  std::string jwt = assertion(claims("jti-1"));
  Response first = grant_with(jwt);
  ASSERT_EQ(first.status, 200u) << first.body;
  Response replay = grant_with(jwt);
  EXPECT_EQ(replay.status, 400u);
  EXPECT_EQ(body_of(replay).at("error"), "jti_known");
}

TEST_F(PrivateKeyJwtTest, RejectsBadAssertions) {
  json::object wrong_audience = claims("a");
  wrong_audience["aud"] = "https://elsewhere.example.com/token";
  json::object expired = claims("b");
  expired["exp"] = now_ - 1;
  json::object no_jti = claims("c");
  no_jti.erase("jti");
  json::object wrong_issuer = claims("d");
  wrong_issuer["iss"] = "someone-else";
  json::object no_exp = claims("e");
  no_exp.erase("exp");
  for (const json::object& bad : {wrong_audience, expired, no_jti, wrong_issuer, no_exp}) {
    Response response = grant_with(assertion(bad));
    EXPECT_EQ(response.status, 401u) << json::serialize(bad);
    EXPECT_EQ(body_of(response).at("error"), "invalid_client") << json::serialize(bad);
  }

  auto stranger = jose::parse_jwk(jose::generate_jwk({jose::Algorithm::es256, std::string("client-key"), 2048}).value()).value();
  jose::SignOptions options;
  options.alg = jose::Algorithm::es256;
  std::string forged = jose::sign(json::serialize(claims("f")), stranger, options).value();
  EXPECT_EQ(grant_with(forged).status, 401u);
  EXPECT_EQ(grant_with("not-a-jwt").status, 401u);
}

TEST_F(TokenServiceTest, DiscoveryDocument) {
  json::object document = body_of(service_->discovery());
  EXPECT_EQ(document.at("issuer"), kIssuer);
  EXPECT_EQ(document.at("token_endpoint"), "http://127.0.0.1:4444/oauth2/token");
  EXPECT_EQ(document.at("jwks_uri"), "http://127.0.0.1:4444/.well-known/jwks.json");
  EXPECT_EQ(document.at("revocation_endpoint"), "http://127.0.0.1:4444/oauth2/revoke");
  EXPECT_EQ(document.at("grant_types_supported"), (json::array{"client_credentials"}));
}

TEST_F(TokenServiceTest, ListClientsPagesWithLinkHeader) {
  for (std::string id : {"a", "b", "c"}) create_client({{"client_id", id}});
  Response first = service_->list_clients("page_size=2");
  ASSERT_EQ(first.status, 200u);
  EXPECT_EQ(json::parse(first.body).as_array().size(), 2u);
  EXPECT_EQ(header_of(first, "Link"), "</admin/clients?page_size=2&page_token=b>; rel=\"next\"");
  Response second = service_->list_clients("page_size=2&page_token=b");
  EXPECT_EQ(json::parse(second.body).as_array().size(), 1u);
  EXPECT_EQ(header_of(second, "Link"), "");
  EXPECT_EQ(service_->list_clients("page_size=zero").status, 400u);
}

}  // namespace
}  // namespace gh::oauth2
