#include <fmt/format.h>

#include "app/commands.h"
#include <boost/json.hpp>

#include "jose/generate.h"

namespace gh::app {

int run_credentials_generate(const std::string& algorithm, const std::string& kid, int bits) {
  std::optional<jose::Algorithm> alg = jose::parse_algorithm(algorithm);
  if (!alg) {
    fmt::print(stderr,
               "invalid --alg \"{}\": expected one of RS256, RS384, RS512, PS256, PS384, PS512, "
               "ES256, ES384, ES512, EdDSA, HS256, HS384, HS512\n",
               algorithm);
    return 2;
  }
  if (bits < jose::kMinGeneratedRsaBits || bits > jose::kMaxGeneratedRsaBits) {
    fmt::print(stderr, "invalid --bits {}: expected a number from {} to {}\n", bits, jose::kMinGeneratedRsaBits,
               jose::kMaxGeneratedRsaBits);
    return 2;
  }

  jose::GenerateOptions options;
  options.alg = *alg;
  if (!kid.empty()) options.kid = kid;
  options.rsa_bits = bits;
  auto jwks = jose::generate_jwks(options);
  if (!jwks) {
    fmt::print(stderr, "key generation failed: {}\n", jwks.error());
    return 1;
  }
  fmt::print("{}\n", boost::json::serialize(*jwks));
  return 0;
}

}  // namespace gh::app
