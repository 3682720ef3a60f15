"""End-to-end tests of cookie_session and bearer_token against a test-controlled session
store and introspection endpoint, through the decision API."""

import base64
import unittest

from auth_servers import AuthServers
from fixtures.setups import ANY_HOST, base_config, header_mutator
from harness import Gatehouse, free_port, header_value, http

UPSTREAM = "http://127.0.0.1:9"
RESOURCE_SERVER_CREDENTIALS = "Basic " + base64.b64encode(b"resource-server:pw").decode()


def authn_rule(rule_id, handler, config=None, headers=None, methods=("GET", "PUT")):
    authenticator = {"handler": handler}
    if config is not None:
        authenticator["config"] = config
    mutator = header_mutator(headers or {"X-Subject": "{{ print .Subject }}"})
    return {
        "id": rule_id,
        "match": {"url": f"http://{ANY_HOST}/{rule_id}<(/.*)?>", "methods": list(methods)},
        "upstream": {"url": UPSTREAM},
        "authenticators": [authenticator],
        "authorizer": {"handler": "allow"},
        "mutators": [{"handler": mutator[0], "config": mutator[1]}],
    }


class SessionStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = AuthServers().__enter__()
        store = cls.servers.url("/session/check")
        config = base_config({"authenticators": {
            "cookie_session": {"enabled": True, "config": {"check_session_url": store, "preserve_path": True}},
            "bearer_token": {"enabled": True, "config": {"check_session_url": store, "preserve_path": True}},
        }})
        rules = [
            authn_rule("cookie", "cookie_session", {"only": ["sid"]}),
            authn_rule("any-cookie", "cookie_session"),
            authn_rule("bearer", "bearer_token", {"additional_headers": {"X-Gate": "1"}}),
            authn_rule("inbound-path", "bearer_token", {
                "preserve_path": False, "preserve_query": False, "force_method": "GET",
                "forward_http_headers": ["x-user"]}),
            authn_rule("paths", "bearer_token", {"subject_from": "identity.id", "extra_from": "identity.traits"},
                       headers={"X-Subject": "{{ print .Subject }}", "X-Team": "{{ print .Extra.team }}"}),
            authn_rule("rfc7662", "bearer_token", {
                "check_session_url": cls.servers.url("/introspect"), "introspection": {"enabled": True},
                "additional_headers": {"Authorization": RESOURCE_SERVER_CREDENTIALS}, "extra_from": "@this"},
                headers={"X-Subject": "{{ print .Subject }}", "X-Client": "{{ print .Extra.client_id }}"}),
            authn_rule("down", "bearer_token", {"check_session_url": f"http://127.0.0.1:{free_port()}/check"}),
        ]
        cls.gatehouse = Gatehouse(config, rules).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        cls.servers.__exit__(None, None, None)

    def setUp(self):
        self.servers.reset()

    def decide(self, path, headers=None, method="GET"):
        return http(method, self.gatehouse.api_url + "/decisions" + path, headers)

    def bearer(self, path, token, method="GET", headers=None):
        return self.decide(path, {"Authorization": f"Bearer {token}", **(headers or {})}, method)

    def assert_status(self, response, status):
        self.assertEqual(response[0], status, response[2])

    # -- bearer_token

    def test_bearer_session_sets_subject(self):
        self.servers.answer("session", "Bearer s-1", body={"sub": "ann", "extra": {"role": "admin"}})
        status, headers, body = self.bearer("/bearer", "s-1")
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "X-Subject"), "ann")
        sent = self.servers.requests("session")[0]
        self.assertEqual(sent["method"], "GET")
        self.assertEqual(sent["path"], "/session/check")
        self.assertEqual(sent["headers"]["Authorization"], "Bearer s-1")
        self.assertEqual(sent["headers"]["X-Gate"], "1")
        self.assertEqual(sent["body"], "")

    def test_bearer_uses_inbound_path_method_and_query(self):
        self.servers.answer("session", "Bearer s-2", body={"sub": "ann"})
        self.assert_status(self.bearer("/inbound-path/users/1?q=2", "s-2", method="PUT",
                                       headers={"X-User": "u1", "X-Other": "no"}), 200)
        sent = self.servers.requests("session")[0]
        self.assertEqual(sent["method"], "GET")
        self.assertEqual(sent["path"], "/inbound-path/users/1?q=2")
        self.assertEqual(sent["headers"]["X-User"], "u1")
        self.assertNotIn("X-Other", sent["headers"])

    def test_store_rejections_are_401(self):
        for status in (401, 403, 404):
            with self.subTest(status=status):
                self.servers.answer("session", "Bearer s-bad", status=status, body={})
                self.assert_status(self.bearer("/bearer", "s-bad"), 401)

    def test_store_400_logs_rfc7662_hint(self):
        self.servers.answer("session", "Bearer s-400", status=400, body={"error": "invalid_request"})
        self.assert_status(self.bearer("/bearer", "s-400"), 401)
        logs = self.gatehouse.logs()
        self.assertIn("introspection.enabled", logs)
        self.assertIn("oauth2_introspection", logs)

    def test_store_outages_are_gateway_errors(self):
        self.servers.answer("session", "Bearer s-500", status=500, body="boom")
        self.servers.answer("session", "Bearer s-503", status=503, body="down")
        self.assert_status(self.bearer("/bearer", "s-500"), 502)
        self.assert_status(self.bearer("/bearer", "s-503"), 503)
        self.assert_status(self.bearer("/down", "s-any"), 502)

    def test_store_rate_limit_passes_through(self):
        self.servers.answer("session", "Bearer s-429", status=429, body={},
                            headers={"Retry-After": "60", "X-RateLimit-Type": "user"})
        status, headers, body = self.bearer("/bearer", "s-429")
        self.assertEqual(status, 429, body)
        self.assertEqual(header_value(headers, "Retry-After"), "60")
        self.assertEqual(header_value(headers, "X-Ratelimit-Type"), "user")

    def test_subject_and_extra_paths(self):
        self.servers.answer("session", "Bearer s-3",
                            body={"identity": {"id": "u-9", "traits": {"team": "blue"}}})
        status, headers, body = self.bearer("/paths", "s-3")
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "X-Subject"), "u-9")
        self.assertEqual(header_value(headers, "X-Team"), "blue")

    def test_non_string_subject_is_403(self):
        self.servers.answer("session", "Bearer s-4", body={"sub": 42})
        self.assert_status(self.bearer("/bearer", "s-4"), 403)

    # -- bearer_token in RFC 7662 mode

    def test_rfc7662_mode_accepts_active_token(self):
        self.servers.answer("introspect", "opaque-1", body={"active": True, "sub": "svc", "client_id": "app"})
        status, headers, body = self.bearer("/rfc7662", "opaque-1")
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "X-Subject"), "svc")
        self.assertEqual(header_value(headers, "X-Client"), "app")
        sent = self.servers.requests("introspect")[0]
        self.assertEqual(sent["method"], "POST")
        self.assertEqual(sent["body"], "token=opaque-1")
        self.assertEqual(sent["headers"]["Content-Type"], "application/x-www-form-urlencoded")
        self.assertEqual(sent["headers"]["Authorization"], RESOURCE_SERVER_CREDENTIALS)

    def test_rfc7662_mode_rejects_inactive_token(self):
        self.servers.answer("introspect", "opaque-2", body={"active": False, "sub": "svc"})
        self.assert_status(self.bearer("/rfc7662", "opaque-2"), 401)

    def test_rfc7662_mode_rejects_malformed_answer(self):
        self.servers.answer("introspect", "opaque-3", body={"sub": "svc"})
        self.assert_status(self.bearer("/rfc7662", "opaque-3"), 401)

    # -- cookie_session

    def test_cookie_only_listed_names(self):
        self.servers.answer("session", "other=1", body={"subject": "ann"})
        self.assert_status(self.decide("/cookie", {"Cookie": "other=1"}), 401)
        self.assertEqual(self.servers.count("session"), 0)

        self.servers.answer("session", "other=1; sid=abc", body={"subject": "ann"})
        status, headers, body = self.decide("/cookie", {"Cookie": "other=1; sid=abc"})
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "X-Subject"), "ann")
        self.assertEqual(self.servers.requests("session")[0]["headers"]["Cookie"], "other=1; sid=abc")

    def test_cookie_without_only_needs_any_cookie(self):
        self.assert_status(self.decide("/any-cookie"), 401)
        self.assertEqual(self.servers.count("session"), 0)
        self.servers.answer("session", "x=1", body={"subject": "bob"})
        self.assert_status(self.decide("/any-cookie", {"Cookie": "x=1"}), 200)


if __name__ == "__main__":
    unittest.main()
