"""The proxy protecting a service with tokens from gatehouse's own token service: JWTs checked
by the jwt authenticator against the service's JWKS, opaque tokens by oauth2_introspection
against its introspection endpoint, all in one gatehouse process."""

from __future__ import annotations

import json
import unittest

from fixtures.setups import base_config
from harness import EchoServer, Gatehouse, free_port, http
from test_token_service import FORM_HEADERS, SYSTEM_SECRET, basic_header, form_body


def config(public_port: int, admin_port: int) -> dict:
    issuer = f"http://127.0.0.1:{public_port}/"
    return base_config({
        "oauth2": {"enabled": True, "issuer": issuer, "dsn": "memory",
                   "secrets": {"system": [SYSTEM_SECRET]},
                   "serve": {"public": {"host": "127.0.0.1", "port": public_port},
                             "admin": {"host": "127.0.0.1", "port": admin_port}}},
        "authenticators": {
            "jwt": {"enabled": True, "config": {
                "jwks_urls": [f"http://127.0.0.1:{public_port}/.well-known/jwks.json"],
                "trusted_issuers": [issuer], "scope_strategy": "exact"}},
            "oauth2_introspection": {"enabled": True, "config": {
                "introspection_url": f"http://127.0.0.1:{admin_port}/admin/oauth2/introspect",
                "scope_strategy": "exact"}},
        },
    })


def rules(upstream: str) -> list[dict]:
    def protected(rule_id: str, path: str, scope: str) -> dict:
        scoped = {"required_scope": [scope]}
        return {
            "id": rule_id,
            "match": {"url": f"http://<[^/]+>/{path}/<.*>", "methods": ["GET"]},
            "authenticators": [{"handler": "jwt", "config": scoped},
                               {"handler": "oauth2_introspection", "config": scoped}],
            "authorizer": {"handler": "allow"},
            "mutators": [{"handler": "header", "config": {"headers": {"X-User": "{{ print .Subject }}"}}}],
            "upstream": {"url": upstream},
        }
    return [protected("user", "user", "user"), protected("admin", "admin", "admin")]


class OwnTokenServiceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.echo = EchoServer("app").__enter__()
        public_port, admin_port = free_port(), free_port()
        cls.public_url = f"http://127.0.0.1:{public_port}"
        cls.admin_url = f"http://127.0.0.1:{admin_port}"
        cls.gatehouse = Gatehouse(config(public_port, admin_port), rules(cls.echo.url)).__enter__()
        cls.opaque_client = cls.create_client("opaque")
        cls.jwt_client = cls.create_client("jwt")

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        cls.echo.__exit__(None, None, None)

    @classmethod
    def create_client(cls, strategy: str) -> dict:
        body = json.dumps({"grant_types": ["client_credentials"], "scope": "user admin",
                           "access_token_strategy": strategy}).encode()
        status, _, raw = http("POST", cls.admin_url + "/admin/clients", {"Content-Type": "application/json"}, body)
        assert status == 201, (status, raw)
        return json.loads(raw)

    def token(self, client: dict, scope: str) -> str:
        headers = dict(FORM_HEADERS, Authorization=basic_header(client["client_id"], client["client_secret"]))
        status, _, raw = http("POST", self.public_url + "/oauth2/token", headers,
                              form_body({"grant_type": "client_credentials", "scope": scope}))
        self.assertEqual(status, 200, raw)
        return json.loads(raw)["access_token"]

    def call(self, path: str, token: str | None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        status, _, raw = http("GET", self.gatehouse.proxy_url + path, headers)
        return status, json.loads(raw) if raw else {}

    def forwarded_user(self, body: dict) -> list[str]:
        return [value for name, value in body["headers"] if name.lower() == "x-user"]

    def test_jwt_token_reaches_user_service(self):
        token = self.token(self.jwt_client, "user")
        self.assertEqual(token.count("."), 2)
        status, body = self.call("/user/profile", token)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.forwarded_user(body), [self.jwt_client["client_id"]])

    def test_opaque_token_reaches_user_service(self):
        token = self.token(self.opaque_client, "user")
        self.assertTrue(token.startswith("ory_at_"))
        status, body = self.call("/user/profile", token)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.forwarded_user(body), [self.opaque_client["client_id"]])

    def test_user_scope_cannot_reach_admin(self):
        status, body = self.call("/admin/panel", self.token(self.opaque_client, "user"))
        self.assertEqual(status, 403, body)
        status, body = self.call("/admin/panel", self.token(self.jwt_client, "user"))
        self.assertEqual(status, 401, body)  # the jwt authenticator rejects a missing scope with 401

    def test_admin_scope_reaches_admin(self):
        status, body = self.call("/admin/panel", self.token(self.opaque_client, "admin"))
        self.assertEqual(status, 200, body)

    def test_revoked_opaque_token_is_rejected(self):
        client = self.opaque_client
        token = self.token(client, "user")
        self.assertEqual(self.call("/user/x", token)[0], 200)
        headers = dict(FORM_HEADERS, Authorization=basic_header(client["client_id"], client["client_secret"]))
        status, _, _ = http("POST", self.public_url + "/oauth2/revoke", headers, form_body({"token": token}))
        self.assertEqual(status, 200)
        self.assertEqual(self.call("/user/x", token)[0], 401)

    def test_missing_and_malformed_tokens_are_rejected(self):
        self.assertEqual(self.call("/user/x", None)[0], 401)
        self.assertEqual(self.call("/user/x", "not-a-token")[0], 401)
        self.assertEqual(self.call("/user/x", "a.b.c")[0], 401)

    def test_token_endpoint_through_the_proxy_is_not_routed(self):
        # No rule covers /oauth2/token, so the proxy returns 404 rather than forwarding.
        status, _, _ = http("POST", self.gatehouse.proxy_url + "/oauth2/token", FORM_HEADERS, b"grant_type=x")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
