// libFuzzer target for the JOSE parsers: the input is a JWKS document and a compact token,
// separated by the first newline. The JWKS is parsed (bad keys are skipped), then the token
// is verified against it with every algorithm allowed, and its claims are decoded.
//
// Build: clang++ -std=c++20 -fsanitize=fuzzer,address -Isrc tests/fuzz/jose_fuzz.cc
//        src/jose/*.cc -lcrypto -lboost_json -lfmt
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "jose/jwk.h"
#include "jose/jws.h"
#include "jose/jwt.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view jwks_text = input.substr(0, newline);
  const std::string_view token =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  auto keys = gh::jose::parse_jwks(jwks_text);
  if (!keys) return 0;
  for (const gh::jose::Jwk& key : keys->keys()) {
    (void)key.to_public_json();
  }

  auto verified = gh::jose::verify(token, *keys, gh::jose::kAllAlgorithms);
  auto decoded = gh::jose::decode_unverified(token);
  if (decoded) {
    auto claims = gh::jose::parse_claims(decoded->payload);
    if (claims) (void)gh::jose::extract_scopes(*claims);
  }
  (void)verified;
  return 0;
}
