"""End-to-end tests of the OAuth2 token service on SQLite: every public and admin endpoint,
the CLI commands that drive the admin API, and bad input that must never cause a 500."""

from __future__ import annotations

import base64
import json
import os
import random
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.parse
from typing import Any

from harness import Gatehouse, free_port, header_value, http

SYSTEM_SECRET = "an integration-test system secret of 32+ bytes"


def basic_header(client_id: str, secret: str) -> str:
    """Return an Authorization value that form-encodes id and secret (RFC 6749 §2.3.1)."""
    pair = urllib.parse.quote_plus(client_id) + ":" + urllib.parse.quote_plus(secret)
    return "Basic " + base64.b64encode(pair.encode()).decode()


def form_body(fields: dict[str, str] | list[tuple[str, str]]) -> bytes:
    return urllib.parse.urlencode(fields).encode()


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def gatehouse_binary() -> str:
    return os.environ["GATEHOUSE_BIN"]


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([gatehouse_binary(), *arguments], capture_output=True, text=True, timeout=60)


class TokenServiceProcess:
    """gatehouse serve with the token service enabled on two free loopback ports.

    Attributes after __enter__: public_url, admin_url, gatehouse (the harness process).
    """

    def __init__(self, dsn: str = "memory", **oauth2: Any) -> None:
        self.dsn = dsn
        self.oauth2 = oauth2
        self.public_url = self.admin_url = ""
        self.gatehouse: Gatehouse | None = None

    def config(self, public_port: int, admin_port: int) -> dict:
        issuer = f"http://127.0.0.1:{public_port}/"
        section = {"enabled": True, "issuer": issuer, "dsn": self.dsn,
                   "secrets": {"system": [SYSTEM_SECRET]},
                   "serve": {"public": {"host": "127.0.0.1", "port": public_port},
                             "admin": {"host": "127.0.0.1", "port": admin_port}}}
        section.update(self.oauth2)
        return {"oauth2": section}

    def __enter__(self) -> "TokenServiceProcess":
        public_port, admin_port = free_port(), free_port()
        self.gatehouse = Gatehouse(self.config(public_port, admin_port)).__enter__()
        self.public_url = f"http://127.0.0.1:{public_port}"
        self.admin_url = f"http://127.0.0.1:{admin_port}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.gatehouse is not None:
            self.gatehouse.__exit__(*exc_info)

    def logs(self) -> str:
        return self.gatehouse.logs() if self.gatehouse else ""

    # -- admin API

    def admin(self, method: str, path: str, body: Any = None) -> tuple[int, list, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else None
        status, response_headers, raw = http(method, self.admin_url + path, headers, data)
        return status, response_headers, json.loads(raw) if raw else None

    def create_client(self, **fields: Any) -> dict:
        fields.setdefault("grant_types", ["client_credentials"])
        status, _, body = self.admin("POST", "/admin/clients", fields)
        assert status == 201, (status, body)
        return body

    def introspect(self, token: str, **extra: str) -> dict:
        status, _, body = http("POST", self.admin_url + "/admin/oauth2/introspect", FORM_HEADERS,
                               form_body({"token": token, **extra}))
        assert status == 200, (status, body)
        return json.loads(body)

    # -- public API

    def post_form(self, path: str, fields: Any, authorization: str | None = None,
                  headers: dict | None = None) -> tuple[int, list, Any]:
        all_headers = dict(FORM_HEADERS)
        if authorization:
            all_headers["Authorization"] = authorization
        all_headers.update(headers or {})
        body = fields if isinstance(fields, bytes) else form_body(fields)
        status, response_headers, raw = http("POST", self.public_url + path, all_headers, body)
        return status, response_headers, json.loads(raw) if raw else None

    def token(self, client_id: str, secret: str, **fields: str) -> tuple[int, list, Any]:
        return self.post_form("/oauth2/token", {"grant_type": "client_credentials", **fields},
                              basic_header(client_id, secret))

    def access_token(self, client_id: str, secret: str, **fields: str) -> str:
        status, _, body = self.token(client_id, secret, **fields)
        assert status == 200, (status, body)
        return body["access_token"]

    def revoke(self, token: str, client_id: str, secret: str) -> int:
        status, _, _ = self.post_form("/oauth2/revoke", {"token": token}, basic_header(client_id, secret))
        return status


class TokenServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.service = TokenServiceProcess().__enter__()
        cls.client = cls.service.create_client(
            client_id="app", client_secret="app-secret", scope="read write orders.*",
            audience=["https://api.example.com"])

    @classmethod
    def tearDownClass(cls) -> None:
        cls.service.__exit__(None, None, None)

    def test_discovery_documents(self) -> None:
        for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
            status, _, raw = http("GET", self.service.public_url + path)
            self.assertEqual(status, 200, path)
            document = json.loads(raw)
            issuer = self.service.public_url + "/"
            self.assertEqual(document["issuer"], issuer)
            self.assertEqual(document["token_endpoint"], self.service.public_url + "/oauth2/token")
            self.assertEqual(document["jwks_uri"], self.service.public_url + "/.well-known/jwks.json")
            self.assertEqual(document["revocation_endpoint"], self.service.public_url + "/oauth2/revoke")
            self.assertEqual(document["grant_types_supported"], ["client_credentials"])
            self.assertIn("private_key_jwt", document["token_endpoint_auth_methods_supported"])

    def test_jwks_has_only_public_keys(self) -> None:
        status, _, raw = http("GET", self.service.public_url + "/.well-known/jwks.json")
        self.assertEqual(status, 200)
        keys = json.loads(raw)["keys"]
        self.assertGreaterEqual(len(keys), 1)
        for key in keys:
            self.assertEqual(key["use"], "sig")
            self.assertTrue(key["kid"])
            for private_member in ("d", "p", "q", "dp", "dq", "qi"):
                self.assertNotIn(private_member, key)

    def test_health_and_version(self) -> None:
        for url in (self.service.public_url + "/health/alive", self.service.public_url + "/health/ready",
                    self.service.admin_url + "/health/alive", self.service.admin_url + "/admin/health/ready"):
            status, _, raw = http("GET", url)
            self.assertEqual(status, 200, url)
            self.assertEqual(json.loads(raw), {"status": "ok"}, url)
        status, _, raw = http("GET", self.service.admin_url + "/admin/version")
        self.assertEqual(status, 200)
        self.assertIn("version", json.loads(raw))

    def test_opaque_token_lifecycle(self) -> None:
        status, headers, body = self.service.token("app", "app-secret", scope="read orders.list",
                                                   audience="https://api.example.com/v1")
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "Cache-Control"), "no-store")
        self.assertEqual(header_value(headers, "Pragma"), "no-cache")
        self.assertEqual(body["token_type"], "bearer")
        self.assertEqual(body["scope"], "read orders.list")
        self.assertEqual(body["expires_in"], 3600)
        token = body["access_token"]
        self.assertRegex(token, r"^ory_at_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$")

        active = self.service.introspect(token)
        self.assertTrue(active["active"])
        self.assertEqual(active["client_id"], "app")
        self.assertEqual(active["sub"], "app")
        self.assertEqual(active["scope"], "read orders.list")
        self.assertEqual(active["aud"], ["https://api.example.com/v1"])
        self.assertEqual(active["iss"], self.service.public_url + "/")
        self.assertEqual(active["token_type"], "Bearer")
        self.assertEqual(active["token_use"], "access_token")
        self.assertEqual(active["exp"] - active["iat"], 3600)
        self.assertEqual(active["nbf"], active["iat"])

        self.assertEqual(self.service.introspect(token, scope="write"), {"active": False})
        self.assertEqual(self.service.revoke(token, "app", "app-secret"), 200)
        self.assertEqual(self.service.introspect(token), {"active": False})
        self.assertEqual(self.service.revoke(token, "app", "app-secret"), 200)
        self.assertEqual(self.service.revoke("unknown-token", "app", "app-secret"), 200)

    def test_jwt_client_override(self) -> None:
        self.service.create_client(client_id="jwt-app", client_secret="jwt-secret", scope="read",
                                   access_token_strategy="jwt")
        token = self.service.access_token("jwt-app", "jwt-secret", scope="read")
        header_part, payload_part, _ = token.split(".")
        pad = lambda text: text + "=" * (-len(text) % 4)
        header = json.loads(base64.urlsafe_b64decode(pad(header_part)))
        claims = json.loads(base64.urlsafe_b64decode(pad(payload_part)))
        self.assertEqual(header["typ"], "JWT")
        _, _, raw = http("GET", self.service.public_url + "/.well-known/jwks.json")
        published = {key["kid"]: key for key in json.loads(raw)["keys"]}
        self.assertIn(header["kid"], published)
        # RS256 unless another test rotated to a key of another algorithm first.
        self.assertEqual(header["alg"], published[header["kid"]]["alg"])
        self.assertEqual(claims["iss"], self.service.public_url + "/")
        self.assertEqual(claims["sub"], "jwt-app")
        self.assertEqual(claims["client_id"], "jwt-app")
        self.assertEqual(claims["scp"], ["read"])
        self.assertEqual(claims["aud"], [])
        self.assertEqual(claims["exp"] - claims["iat"], 3600)
        self.assertTrue(claims["jti"])

        self.assertTrue(self.service.introspect(token)["active"])
        self.assertEqual(self.service.revoke(token, "jwt-app", "jwt-secret"), 200)
        self.assertFalse(self.service.introspect(token)["active"])

    def test_basic_credentials_are_form_decoded(self) -> None:
        self.service.create_client(client_id="team:a@b", client_secret="p@ss:word+ %")
        status, _, body = self.service.token("team:a@b", "p@ss:word+ %")
        self.assertEqual(status, 200, body)

    def test_client_secret_post(self) -> None:
        self.service.create_client(client_id="poster", client_secret="poster-secret",
                                   token_endpoint_auth_method="client_secret_post")
        status, _, body = self.service.post_form("/oauth2/token", {
            "grant_type": "client_credentials", "client_id": "poster", "client_secret": "poster-secret"})
        self.assertEqual(status, 200, body)
        status, _, body = self.service.token("poster", "poster-secret")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))

    def test_other_clients_token_is_not_revoked(self) -> None:
        self.service.create_client(client_id="stranger", client_secret="stranger-secret")
        token = self.service.access_token("app", "app-secret")
        self.assertEqual(self.service.revoke(token, "stranger", "stranger-secret"), 200)
        self.assertTrue(self.service.introspect(token)["active"])

    def test_client_crud(self) -> None:
        created = self.service.create_client(client_name="crud", scope="a b", metadata={"k": "v"})
        client_id = created["client_id"]
        self.assertEqual(len(created["client_secret"]), 26)
        self.assertEqual(created["token_endpoint_auth_method"], "client_secret_basic")

        status, _, loaded = self.service.admin("GET", f"/admin/clients/{client_id}")
        self.assertEqual(status, 200)
        self.assertNotIn("client_secret", loaded)
        self.assertEqual(loaded["metadata"], {"k": "v"})

        status, _, listed = self.service.admin("GET", "/admin/clients?client_name=crud")
        self.assertEqual(status, 200)
        self.assertEqual([client["client_id"] for client in listed], [client_id])

        status, _, updated = self.service.admin("PUT", f"/clients/{client_id}",
                                                {"client_name": "crud", "scope": "c",
                                                 "grant_types": ["client_credentials"]})
        self.assertEqual(status, 200, updated)
        self.assertEqual(updated["scope"], "c")
        status, _, body = self.service.token(client_id, created["client_secret"], scope="c")
        self.assertEqual(status, 200, body)

        status, _, body = self.service.admin("POST", "/admin/clients", {"client_id": client_id})
        self.assertEqual(status, 409, body)
        status, _, body = self.service.admin("POST", "/admin/clients", {"client_secret": "short"})
        self.assertEqual((status, body["error"]), (400, "invalid_client_metadata"))

        status, headers, _ = self.service.admin("DELETE", f"/admin/clients/{client_id}")
        self.assertEqual(status, 204)
        self.assertNotIn("content-length", [name.lower() for name, _ in headers])
        status, _, body = self.service.admin("GET", f"/admin/clients/{client_id}")
        self.assertEqual((status, body["error"]), (404, "Unable to locate the resource"))

    def test_token_request_errors(self) -> None:
        cases = [
            ({"grant_type": "password", "username": "u", "password": "p"}, basic_header("app", "app-secret"),
             400, "unsupported_grant_type"),
            ({"scope": "read"}, basic_header("app", "app-secret"), 400, "invalid_request"),
            ({"grant_type": "client_credentials"}, basic_header("nobody", "app-secret"), 401, "invalid_client"),
            ({"grant_type": "client_credentials"}, basic_header("app", "wrong"), 401, "invalid_client"),
            ({"grant_type": "client_credentials"}, None, 400, "invalid_request"),
            ({"grant_type": "client_credentials"}, "Basic %%%", 400, "invalid_request"),
            ({"grant_type": "client_credentials", "scope": "admin"}, basic_header("app", "app-secret"),
             400, "invalid_scope"),
            ({"grant_type": "client_credentials", "audience": "https://evil.example.com"},
             basic_header("app", "app-secret"), 400, "invalid_request"),
        ]
        for fields, authorization, expected_status, expected_error in cases:
            with self.subTest(fields=fields, authorization=authorization):
                status, headers, body = self.service.post_form("/oauth2/token", fields, authorization)
                self.assertEqual(status, expected_status, body)
                self.assertEqual(body["error"], expected_error)
                self.assertTrue(body["error_description"])
                self.assertEqual(header_value(headers, "Cache-Control"), "no-store")

    def test_failed_basic_auth_sends_challenge(self) -> None:
        status, headers, _ = self.service.token("app", "wrong")
        self.assertEqual(status, 401)
        self.assertEqual(header_value(headers, "WWW-Authenticate"), 'Basic realm="gatehouse"')

    def test_malformed_requests(self) -> None:
        url = self.service.public_url + "/oauth2/token"
        auth = {"Authorization": basic_header("app", "app-secret")}
        cases = [
            ("malformed form", {**FORM_HEADERS, **auth}, b"grant_type=%zz", url, 400),
            ("empty body", {**FORM_HEADERS, **auth}, b"", url, 400),
            ("JSON body", {"Content-Type": "application/json", **auth}, b'{"grant_type":"client_credentials"}', url, 400),
            ("secret in query", {**FORM_HEADERS}, b"grant_type=client_credentials",
             url + "?client_id=app&client_secret=app-secret", 400),
            ("oversized body", {**FORM_HEADERS, **auth}, b"scope=" + b"a" * 100_000, url, 413),
        ]
        for name, headers, body, target, expected in cases:
            with self.subTest(name):
                status, _, raw = http("POST", target, headers, body)
                self.assertEqual(status, expected, raw)
                self.assertIn("error", json.loads(raw))
        status, headers, _ = http("GET", url)
        self.assertEqual(status, 405)
        self.assertEqual(header_value(headers, "Allow"), "POST")
        status, _, _ = http("POST", self.service.admin_url + "/admin/oauth2/introspect", FORM_HEADERS, b"")
        self.assertEqual(status, 400)

    def test_random_input_never_causes_500(self) -> None:
        generator = random.Random(7)
        alphabet = b"abc=&%+:;/ \x00\xff0123456789_-grant_typeclient"
        for round_number in range(60):
            body = bytes(generator.choice(alphabet) for _ in range(generator.randint(0, 200)))
            authorization = generator.choice([None, "Basic " + base64.b64encode(body[:30]).decode(), "Bearer x"])
            for path, url in (("token", self.service.public_url + "/oauth2/token"),
                              ("revoke", self.service.public_url + "/oauth2/revoke"),
                              ("introspect", self.service.admin_url + "/admin/oauth2/introspect"),
                              ("clients", self.service.admin_url + "/admin/clients")):
                headers = dict(FORM_HEADERS)
                if authorization:
                    headers["Authorization"] = authorization
                status, _, raw = http("POST", url, headers, body)
                self.assertLess(status, 500, f"{path} round {round_number}: {body!r} -> {raw!r}")

    def test_clients_and_keys_cli(self) -> None:
        endpoint = self.service.admin_url
        created = run_cli("clients", "create", "--endpoint", endpoint, "--id", "cli-app",
                          "--scope", "read", "--scope", "write", "--audience", "https://api.example.com")
        self.assertEqual(created.returncode, 0, created.stderr)
        client = json.loads(created.stdout)
        self.assertEqual(client["scope"], "read write")
        self.assertEqual(client["grant_types"], ["client_credentials"])
        self.assertEqual(self.service.token("cli-app", client["client_secret"], scope="write")[0], 200)

        listed = run_cli("clients", "list", "--endpoint", endpoint)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("cli-app", [entry["client_id"] for entry in json.loads(listed.stdout)])
        fetched = run_cli("clients", "get", "cli-app", "--endpoint", endpoint)
        self.assertEqual(json.loads(fetched.stdout)["client_id"], "cli-app")
        self.assertEqual(run_cli("clients", "delete", "cli-app", "--endpoint", endpoint).returncode, 0)
        missing = run_cli("clients", "get", "cli-app", "--endpoint", endpoint)
        self.assertEqual(missing.returncode, 1)

        _, _, raw = http("GET", self.service.public_url + "/.well-known/jwks.json")
        before = [key["kid"] for key in json.loads(raw)["keys"]]
        rotated = run_cli("keys", "rotate", "--endpoint", endpoint, "--alg", "ES256")
        self.assertEqual(rotated.returncode, 0, rotated.stderr)
        new_key = json.loads(rotated.stdout)["keys"][0]
        self.assertEqual((new_key["kty"], new_key["crv"]), ("EC", "P-256"))
        _, _, raw = http("GET", self.service.public_url + "/.well-known/jwks.json")
        after = [key["kid"] for key in json.loads(raw)["keys"]]
        self.assertEqual(set(after), set(before) | {new_key["kid"]})


class SqliteFileTest(unittest.TestCase):
    def setUp(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="gatehouse-sqlite-")
        self.path = os.path.join(self.folder, "tokens.db")
        self.dsn = "sqlite://" + self.path

    def test_serve_requires_migration(self) -> None:
        process = TokenServiceProcess(self.dsn)
        config_path = os.path.join(self.folder, "config.json")
        config = process.config(free_port(), free_port())
        # Ports chosen here, so that a server on the default proxy or API port cannot change the outcome.
        config["serve"] = {"proxy": {"host": "127.0.0.1", "port": free_port()},
                           "api": {"host": "127.0.0.1", "port": free_port()}}
        with open(config_path, "w") as output:
            json.dump(config, output)
        result = subprocess.run([gatehouse_binary(), "serve", "-c", config_path], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertIn("migrate sql", result.stdout + result.stderr)

        migrated = run_cli("migrate", "sql", "-c", config_path)
        self.assertEqual(migrated.returncode, 0, migrated.stderr)
        self.assertIn("schema at version 1 (was 0)", migrated.stdout)
        again = run_cli("migrate", "sql", "--dsn", self.dsn)
        self.assertIn("schema at version 1 (was 1)", again.stdout)

    def test_expired_tokens_are_purged(self) -> None:
        self.assertEqual(run_cli("migrate", "sql", "--dsn", self.dsn).returncode, 0)
        with TokenServiceProcess(self.dsn, ttl={"access_token": "3s"}, purge_interval="200ms") as service:
            service.create_client(client_id="short", client_secret="short-lived")
            token = service.access_token("short", "short-lived")
            self.assertTrue(service.introspect(token)["active"])
            with sqlite3.connect(self.path) as database:
                stored = database.execute("SELECT signature FROM gatehouse_oauth2_access_tokens").fetchall()
            self.assertEqual(len(stored), 1)
            self.assertNotIn(token.split(".")[1], stored[0][0])  # only a hash is stored

            deadline = time.monotonic() + 10
            remaining = 1
            while remaining and time.monotonic() < deadline:
                time.sleep(0.2)
                with sqlite3.connect(self.path) as database:
                    remaining = database.execute("SELECT COUNT(*) FROM gatehouse_oauth2_access_tokens").fetchone()[0]
            self.assertEqual(remaining, 0)
            self.assertEqual(service.introspect(token), {"active": False})

    def test_state_survives_restart(self) -> None:
        self.assertEqual(run_cli("migrate", "sql", "--dsn", self.dsn).returncode, 0)
        with TokenServiceProcess(self.dsn) as service:
            service.create_client(client_id="durable", client_secret="durable-secret")
            token = service.access_token("durable", "durable-secret")
        with TokenServiceProcess(self.dsn) as service:
            self.assertTrue(service.introspect(token)["active"])
            self.assertEqual(service.token("durable", "durable-secret")[0], 200)


if __name__ == "__main__":
    unittest.main()
