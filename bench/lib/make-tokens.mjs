// Creates the RSA key, JWKS and RS256 access tokens that the JWT scenarios of bench/run use.
//
//   node make-tokens.mjs DIR ISSUER AUDIENCE COUNT
//
// Writes DIR/private.pem, DIR/public.pem, DIR/jwks.json, DIR/token-one.txt (one token) and
// DIR/tokens.txt (COUNT distinct tokens, one a line). An existing key and token file are
// reused while the tokens stay valid for at least a day and the file has COUNT lines, because
// signing is the slow part (a few hundred tokens per second per core).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const KEY_ID = 'bench-rs256';
const LIFETIME_SECONDS = 7 * 24 * 3600;

function base64url(data) {
  return Buffer.from(data).toString('base64url');
}

function signToken(privateKeyPem, claims) {
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KEY_ID }));
  const payload = base64url(JSON.stringify(claims));
  const signature = crypto.sign('sha256', Buffer.from(`${header}.${payload}`), privateKeyPem);
  return `${header}.${payload}.${base64url(signature)}`;
}

function claimsFor(index, issuer, audience, issuedAt) {
  return {
    iss: issuer,
    aud: audience,
    sub: `user-${index}`,
    scope: 'read',
    iat: issuedAt,
    exp: issuedAt + LIFETIME_SECONDS,
    jti: `bench-${issuedAt}-${index}`,
  };
}

if (!isMainThread) {
  const { privateKeyPem, issuer, audience, issuedAt, first, last } = workerData;
  const lines = [];
  for (let index = first; index < last; index++) {
    lines.push(signToken(privateKeyPem, claimsFor(index, issuer, audience, issuedAt)));
  }
  parentPort.postMessage(lines.join('\n'));
} else {
  const [dir, issuer, audience, countText] = process.argv.slice(2);
  const count = Number.parseInt(countText, 10);
  if (!dir || !issuer || !audience || !(count > 0)) {
    console.error('usage: node make-tokens.mjs DIR ISSUER AUDIENCE COUNT');
    process.exit(2);
  }
  fs.mkdirSync(dir, { recursive: true });
  const privatePath = path.join(dir, 'private.pem');
  const tokensPath = path.join(dir, 'tokens.txt');
  const stampPath = path.join(dir, 'issued-at');

  if (!fs.existsSync(privatePath)) {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    fs.writeFileSync(path.join(dir, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    fs.rmSync(tokensPath, { force: true });
  }
  const privateKeyPem = fs.readFileSync(privatePath, 'utf8');
  const publicJwk = crypto.createPublicKey(privateKeyPem).export({ format: 'jwk' });
  const jwks = { keys: [{ ...publicJwk, kid: KEY_ID, alg: 'RS256', use: 'sig' }] };
  fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify(jwks));

  const now = Math.floor(Date.now() / 1000);
  let reusable = false;
  if (fs.existsSync(tokensPath) && fs.existsSync(stampPath)) {
    const stamp = Number.parseInt(fs.readFileSync(stampPath, 'utf8'), 10);
    const stampIssuer = fs.readFileSync(path.join(dir, 'issuer'), 'utf8');
    const lines = fs.readFileSync(tokensPath, 'utf8').split('\n').filter((line) => line.length > 0).length;
    reusable = stampIssuer === issuer && lines === count && stamp + LIFETIME_SECONDS - now > 24 * 3600;
  }
  if (reusable) {
    console.error(`make-tokens: reusing ${count} tokens in ${tokensPath}`);
    process.exit(0);
  }

  const workers = Math.max(1, Math.min(os.availableParallelism(), 4));
  const started = Date.now();
  const slice = Math.ceil(count / workers);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, worker) => {
      const first = worker * slice;
      const last = Math.min(count, first + slice);
      return new Promise((resolve, reject) => {
        const thread = new Worker(new URL(import.meta.url), {
          workerData: { privateKeyPem, issuer, audience, issuedAt: now, first, last },
        });
        thread.once('message', resolve);
        thread.once('error', reject);
      });
    }),
  );
  fs.writeFileSync(tokensPath, parts.filter((part) => part.length > 0).join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'token-one.txt'), signToken(privateKeyPem, claimsFor(0, issuer, audience, now)));
  fs.writeFileSync(stampPath, String(now));
  fs.writeFileSync(path.join(dir, 'issuer'), issuer);
  console.error(`make-tokens: signed ${count} tokens in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
