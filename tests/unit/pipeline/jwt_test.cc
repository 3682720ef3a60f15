#include "pipeline/authn/jwt.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/fields.hpp>
#include <fmt/format.h>

#include "jose/base64url.h"
#include "jose/generate.h"
#include "jose/jws.h"
#include "unit/jose/cli_keys.h"

namespace gh::pipeline::authn {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using jose::testing::cli_keys;

// Clocks the tests move by hand: wall time for exp/nbf/iat, steady time for key set and
// cache expiry.
struct Clocks {
  std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point steady{std::chrono::hours(100)};

  JwtDependencies dependencies() {
    JwtDependencies out;
    out.now = [this] { return wall; };
    out.steady_clock = [this] { return steady; };
    return out;
  }
  long long now_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count();
  }
};

class JwtTest : public ::testing::Test {
 protected:
  JwtTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("gh-jwt-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    jwks_path_ = (dir_ / "jwks.json").string();

    jose::GenerateOptions options;
    options.alg = jose::Algorithm::rs256;
    options.kid = "gh-rsa";
    private_jwk_ = jose::generate_jwk(options).value();
    signing_key_ = jose::parse_jwk(private_jwk_).value();
    write_jwks({*signing_key_.to_public_json()});
  }
  ~JwtTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void write_jwks(const std::vector<json::object>& keys) {
    json::array array;
    for (const auto& key : keys) array.push_back(key);
    std::ofstream(jwks_path_) << json::serialize(json::object{{"keys", array}});
  }
  void write_jwks_text(const std::vector<std::string>& keys) {
    std::string text = "{\"keys\":[";
    for (size_t i = 0; i < keys.size(); ++i) text += (i ? "," : "") + keys[i];
    std::ofstream(jwks_path_) << text << "]}";
  }

  json::object config(json::object extra = {}) {
    json::object out{{"jwks_urls", json::array{"file://" + jwks_path_}}};
    for (auto& [key, value] : extra) out[key] = value;
    return out;
  }

  std::shared_ptr<const Authenticator> make(json::object extra = {}) {
    auto built = make_jwt_with(config(std::move(extra)), clocks_.dependencies());
    EXPECT_TRUE(built.has_value()) << (built ? "" : built.error());
    return built ? *built : nullptr;
  }

  json::object claims(json::object extra = {}) {
    json::object out{{"sub", "alice"}, {"iss", "https://issuer.test/"}, {"exp", clocks_.now_seconds() + 600}};
    for (auto& [key, value] : extra) out[key] = value;
    return out;
  }

  std::string sign(const json::object& payload, jose::SignOptions options = {}) {
    return jose::sign(json::serialize(payload), signing_key_, options).value();
  }

  AuthnResult run(const Authenticator& authenticator, const std::string& authorization,
                  const std::string& query = "") {
    boost::beast::http::fields headers;
    if (!authorization.empty()) headers.set(boost::beast::http::field::authorization, authorization);
    return run_with(authenticator, headers, query);
  }

  AuthnResult run_with(const Authenticator& authenticator, const boost::beast::http::fields& headers,
                       const std::string& query = "") {
    Request request;
    request.method = "GET";
    request.scheme = "http";
    request.host = "api.test";
    request.path = "/";
    request.raw_query = query;
    request.headers = &headers;
    session_ = Session{};

    asio::io_context io;
    std::optional<AuthnResult> result;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { result = co_await authenticator.authenticate(request, session_); },
        asio::detached);
    io.run();
    return *result;
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::string jwks_path_;
  json::object private_jwk_;
  jose::Jwk signing_key_;
  Clocks clocks_;
  Session session_;
};

TEST_F(JwtTest, AcceptsTokenFromJoseSign) {
  auto jwt = make();
  AuthnResult result = run(*jwt, "Bearer " + sign(claims()));
  ASSERT_TRUE(result.is_authenticated()) << (result.is_failed() ? result.error().reason : "");
  EXPECT_EQ(session_.subject, "alice");
  EXPECT_EQ(session_.extra_value().at("iss").as_string(), "https://issuer.test/");
  EXPECT_TRUE(session_.extra_value().at("scp").as_array().empty());
}

TEST_F(JwtTest, AcceptsEveryAlgorithmFromOpenssl) {
  for (const char* alg : jose::testing::kAlgorithmNames) {
    write_jwks_text({cli_keys().verification_jwk(alg)});
    auto jwt = make({{"allowed_algorithms", json::array{alg}}});
    std::string header = fmt::format(R"({{"alg":"{}","kid":"{}"}})", alg, cli_keys().kid_for(alg));
    std::string token = cli_keys().sign(alg, header, json::serialize(claims()));

    AuthnResult result = run(*jwt, "Bearer " + token);
    EXPECT_TRUE(result.is_authenticated()) << alg << ": " << (result.is_failed() ? result.error().reason : "");
    EXPECT_EQ(session_.subject, "alice") << alg;
  }
}

TEST_F(JwtTest, NotResponsibleWithoutJwt) {
  auto jwt = make();
  EXPECT_TRUE(run(*jwt, "").is_not_responsible());
  EXPECT_TRUE(run(*jwt, "Basic YWxpY2U6c2VjcmV0").is_not_responsible());
  EXPECT_TRUE(run(*jwt, "Bearer ").is_not_responsible());
  EXPECT_TRUE(run(*jwt, "Bearer opaque-token-value").is_not_responsible());
  EXPECT_TRUE(run(*jwt, "Bearer a.b").is_not_responsible());
  EXPECT_TRUE(run(*jwt, "Bearer a.b.c.d").is_not_responsible());
}

TEST_F(JwtTest, BearerSchemeCaseInsensitive) {
  auto jwt = make();
  EXPECT_TRUE(run(*jwt, "bEaReR " + sign(claims())).is_authenticated());
}

TEST_F(JwtTest, TamperedPayloadRejected) {
  auto jwt = make();
  std::string token = sign(claims());
  size_t first = token.find('.');
  size_t second = token.find('.', first + 1);
  std::string forged = jose::base64url_encode(json::serialize(claims({{"sub", "mallory"}})));
  token = token.substr(0, first + 1) + forged + token.substr(second);

  AuthnResult result = run(*jwt, "Bearer " + token);
  ASSERT_TRUE(result.is_failed());
  EXPECT_EQ(result.error().status, 401);
  EXPECT_NE(result.error().reason.find("bad_signature"), std::string::npos) << result.error().reason;
  ASSERT_TRUE(result.error().details.contains("jwt_claims"));
  EXPECT_NE(result.error().details.at("jwt_claims").as_string().find("mallory"), std::string::npos);
}

TEST_F(JwtTest, ExpiredRejectedUnlessLeeway) {
  std::string token = sign(claims({{"exp", clocks_.now_seconds() - 10}}));
  AuthnResult strict = run(*make(), "Bearer " + token);
  ASSERT_TRUE(strict.is_failed());
  EXPECT_EQ(strict.error().status, 401);
  EXPECT_NE(strict.error().reason.find("expired"), std::string::npos) << strict.error().reason;

  EXPECT_TRUE(run(*make({{"leeway", "30s"}}), "Bearer " + token).is_authenticated());
  EXPECT_TRUE(run(*make({{"leeway", "5s"}}), "Bearer " + token).is_failed());
}

TEST_F(JwtTest, NotYetValidRejected) {
  auto jwt = make();
  AuthnResult nbf = run(*jwt, "Bearer " + sign(claims({{"nbf", clocks_.now_seconds() + 60}})));
  ASSERT_TRUE(nbf.is_failed());
  EXPECT_NE(nbf.error().reason.find("not_yet_valid"), std::string::npos) << nbf.error().reason;

  AuthnResult iat = run(*jwt, "Bearer " + sign(claims({{"iat", clocks_.now_seconds() + 60}})));
  ASSERT_TRUE(iat.is_failed());
  EXPECT_NE(iat.error().reason.find("issued_in_future"), std::string::npos) << iat.error().reason;
}

TEST_F(JwtTest, TokenWithoutExpAccepted) {
  json::object payload = claims();
  payload.erase("exp");
  EXPECT_TRUE(run(*make(), "Bearer " + sign(payload)).is_authenticated());
}

TEST_F(JwtTest, TrustedIssuersChecked) {
  std::string token = sign(claims());
  EXPECT_TRUE(run(*make({{"trusted_issuers", json::array{"https://other.test/", "https://issuer.test/"}}}),
                  "Bearer " + token)
                  .is_authenticated());
  AuthnResult wrong = run(*make({{"trusted_issuers", json::array{"https://other.test/"}}}), "Bearer " + token);
  ASSERT_TRUE(wrong.is_failed());
  EXPECT_EQ(wrong.error().status, 401);
  EXPECT_NE(wrong.error().reason.find("issuer"), std::string::npos);
}

TEST_F(JwtTest, EveryTargetAudienceRequired) {
  std::string token = sign(claims({{"aud", json::array{"orders", "billing"}}}));
  EXPECT_TRUE(run(*make({{"target_audience", json::array{"orders", "billing"}}}), "Bearer " + token).is_authenticated());
  AuthnResult missing = run(*make({{"target_audience", json::array{"orders", "admin"}}}), "Bearer " + token);
  ASSERT_TRUE(missing.is_failed());
  EXPECT_NE(missing.error().reason.find("audience"), std::string::npos);
}

TEST_F(JwtTest, ScopesNormalizedIntoScp) {
  auto jwt = make();
  ASSERT_TRUE(run(*jwt, "Bearer " + sign(claims({{"scope", "read  write"}}))).is_authenticated());
  EXPECT_FALSE(session_.extra_value().as_object().contains("scope"));
  EXPECT_EQ(session_.extra_value().at("scp"), (json::array{"read", "write"}));

  ASSERT_TRUE(run(*jwt, "Bearer " + sign(claims({{"scopes", json::array{"a", "b"}}, {"scope", "x"}}))).is_authenticated());
  EXPECT_EQ(session_.extra_value().at("scp"), (json::array{"x"}));
  EXPECT_TRUE(session_.extra_value().as_object().contains("scopes"));
}

TEST_F(JwtTest, RequiredScopeChecked) {
  std::string token = sign(claims({{"scp", json::array{"orders.read", "orders.write"}}}));
  EXPECT_TRUE(run(*make({{"required_scope", json::array{"orders.read"}}, {"scope_strategy", "exact"}}), "Bearer " + token)
                  .is_authenticated());
  EXPECT_TRUE(run(*make({{"required_scope", json::array{"orders.read.own"}}, {"scope_strategy", "hierarchic"}}),
                  "Bearer " + token)
                  .is_authenticated());

  AuthnResult missing = run(*make({{"required_scope", json::array{"orders.delete"}}, {"scope_strategy", "exact"}}),
                            "Bearer " + token);
  ASSERT_TRUE(missing.is_failed());
  EXPECT_EQ(missing.error().status, 401);
  EXPECT_NE(missing.error().reason.find("orders.delete"), std::string::npos);
}

TEST_F(JwtTest, StrategyNoneWithRequiredScopeRejected) {
  std::string token = sign(claims({{"scp", json::array{"orders.read"}}}));
  AuthnResult result = run(*make({{"required_scope", json::array{"orders.read"}}, {"scope_strategy", "none"}}),
                           "Bearer " + token);
  ASSERT_TRUE(result.is_failed());
  EXPECT_EQ(result.error().status, 401);
  EXPECT_NE(result.error().reason.find("scope_strategy"), std::string::npos);
}

TEST_F(JwtTest, AlgNoneRejected) {
  std::string header = jose::base64url_encode(R"({"alg":"none","kid":"gh-rsa"})");
  std::string payload = jose::base64url_encode(json::serialize(claims()));
  AuthnResult result = run(*make(), "Bearer " + header + "." + payload + ".");
  ASSERT_TRUE(result.is_failed());
  EXPECT_EQ(result.error().status, 401);
}

TEST_F(JwtTest, AlgorithmOutsideAllowListRejected) {
  write_jwks_text({cli_keys().verification_jwk("ES256")});
  std::string token = cli_keys().sign("ES256", R"({"alg":"ES256","kid":"ec-256"})", json::serialize(claims()));
  AuthnResult result = run(*make(), "Bearer " + token);  // default list: RS256 only
  ASSERT_TRUE(result.is_failed());
  EXPECT_NE(result.error().reason.find("algorithm_not_allowed"), std::string::npos) << result.error().reason;
}

TEST_F(JwtTest, HmacWithPublicKeyAsSecretRejected) {
  // The classic key-confusion attack: HS256 keyed with the RSA public key's bytes.
  std::string public_text = json::serialize(*signing_key_.to_public_json());
  jose::Jwk confused = jose::parse_jwk(json::serialize(json::object{
                                           {"kty", "oct"}, {"kid", "gh-rsa"}, {"k", jose::base64url_encode(public_text)}}))
                           .value();
  jose::SignOptions options;
  options.alg = jose::Algorithm::hs256;
  std::string token = jose::sign(json::serialize(claims()), confused, options).value();

  AuthnResult result = run(*make({{"allowed_algorithms", json::array{"RS256", "HS256"}}}), "Bearer " + token);
  ASSERT_TRUE(result.is_failed());
  EXPECT_EQ(result.error().status, 401);
}

TEST_F(JwtTest, KeyWithoutUseAccepted) {
  json::object key = *signing_key_.to_public_json();
  key.erase("use");
  write_jwks({key});
  EXPECT_TRUE(run(*make(), "Bearer " + sign(claims())).is_authenticated());
}

TEST_F(JwtTest, EncryptionKeyNeverVerifies) {
  json::object key = *signing_key_.to_public_json();
  key["use"] = "enc";
  write_jwks({key});
  EXPECT_TRUE(run(*make(), "Bearer " + sign(claims())).is_failed());
}

TEST_F(JwtTest, TokenWithoutKidTriesEveryKey) {
  jose::GenerateOptions options;
  options.kid = "other";
  jose::Jwk other = jose::parse_jwk(jose::generate_jwk(options).value()).value();
  write_jwks({*other.to_public_json(), *signing_key_.to_public_json()});

  jose::SignOptions no_kid;
  no_kid.kid = "";
  EXPECT_TRUE(run(*make(), "Bearer " + sign(claims(), no_kid)).is_authenticated());
}

TEST_F(JwtTest, TokenFromQueryCookieAndHeader) {
  std::string token = sign(claims());
  boost::beast::http::fields none;
  EXPECT_TRUE(run_with(*make({{"token_from", json::object{{"query_parameter", "access_token"}}}}), none,
                       "x=1&access_token=" + token)
                  .is_authenticated());

  boost::beast::http::fields cookie;
  cookie.set(boost::beast::http::field::cookie, "theme=dark; session=" + token);
  EXPECT_TRUE(run_with(*make({{"token_from", json::object{{"cookie", "session"}}}}), cookie).is_authenticated());

  boost::beast::http::fields custom;
  custom.set("X-Access-Token", token);
  EXPECT_TRUE(run_with(*make({{"token_from", json::object{{"header", "x-access-token"}}}}), custom).is_authenticated());
  // A token in another place than the configured one is not this authenticator's.
  EXPECT_TRUE(run(*make({{"token_from", json::object{{"cookie", "session"}}}}), "Bearer " + token).is_not_responsible());
}

TEST_F(JwtTest, LowercaseAuthorizationHeaderReadsRawValue) {
  // Only "Authorization" spelled exactly strips the Bearer scheme; this reads "Bearer ey..".
  std::string token = sign(claims());
  auto jwt = make({{"token_from", json::object{{"header", "authorization"}}}});
  EXPECT_TRUE(run(*jwt, "Bearer " + token).is_failed());
}

TEST_F(JwtTest, UnknownKidRefreshIsRateLimited) {
  auto jwt = make();
  ASSERT_TRUE(run(*jwt, "Bearer " + sign(claims())).is_authenticated());

  jose::GenerateOptions options;
  options.kid = "rotated";
  jose::Jwk rotated = jose::parse_jwk(jose::generate_jwk(options).value()).value();
  std::string token = jose::sign(json::serialize(claims()), rotated, {}).value();

  AuthnResult unknown = run(*jwt, "Bearer " + token);
  ASSERT_TRUE(unknown.is_failed());
  EXPECT_NE(unknown.error().reason.find("key_not_found"), std::string::npos) << unknown.error().reason;

  // The new key is published, but the set was fetched less than the refresh interval ago,
  // so unknown kids do not fetch it again yet.
  write_jwks({*signing_key_.to_public_json(), *rotated.to_public_json()});
  clocks_.steady += 1s;
  EXPECT_TRUE(run(*jwt, "Bearer " + token).is_failed());
  const std::uint64_t fetches = jwt_counters(*jwt)->key_sets.fetches;
  EXPECT_EQ(fetches, 1u);

  clocks_.steady += jose::kUnknownKidRefreshInterval;
  EXPECT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());
  EXPECT_EQ(jwt_counters(*jwt)->key_sets.fetches, 2u);
  EXPECT_EQ(jwt_counters(*jwt)->key_sets.unknown_kid_refreshes, 1u);
}

TEST_F(JwtTest, StaleKeysUsedWhenFetchFails) {
  auto jwt = make({{"jwks_ttl", "10s"}});
  std::string token = sign(claims());
  ASSERT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());

  std::filesystem::remove(jwks_path_);
  clocks_.steady += 11s;
  clocks_.wall += 11s;  // past the cache TTL too, so the signature is checked again
  std::string second = sign(claims({{"jti", "2"}}));
  AuthnResult result = run(*jwt, "Bearer " + second);
  EXPECT_TRUE(result.is_authenticated()) << (result.is_failed() ? result.error().reason : "");

  JwtCounters counters = *jwt_counters(*jwt);
  EXPECT_EQ(counters.key_sets.fetch_failures, 1u);
  EXPECT_GE(counters.key_sets.stale_uses, 1u);
}

TEST_F(JwtTest, MissingKeySetFails) {
  std::filesystem::remove(jwks_path_);
  AuthnResult result = run(*make(), "Bearer " + sign(claims()));
  ASSERT_TRUE(result.is_failed());
  EXPECT_EQ(result.error().status, 401);
  EXPECT_NE(result.error().reason.find("cannot be opened"), std::string::npos) << result.error().reason;
}

TEST_F(JwtTest, RepeatedTokenServedFromCache) {
  auto jwt = make();
  std::string token = sign(claims());
  ASSERT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());
  ASSERT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());
  EXPECT_EQ(session_.subject, "alice");

  JwtCounters counters = *jwt_counters(*jwt);
  EXPECT_EQ(counters.verified_tokens.hits, 1u);
  EXPECT_EQ(counters.verified_tokens.entries, 1u);
}

TEST_F(JwtTest, CacheHitMatchesFreshVerification) {
  std::string token = sign(claims({{"scope", "read write"}, {"aud", json::array{"api"}}}));

  // A cache disabled: every request verifies the token and parses its claims.
  JwtDependencies uncached_dependencies = clocks_.dependencies();
  uncached_dependencies.token_cache = cache::Limits{.max_entries = 0, .max_bytes = 0};
  auto uncached = make_jwt_with(config(), uncached_dependencies).value();
  ASSERT_TRUE(run(*uncached, "Bearer " + token).is_authenticated());
  const std::string fresh_subject = session_.subject;
  const json::value fresh_extra = session_.extra_value();

  auto jwt = make();
  ASSERT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());
  const std::shared_ptr<const json::value> first_extra = session_.extra;
  ASSERT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());
  ASSERT_EQ(jwt_counters(*jwt)->verified_tokens.hits, 1u);

  EXPECT_EQ(session_.subject, fresh_subject);
  EXPECT_EQ(session_.extra_value(), fresh_extra);
  EXPECT_EQ(session_.extra_value().at("scp"), (json::array{"read", "write"}));
  // The hit shares the cached claims instead of copying them.
  EXPECT_EQ(session_.extra.get(), first_extra.get());
}

TEST_F(JwtTest, DisabledCacheVerifiesEveryTime) {
  JwtDependencies dependencies = clocks_.dependencies();
  dependencies.token_cache = cache::Limits{.max_entries = 0, .max_bytes = 0};
  auto jwt = make_jwt_with(config(), dependencies).value();
  std::string token = sign(claims());
  ASSERT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());
  ASSERT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());

  JwtCounters counters = *jwt_counters(*jwt);
  EXPECT_EQ(counters.verified_tokens.hits, 0u);
  EXPECT_EQ(counters.verified_tokens.entries, 0u);
}

TEST_F(JwtTest, CachedTokenStillChecksExpiry) {
  auto jwt = make();
  std::string token = sign(claims({{"exp", clocks_.now_seconds() + 5}}));
  ASSERT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());

  clocks_.wall += 6s;  // the cache's steady clock has not moved, so this is a hit
  AuthnResult result = run(*jwt, "Bearer " + token);
  ASSERT_TRUE(result.is_failed());
  EXPECT_NE(result.error().reason.find("expired"), std::string::npos);
  EXPECT_EQ(jwt_counters(*jwt)->verified_tokens.hits, 1u);
}

TEST_F(JwtTest, CacheEntryEndsAtExp) {
  auto jwt = make();
  std::string token = sign(claims({{"exp", clocks_.now_seconds() + 5}}));
  ASSERT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());
  // Only the cache's clock moves past exp, so the token is verified again and still passes.
  clocks_.steady += 6s;
  EXPECT_TRUE(run(*jwt, "Bearer " + token).is_authenticated());
  JwtCounters counters = *jwt_counters(*jwt);
  EXPECT_EQ(counters.verified_tokens.hits, 0u);
  EXPECT_EQ(counters.verified_tokens.misses, 2u);
}

TEST_F(JwtTest, InvalidUrlRejectedAtLoad) {
  auto built = make_jwt_with(json::object{{"jwks_urls", json::array{"ftp://keys.test/jwks.json"}}}, {});
  ASSERT_FALSE(built.has_value());
  EXPECT_NE(built.error().find("ftp"), std::string::npos);
  EXPECT_FALSE(make_jwt_with(json::object{{"jwks_urls", json::array{}}}, {}).has_value());
}

TEST_F(JwtTest, InlineBase64KeySet) {
  std::string jwks = json::serialize(json::object{{"keys", json::array{*signing_key_.to_public_json()}}});
  auto jwt = make_jwt_with(json::object{{"jwks_urls", json::array{"base64://" + jose::base64url_encode(jwks)}}},
                           clocks_.dependencies());
  ASSERT_TRUE(jwt.has_value());
  EXPECT_TRUE(run(**jwt, "Bearer " + sign(claims())).is_authenticated());
}

}  // namespace
}  // namespace gh::pipeline::authn
