// One set of keys per test binary, made once by the openssl command (key generation takes
// a noticeable fraction of a second for RSA), and JWS tokens signed with them.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "unit/jose/openssl_cli.h"

namespace gh::jose::testing {

struct CliKeys {
  OpensslWorkspace ws;
  CliKey rsa = make_cli_key(ws, "rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", "RSA",
                            "rsa-1");
  CliKey rsa_1024 = make_cli_key(ws, "rsa1024", "-algorithm RSA -pkeyopt rsa_keygen_bits:1024",
                                 "RSA", "rsa-small");
  CliKey p256 = make_cli_key(ws, "p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", "EC",
                             "ec-256", "P-256", 32);
  CliKey p384 = make_cli_key(ws, "p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384", "EC",
                             "ec-384", "P-384", 48);
  CliKey p521 = make_cli_key(ws, "p521", "-algorithm EC -pkeyopt ec_paramgen_curve:P-521", "EC",
                             "ec-521", "P-521", 66);
  CliKey ed25519 = make_cli_key(ws, "ed25519", "-algorithm ED25519", "ED25519", "ed-1");
  std::string hmac_hex = make_hmac_hex();  // 64 random bytes, enough for HS512

  std::string hmac_jwk(std::size_t bytes, const std::string& kid) const {
    return members_json({{"kty", "oct"}, {"kid", kid},
                         {"k", to_base64url(from_hex(hmac_hex.substr(0, 2 * bytes)))}});
  }

  // Signs `header.payload` (both JSON text) with openssl for the named JWS algorithm and
  // returns the compact token.
  std::string sign(const std::string& alg, const std::string& header_json,
                   const std::string& payload_json) const {
    const std::string input = to_base64url(header_json) + "." + to_base64url(payload_json);
    ws.write("input.txt", input);
    const std::string digest = "-sha" + alg.substr(2);
    std::string signature;
    if (alg[0] == 'R' || alg[0] == 'P') {
      const std::string pss = alg[0] == 'P' ? " -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest" : "";
      ws.openssl("dgst " + digest + " -sign " + rsa.private_pem + pss + " -out sig.bin input.txt");
      signature = ws.read("sig.bin");
    } else if (alg[0] == 'E' && alg != "EdDSA") {
      const CliKey& key = alg == "ES256" ? p256 : alg == "ES384" ? p384 : p521;
      const std::size_t field = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
      ws.openssl("dgst " + digest + " -sign " + key.private_pem + " -out sig.der input.txt");
      signature = der_signature_to_raw(ws.read("sig.der"), field);
    } else if (alg == "EdDSA") {
      ws.openssl("pkeyutl -sign -inkey " + ed25519.private_pem + " -rawin -in input.txt -out sig.bin");
      signature = ws.read("sig.bin");
    } else {  // HS*
      const std::size_t bytes = std::stoul(alg.substr(2)) / 8;
      ws.openssl("dgst " + digest + " -mac HMAC -macopt hexkey:" + hmac_hex.substr(0, 2 * bytes) +
                 " -binary -out sig.bin input.txt");
      signature = ws.read("sig.bin");
    }
    return input + "." + to_base64url(signature);
  }

  // The public JWK (or oct JWK) that verifies tokens from sign(alg, ...).
  std::string verification_jwk(const std::string& alg) const {
    if (alg[0] == 'R' || alg[0] == 'P') return rsa.public_jwk;
    if (alg == "ES256") return p256.public_jwk;
    if (alg == "ES384") return p384.public_jwk;
    if (alg == "ES512") return p521.public_jwk;
    if (alg == "EdDSA") return ed25519.public_jwk;
    return hmac_jwk(std::stoul(alg.substr(2)) / 8, "hmac-" + alg);
  }

  // The kid of verification_jwk(alg).
  std::string kid_for(const std::string& alg) const {
    if (alg[0] == 'R' || alg[0] == 'P') return "rsa-1";
    if (alg == "ES256") return "ec-256";
    if (alg == "ES384") return "ec-384";
    if (alg == "ES512") return "ec-521";
    if (alg == "EdDSA") return "ed-1";
    return "hmac-" + alg;
  }

 private:
  std::string make_hmac_hex() {
    ws.openssl("rand -hex -out hmac.hex 64");
    std::string hex = ws.read("hmac.hex");
    while (!hex.empty() && !std::isxdigit(static_cast<unsigned char>(hex.back()))) hex.pop_back();
    return hex;
  }
};

inline const CliKeys& cli_keys() {
  static const CliKeys keys;  // removes its temporary folder at exit
  return keys;
}

inline const char* const kAlgorithmNames[] = {"RS256", "RS384", "RS512", "PS256", "PS384",
                                              "PS512", "ES256", "ES384", "ES512", "EdDSA",
                                              "HS256", "HS384", "HS512"};

}  // namespace gh::jose::testing
