// Makes keys and tokens with the npm package `jose`, a JOSE implementation independent of
// gatehouse, for the integration tests.
//
//   node jose_tokens.mjs keys    stdin: [{"alg": "RS256", "kid": "k1"}, ...]
//                                stdout: [{"alg", "kid", "private": JWK, "public": JWK}, ...]
//   node jose_tokens.mjs sign    stdin: [{"alg", "kid"?, "private": JWK | null,
//                                         "secret_text"?: string, "claims": {...}}, ...]
//                                stdout: ["token", ...]
//
// "secret_text" signs HS* tokens with the UTF-8 bytes of a string (for key-confusion
// tests); "alg": "none" makes an unsecured token.
import { readFileSync } from "node:fs";
import * as jose from "jose";

const input = JSON.parse(readFileSync(0, "utf8"));

async function makeKey({ alg, kid }) {
  if (alg.startsWith("HS")) {
    const secret = await jose.generateSecret(alg, { extractable: true });
    const jwk = { ...(await jose.exportJWK(secret)), kid, alg, use: "sig" };
    return { alg, kid, private: jwk, public: jwk };
  }
  const options = alg === "EdDSA" ? { crv: "Ed25519", extractable: true } : { extractable: true };
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, options);
  const meta = { kid, alg, use: "sig" };
  return {
    alg,
    kid,
    private: { ...(await jose.exportJWK(privateKey)), ...meta },
    public: { ...(await jose.exportJWK(publicKey)), ...meta },
  };
}

async function signToken({ alg, kid, private: privateJwk, secret_text: secretText, claims }) {
  if (alg === "none") return new jose.UnsecuredJWT(claims).encode();
  const header = kid ? { alg, kid } : { alg };
  const key = secretText !== undefined
    ? new TextEncoder().encode(secretText)
    : await jose.importJWK(privateJwk, alg);
  return new jose.SignJWT(claims).setProtectedHeader(header).sign(key);
}

const command = process.argv[2];
let output;
if (command === "keys") {
  output = await Promise.all(input.map(makeKey));
} else if (command === "sign") {
  output = await Promise.all(input.map(signToken));
} else {
  console.error(`unknown command ${command}: expected keys or sign`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(output));
