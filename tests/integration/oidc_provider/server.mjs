// Runs the npm package oidc-provider as an OAuth 2.0 authorization server for the integration
// tests: client credentials grant, JWT and opaque access tokens, introspection and revocation.
//
//   node server.mjs --port 0
//     stdin:  {"clients": [client metadata, ...],
//              "resource_servers": {"<resource indicator>": {"audience", "scope",
//                                   "accessTokenFormat": "jwt" | "opaque", "jwt"?}, ...}}
//     stdout: one line, "listening on http://127.0.0.1:PORT", once requests are served.
//             That URL is also the issuer.
//
// Port 0 lets the system choose a free port. Every run makes new RS256 and ES256 signing
// keys. A token request names its resource server with the
// RFC 8707 `resource` parameter. Without one, oidc-provider issues an opaque token without an
// audience. oidc-provider's notices and warnings go to stderr.
//
// oidc-provider 8 is the release line that supports Node.js 20, the version Debian 12 machines
// here run; version 9 needs Node.js 22.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import { parseArgs } from "node:util";

import { Provider, errors } from "oidc-provider";

const HOST = "127.0.0.1";

// The key has no `kid`, so oidc-provider sets it to the key's SHA-256 thumbprint, and two
// servers never publish the same kid.
function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: "jwk" }), alg, use: "sig" };
}

function providerConfiguration(settings) {
  const resourceServers = settings.resource_servers ?? {};
  // Client metadata may only name scopes that the server supports.
  const scopes = new Set(["openid", "offline_access"]);
  for (const info of Object.values(resourceServers)) {
    for (const scope of info.scope.split(" ")) scopes.add(scope);
  }
  return {
    clients: settings.clients ?? [],
    scopes: [...scopes],
    jwks: {
      keys: [
        signingKey("rsa", { modulusLength: 2048 }, "RS256"),
        signingKey("ec", { namedCurve: "P-256" }, "ES256"),
      ],
    },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => false,
        getResourceServerInfo(ctx, indicator) {
          const info = resourceServers[indicator];
          if (info === undefined) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return info;
        },
      },
    },
  };
}

const { values } = parseArgs({ options: { port: { type: "string", default: "0" } } });
const settings = JSON.parse(readFileSync(0, "utf8"));

// oidc-provider prints notices with console.info, which would mix them with the ready line.
console.info = console.error;

const server = http.createServer();
server.listen(Number(values.port), HOST, () => {
  const issuer = `http://${HOST}:${server.address().port}`;
  const provider = new Provider(issuer, providerConfiguration(settings));
  server.on("request", provider.callback());
  process.stdout.write(`listening on ${issuer}\n`);
});
