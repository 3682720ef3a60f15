"""End-to-end tests of the jwt authenticator through the proxy.

Tokens and keys come from the npm package `jose` (installed from package-lock.json into
node_modules on first use), and key sets from jwks_server.py, which the tests can rotate,
break, slow down and ask for its request count.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import time
import unittest
import uuid

from fixtures.setups import ANY_HOST, echo_header, header_mutator, verbose_config
from harness import EchoServer, Gatehouse, HarnessError, http

HERE = os.path.dirname(os.path.abspath(__file__))
ALGORITHMS = ["RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA", "HS256"]
ISSUER = "https://issuer.test/"
AUDIENCE = "orders"
SCOPE = "orders.read"
# The jwt authenticator refreshes a key set for an unknown kid at most this often.
UNKNOWN_KID_REFRESH_SECONDS = 5.0
MAX_WAIT_SECONDS = 1.0


def ensure_node_modules() -> None:
    if os.path.isdir(os.path.join(HERE, "node_modules", "jose")):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True,
                   stdout=subprocess.DEVNULL)


def node(command: str, payload: object) -> object:
    result = subprocess.run(["node", os.path.join(HERE, "jose_tokens.mjs"), command],
                            input=json.dumps(payload), capture_output=True, text=True, cwd=HERE,
                            timeout=60)
    if result.returncode != 0:
        raise HarnessError(f"jose_tokens.mjs {command} failed: {result.stderr}")
    return json.loads(result.stdout)


def make_keys(specs: list[tuple[str, str]]) -> dict[str, dict]:
    """Return {kid: key} for (alg, kid) pairs, each key with alg, private and public JWKs."""
    keys = node("keys", [{"alg": alg, "kid": kid} for alg, kid in specs])
    return {key["kid"]: key for key in keys}


def jwks(*keys: dict) -> dict:
    return {"keys": [key["public"] for key in keys]}


class JwksServer:
    """jwks_server.py as a child process."""

    def __enter__(self) -> "JwksServer":
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "jwks_server.py")],
                                        stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())
        self.base = f"http://127.0.0.1:{self.port}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.process.kill()
        self.process.wait()

    def url(self, name: str) -> str:
        return f"{self.base}/sets/{name}/jwks.json"

    def set_jwks(self, name: str, document: dict) -> None:
        status, _, _ = http("PUT", f"{self.base}/control/{name}/jwks", body=json.dumps(document))
        assert status == 200

    def set_mode(self, name: str, mode: str, delay: float = 0.0) -> None:
        body = json.dumps({"mode": mode, "delay": delay})
        status, _, _ = http("PUT", f"{self.base}/control/{name}/mode", body=body)
        assert status == 200

    def count(self, name: str) -> int:
        _, _, body = http("GET", f"{self.base}/control/{name}/count")
        return json.loads(body)["count"]


def jwt_rule(rule_id: str, path: str, upstream: str, jwks_url: str, **config: object) -> dict:
    settings = {"jwks_urls": [jwks_url], **config}
    return {
        "id": rule_id,
        "match": {"url": f"http://{ANY_HOST}{path}", "methods": ["GET"]},
        "upstream": {"url": upstream},
        "authenticators": [{"handler": "jwt", "config": settings}],
        "authorizer": {"handler": "allow"},
        "mutators": [{"handler": name, "config": cfg} for name, cfg in
                     [header_mutator({"X-User": "{{ print .Subject }}"})]],
    }


class JwtTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        ensure_node_modules()
        cls.keys = make_keys([(alg, f"key-{alg.lower()}") for alg in ALGORITHMS] +
                             [("RS256", "rotated"), ("RS256", "flight-new"), ("ES256", "spare")])
        cls.main_key = cls.keys["key-rs256"]

        # Contexts entered with enterClassContext are exited even when set-up fails.
        cls._start_servers()

    @classmethod
    def _start_servers(cls) -> None:
        cls.jwks_server = cls.enterClassContext(JwksServer())
        cls.echo = cls.enterClassContext(EchoServer())
        main_keys = jwks(*(cls.keys[f"key-{alg.lower()}"] for alg in ALGORITHMS))
        for name in ("main", "rotation", "flight", "failing", "slow"):
            cls.jwks_server.set_jwks(name, main_keys)

        echo_url = cls.echo.url
        server = cls.jwks_server
        checks = {"trusted_issuers": [ISSUER], "target_audience": [AUDIENCE],
                  "required_scope": [SCOPE], "scope_strategy": "exact"}
        rules = [
            jwt_rule("main", "/main", echo_url, server.url("main"), **checks),
            jwt_rule("rotation", "/rotation", echo_url, server.url("rotation")),
            jwt_rule("flight", "/flight", echo_url, server.url("flight")),
            jwt_rule("failing", "/failing", echo_url, server.url("failing"), jwks_ttl="1s"),
            jwt_rule("slow", "/slow", echo_url, server.url("slow")),
        ]
        config = verbose_config({
            "authenticators": {"jwt": {"enabled": True, "config": {
                "jwks_urls": [server.url("main")],
                "allowed_algorithms": ALGORITHMS,
                "jwks_max_wait": f"{int(MAX_WAIT_SECONDS * 1000)}ms",
            }}},
        })
        cls.gatehouse = cls.enterClassContext(Gatehouse(config, rules=rules))

        # Fetch the rotation and flight sets once now, so their unknown-kid refresh interval
        # has passed by the time those tests run. The interval counts from the start of each
        # fetch, which lies before the end of its priming request, so timing from the end
        # is safe however slow the requests are.
        for name in ("rotation", "flight"):
            status, body = cls.get(f"/{name}", cls.token(cls.main_key))
            assert status == 200, f"priming {name} failed with {status}: {body}"
        cls.primed_at = time.monotonic()

    # -- helpers

    @classmethod
    def claims(cls, **overrides: object) -> dict:
        now = int(time.time())
        claims = {"sub": "alice", "iss": ISSUER, "aud": [AUDIENCE], "scp": [SCOPE],
                  "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not None}

    @classmethod
    def tokens(cls, requests: list[dict]) -> list[str]:
        return node("sign", requests)

    @classmethod
    def token(cls, key: dict, **claims: object) -> str:
        request = {"alg": key["alg"], "kid": key["kid"], "private": key["private"],
                   "claims": cls.claims(**claims)}
        return cls.tokens([request])[0]

    @classmethod
    def get(cls, path: str, token: str | None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        status, _, body = http("GET", cls.gatehouse.proxy_url + path, headers=headers)
        return status, json.loads(body) if body else {}

    def assert_rejected(self, token: str, path: str = "/main", reason: str = "") -> dict:
        status, body = self.get(path, token)
        self.assertEqual(status, 401, body)
        if reason:
            self.assertIn(reason, json.dumps(body))
        return body

    # -- tests

    def test_every_algorithm_accepted(self) -> None:
        requests = [{"alg": alg, "kid": f"key-{alg.lower()}",
                     "private": self.keys[f"key-{alg.lower()}"]["private"],
                     "claims": self.claims()} for alg in ALGORITHMS]
        for alg, token in zip(ALGORITHMS, self.tokens(requests)):
            with self.subTest(alg=alg):
                status, body = self.get("/main", token)
                self.assertEqual(status, 200, body)
                self.assertEqual(echo_header(body, "X-User"), ["alice"])

    def test_tampered_token_rejected(self) -> None:
        header, payload, signature = self.token(self.main_key).split(".")
        other = self.token(self.main_key, sub="mallory").split(".")[1]
        self.assert_rejected(f"{header}.{other}.{signature}", reason="bad_signature")

    def test_expired_token_rejected(self) -> None:
        self.assert_rejected(self.token(self.main_key, exp=int(time.time()) - 60), reason="expired")

    def test_not_yet_valid_token_rejected(self) -> None:
        token = self.token(self.main_key, nbf=int(time.time()) + 120)
        self.assert_rejected(token, reason="not_yet_valid")

    def test_wrong_issuer_rejected(self) -> None:
        self.assert_rejected(self.token(self.main_key, iss="https://evil.test/"), reason="issuer")

    def test_wrong_audience_rejected(self) -> None:
        self.assert_rejected(self.token(self.main_key, aud=["billing"]), reason="audience")

    def test_missing_scope_rejected(self) -> None:
        self.assert_rejected(self.token(self.main_key, scp=["orders.write"]), reason=SCOPE)

    def test_alg_none_rejected(self) -> None:
        token = self.tokens([{"alg": "none", "claims": self.claims()}])[0]
        self.assertTrue(token.endswith("."))
        self.assert_rejected(token)

    def test_hmac_keyed_with_rsa_public_key_rejected(self) -> None:
        public_text = json.dumps(self.main_key["public"])
        token = self.tokens([{"alg": "HS256", "kid": self.main_key["kid"], "private": None,
                              "secret_text": public_text, "claims": self.claims()}])[0]
        self.assert_rejected(token)

    def test_unknown_kid_rejected(self) -> None:
        unknown = self.keys["spare"]
        self.assert_rejected(self.token(unknown), reason="key_not_found")

    def test_missing_token_not_authenticated(self) -> None:
        status, _ = self.get("/main", None)
        self.assertEqual(status, 401)

    def wait_for_refresh_interval(self) -> None:
        remaining = self.primed_at + UNKNOWN_KID_REFRESH_SECONDS + 0.2 - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def test_rotated_key_picked_up(self) -> None:
        rotated = self.keys["rotated"]
        self.jwks_server.set_jwks("rotation", jwks(self.main_key, rotated))
        self.wait_for_refresh_interval()
        before = self.jwks_server.count("rotation")

        status, body = self.get("/rotation", self.token(rotated))
        self.assertEqual(status, 200, body)
        self.assertEqual(self.jwks_server.count("rotation"), before + 1)

        # Right after that refresh, another unknown kid does not fetch again.
        self.assert_rejected(self.token(self.keys["spare"]), path="/rotation")
        self.assertEqual(self.jwks_server.count("rotation"), before + 1)

    def test_concurrent_new_kid_fetched_once(self) -> None:
        new_key = self.keys["flight-new"]
        self.jwks_server.set_jwks("flight", jwks(self.main_key, new_key))
        self.jwks_server.set_mode("flight", "slow", 0.4)
        self.wait_for_refresh_interval()
        before = self.jwks_server.count("flight")

        requests = [{"alg": "RS256", "kid": new_key["kid"], "private": new_key["private"],
                     "claims": self.claims()} for _ in range(24)]
        tokens = self.tokens(requests)
        with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
            statuses = list(pool.map(lambda token: self.get("/flight", token)[0], tokens))

        self.assertEqual(statuses, [200] * len(tokens))
        self.assertEqual(self.jwks_server.count("flight") - before, 1)

    def test_failing_endpoint_keeps_previous_keys(self) -> None:
        status, body = self.get("/failing", self.token(self.main_key))
        self.assertEqual(status, 200, body)
        fetched = self.jwks_server.count("failing")

        self.jwks_server.set_mode("failing", "fail")
        time.sleep(1.2)  # past the rule's jwks_ttl of 1s, and past the cached token's TTL
        status, body = self.get("/failing", self.token(self.main_key))
        self.assertEqual(status, 200, body)
        self.assertGreater(self.jwks_server.count("failing"), fetched)
        self.assertIn("the previous keys stay in use", self.gatehouse.logs())

    def test_slow_endpoint_bounded_by_max_wait(self) -> None:
        self.jwks_server.set_mode("slow", "slow", 3.0)
        token = self.token(self.main_key)
        started = time.monotonic()
        status, body = self.get("/slow", token)
        elapsed = time.monotonic() - started

        self.assertEqual(status, 401, body)
        self.assertLess(elapsed, MAX_WAIT_SECONDS + 0.8)
        self.assertGreaterEqual(elapsed, MAX_WAIT_SECONDS - 0.1)

        # The fetch went on in the background and filled the set for later requests.
        time.sleep(3.0 - elapsed + 0.5)
        started = time.monotonic()
        status, body = self.get("/slow", token)
        self.assertEqual(status, 200, body)
        self.assertLess(time.monotonic() - started, 0.5)
        self.assertEqual(self.jwks_server.count("slow"), 1)


if __name__ == "__main__":
    unittest.main()
