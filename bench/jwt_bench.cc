// Cost of one jwt authentication per JWS algorithm, through the whole authenticator: token
// extraction, key lookup, signature check, claim checks and session filling. "cached" runs
// with the verified-token cache, so every iteration after the first is a hit. "uncached"
// disables it, so every iteration checks the signature. Keys come from an inline
// base64:// key set, so no I/O is measured.
#include <benchmark/benchmark.h>

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/json.hpp>

#include "jose/base64url.h"
#include "jose/generate.h"
#include "jose/jws.h"
#include "pipeline/authn/jwt.h"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using gh::jose::Algorithm;

struct Fixture {
  std::shared_ptr<const gh::pipeline::Authenticator> authenticator;
  boost::beast::http::fields headers;
};

Fixture make_fixture(Algorithm alg, bool cached) {
  gh::jose::GenerateOptions options;
  options.alg = alg;
  options.kid = "bench";
  json::object private_jwk = gh::jose::generate_jwk(options).value();
  gh::jose::Jwk key = gh::jose::parse_jwk(private_jwk).value();

  json::object published = key.type() == gh::jose::KeyType::oct ? private_jwk : *key.to_public_json();
  std::string jwks = json::serialize(json::object{{"keys", json::array{published}}});
  std::string name(gh::jose::algorithm_name(alg));
  json::object config{{"jwks_urls", json::array{"base64://" + gh::jose::base64url_encode(jwks)}},
                      {"allowed_algorithms", json::array{json::string(name)}},
                      {"trusted_issuers", json::array{"https://issuer.test/"}},
                      {"target_audience", json::array{"orders"}},
                      {"required_scope", json::array{"orders.read"}},
                      {"scope_strategy", "exact"}};

  gh::pipeline::authn::JwtDependencies dependencies;
  if (!cached) dependencies.token_cache = gh::cache::Limits{.max_entries = 0, .max_bytes = 0};

  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  json::object claims{{"sub", "alice"}, {"iss", "https://issuer.test/"}, {"aud", json::array{"orders"}},
                      {"scp", json::array{"orders.read", "orders.write"}}, {"iat", now}, {"exp", now + 3600}};
  gh::jose::SignOptions sign_options;
  sign_options.alg = alg;
  std::string token = gh::jose::sign(json::serialize(claims), key, sign_options).value();

  Fixture fixture;
  fixture.authenticator = gh::pipeline::authn::make_jwt_with(config, dependencies).value();
  fixture.headers.set(boost::beast::http::field::authorization, "Bearer " + token);
  return fixture;
}

void run_authentication(benchmark::State& state, Algorithm alg, bool cached) {
  Fixture fixture = make_fixture(alg, cached);
  gh::pipeline::Request request;
  request.method = "GET";
  request.scheme = "http";
  request.host = "api.test";
  request.path = "/orders";
  request.headers = &fixture.headers;

  asio::io_context io;
  for (auto _ : state) {
    gh::pipeline::Session session;
    bool authenticated = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto result = co_await fixture.authenticator->authenticate(request, session);
          authenticated = result.is_authenticated();
        },
        asio::detached);
    io.run();
    io.restart();
    if (!authenticated) {
      state.SkipWithError("authentication failed");
      break;
    }
    benchmark::DoNotOptimize(session.subject);
  }
}

void register_benchmarks() {
  for (Algorithm alg : {Algorithm::rs256, Algorithm::ps256, Algorithm::es256, Algorithm::es384,
                        Algorithm::es512, Algorithm::eddsa, Algorithm::hs256}) {
    std::string name(gh::jose::algorithm_name(alg));
    benchmark::RegisterBenchmark(("BM_JwtAuthenticate/" + name + "/uncached").c_str(),
                                 [alg](benchmark::State& state) { run_authentication(state, alg, false); });
    benchmark::RegisterBenchmark(("BM_JwtAuthenticate/" + name + "/cached").c_str(),
                                 [alg](benchmark::State& state) { run_authentication(state, alg, true); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
