// Verification cost per JWS algorithm: one compact token verified against a key set of one
// key, the way the jwt authenticator calls it after a cache miss. Keys come from
// gh::jose::generate_jwk (RSA 2048 bits).
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>
#include <stdexcept>

#include "jose/generate.h"
#include "jose/jwk.h"
#include "jose/jws.h"

namespace {

using gh::jose::Algorithm;

struct Fixture {
  gh::jose::JwkSet keys;
  std::string token;
};

Fixture make_fixture(Algorithm alg) {
  auto jwk = gh::jose::generate_jwk({.alg = alg, .kid = "bench", .rsa_bits = 2048});
  if (!jwk) throw std::runtime_error(jwk.error());
  auto key = gh::jose::parse_jwk(boost::json::serialize(*jwk));
  if (!key) throw std::runtime_error(key.error());
  auto token = gh::jose::sign(
      R"({"sub":"bench","iss":"https://issuer.test","aud":["api"],"exp":2000000000,"scope":"a b"})",
      *key, {.alg = alg, .kid = std::nullopt, .typ = "JWT"});
  if (!token) throw std::runtime_error(token.error());
  auto keys = gh::jose::parse_jwks(boost::json::serialize(boost::json::object{
      {"keys", boost::json::array{*jwk}}}));
  if (!keys) throw std::runtime_error(keys.error());
  return {std::move(*keys), std::move(*token)};
}

void BM_Verify(benchmark::State& state, Algorithm alg) {
  const Fixture fixture = make_fixture(alg);
  const Algorithm allowed[] = {alg};
  for (auto _ : state) {
    auto result = gh::jose::verify(fixture.token, fixture.keys, allowed);
    if (!result) {
      state.SkipWithError("verification failed");
      break;
    }
    benchmark::DoNotOptimize(result);
  }
}

void BM_ParseJwks(benchmark::State& state, Algorithm alg) {
  auto jwks = gh::jose::generate_jwks({.alg = alg, .kid = "bench", .rsa_bits = 2048});
  if (!jwks) throw std::runtime_error(jwks.error());
  const std::string text = boost::json::serialize(*jwks);
  for (auto _ : state) {
    auto keys = gh::jose::parse_jwks(text);
    benchmark::DoNotOptimize(keys);
  }
}

int register_benchmarks() {
  for (Algorithm alg : gh::jose::kAllAlgorithms) {
    const std::string name(gh::jose::algorithm_name(alg));
    benchmark::RegisterBenchmark(("jose_verify/" + name).c_str(), BM_Verify, alg);
  }
  for (Algorithm alg : {Algorithm::rs256, Algorithm::es256, Algorithm::eddsa}) {
    const std::string name(gh::jose::algorithm_name(alg));
    benchmark::RegisterBenchmark(("jose_parse_jwks/" + name).c_str(), BM_ParseJwks, alg);
  }
  return 0;
}

const int registered = register_benchmarks();

}  // namespace

BENCHMARK_MAIN();
