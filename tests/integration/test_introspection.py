"""End-to-end tests of oauth2_introspection and oauth2_client_credentials against a
test-controlled introspection endpoint and token endpoint, through the decision API and the
proxy."""

import base64
import json
import time
import unittest

from auth_servers import AuthServers
from fixtures.setups import ANY_HOST, base_config, header_mutator
from harness import EchoServer, Gatehouse, free_port, header_value, http

# The decision API never forwards, so the rules need an upstream only to be complete.
UPSTREAM = "http://127.0.0.1:9"


def authn_rule(rule_id, handler, config=None, upstream=UPSTREAM, headers=None):
    """A rule for GET /<rule_id> that runs one authenticator and sets the given headers."""
    authenticator = {"handler": handler}
    if config is not None:
        authenticator["config"] = config
    mutator = header_mutator(headers or {"X-Subject": "{{ print .Subject }}"})
    return {
        "id": rule_id,
        "match": {"url": f"http://{ANY_HOST}/{rule_id}", "methods": ["GET"]},
        "upstream": {"url": upstream},
        "authenticators": [authenticator],
        "authorizer": {"handler": "allow"},
        "mutators": [{"handler": mutator[0], "config": mutator[1]}],
    }


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


CACHE = {"enabled": True, "max_cost": 1048576}


class IntrospectionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = AuthServers().__enter__()
        cls.echo = EchoServer().__enter__()
        introspect = cls.servers.url("/introspect")
        token_url = cls.servers.url("/token")
        config = base_config({"authenticators": {
            "oauth2_introspection": {"enabled": True, "config": {
                "introspection_url": introspect, "retry": {"give_up_after": "1s", "max_delay": "50ms"}}},
            "oauth2_client_credentials": {"enabled": True, "config": {"token_url": token_url}},
        }})
        closed_port = free_port()
        rules = [
            authn_rule("plain", "oauth2_introspection",
                       headers={"X-Subject": "{{ print .Subject }}", "X-Client": "{{ print .Extra.client_id }}"}),
            authn_rule("proxied", "oauth2_introspection", upstream=cls.echo.url),
            authn_rule("checked", "oauth2_introspection", {
                "scope_strategy": "exact", "required_scope": ["read"], "target_audience": ["api"],
                "trusted_issuers": ["https://issuer.test"]}),
            authn_rule("issuer-scope", "oauth2_introspection", {"required_scope": ["a", "b"]}),
            authn_rule("form", "oauth2_introspection", {
                "token_type_hint": "access_token", "preserve_host": True,
                "introspection_request_headers": {"X-Api-Key": "k1", "X-Forwarded-Host": "ignored"}}),
            authn_rule("cached", "oauth2_introspection", {"cache": CACHE}),
            authn_rule("cached-read", "oauth2_introspection", {
                "cache": CACHE, "scope_strategy": "exact", "required_scope": ["read"]}),
            authn_rule("cached-write", "oauth2_introspection", {
                "cache": CACHE, "scope_strategy": "exact", "required_scope": ["write"]}),
            authn_rule("paths", "oauth2_introspection", {"subject_from": "ext.user.id", "extra_from": "ext"},
                       headers={"X-Subject": "{{ print .Subject }}", "X-Tier": "{{ print .Extra.tier }}"}),
            authn_rule("preauth", "oauth2_introspection", {"pre_authorization": {
                "enabled": True, "client_id": "gatehouse", "client_secret": "s3cret+/", "token_url": token_url,
                "scope": ["introspect"], "audience": "introspection"}}),
            authn_rule("query", "oauth2_introspection", {
                "token_from": {"query_parameter": "access_token"}, "prefix": "tok-"}),
            authn_rule("slow", "oauth2_introspection", {"retry": {"give_up_after": "300ms", "max_delay": "50ms"}}),
            authn_rule("unreachable", "oauth2_introspection", {
                "introspection_url": f"http://127.0.0.1:{closed_port}/introspect"}),
            authn_rule("client", "oauth2_client_credentials", {
                "required_scope": ["svc"], "cache": {"enabled": True}}),
        ]
        cls.gatehouse = Gatehouse(config, rules).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        cls.echo.__exit__(None, None, None)
        cls.servers.__exit__(None, None, None)

    def setUp(self):
        self.servers.reset()

    def decide(self, path, token=None, headers=None):
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return http("GET", self.gatehouse.api_url + "/decisions" + path, all_headers)

    def active(self, token, **fields):
        self.servers.answer("introspect", token, body={"active": True, **fields})

    def assert_status(self, response, status):
        self.assertEqual(response[0], status, response[2])

    # -- outcomes

    def test_active_token_sets_subject_and_extra(self):
        self.active("t-ok", sub="ann", client_id="web")
        status, headers, body = self.decide("/plain", "t-ok")
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "X-Subject"), "ann")
        self.assertEqual(header_value(headers, "X-Client"), "web")

    def test_proxy_forwards_authenticated_request(self):
        self.active("t-proxy", sub="bob")
        status, _, body = http("GET", self.gatehouse.proxy_url + "/proxied",
                               {"Authorization": "Bearer t-proxy"})
        self.assertEqual(status, 200, body)
        self.assertIn("X-Subject", json.dumps(json.loads(body)["headers"]))

    def test_inactive_and_unknown_tokens_are_401(self):
        self.servers.answer("introspect", "t-off", body={"active": False, "sub": "ann"})
        self.assert_status(self.decide("/plain", "t-off"), 401)
        self.assert_status(self.decide("/plain", "t-unknown"), 401)

    def test_expired_token_is_401(self):
        self.active("t-old", sub="ann", exp=int(time.time()) - 10)
        self.assert_status(self.decide("/plain", "t-old"), 401)

    def test_malformed_and_incomplete_answers_are_401(self):
        self.servers.answer("introspect", "t-text", body="not json")
        self.servers.answer("introspect", "t-noactive", body={"sub": "ann"})
        self.servers.answer("introspect", "t-badexp", body={"active": True, "exp": "later"})
        for token in ("t-text", "t-noactive", "t-badexp"):
            with self.subTest(token=token):
                self.assert_status(self.decide("/plain", token), 401)

    def test_server_errors_are_gateway_errors(self):
        self.servers.answer("introspect", "t-500", status=500, body="boom")
        self.servers.answer("introspect", "t-503", status=503, body="down")
        self.servers.answer("introspect", "t-404", status=404, body="gone")
        self.assert_status(self.decide("/plain", "t-500"), 502)
        self.assert_status(self.decide("/plain", "t-503"), 503)
        self.assert_status(self.decide("/plain", "t-404"), 502)

    def test_5xx_retried_but_500_not(self):
        self.servers.answer("introspect", "t-503", status=503, body="down")
        self.decide("/plain", "t-503")
        self.assertGreaterEqual(self.servers.count("introspect"), 2)
        self.servers.reset()
        self.servers.answer("introspect", "t-500", status=500, body="boom")
        self.decide("/plain", "t-500")
        self.assertEqual(self.servers.count("introspect"), 1)

    def test_rate_limit_passes_through(self):
        self.servers.answer("introspect", "t-429", status=429, body="slow down",
                            headers={"Retry-After": "120", "X-RateLimit-Limit": "1000",
                                     "X-RateLimit-Remaining": "0"})
        status, headers, body = self.decide("/plain", "t-429")
        self.assertEqual(status, 429, body)
        self.assertEqual(header_value(headers, "Retry-After"), "120")
        self.assertEqual(header_value(headers, "X-Ratelimit-Limit"), "1000")
        self.assertEqual(header_value(headers, "X-Ratelimit-Remaining"), "0")

    def test_slow_endpoint_is_504_within_deadline(self):
        self.servers.answer("introspect", "t-slow", body={"active": True}, delay=3)
        started = time.monotonic()
        self.assert_status(self.decide("/slow", "t-slow"), 504)
        self.assertLess(time.monotonic() - started, 2.0)

    def test_unreachable_endpoint_is_502(self):
        self.assert_status(self.decide("/unreachable", "t-any"), 502)

    def test_missing_token_is_not_responsible(self):
        self.assert_status(self.decide("/plain"), 401)
        self.assertEqual(self.servers.count("introspect"), 0)

    # -- the request sent to the endpoint

    def test_request_is_rfc7662_form_post(self):
        self.active("tok/+=", sub="ann")
        self.assert_status(self.decide("/form", "tok/+=", {"Host": "app.test"}), 200)
        sent = self.servers.requests("introspect")[-1]
        self.assertEqual(sent["method"], "POST")
        self.assertEqual(sent["headers"]["Content-Type"], "application/x-www-form-urlencoded")
        self.assertEqual(sent["body"], "token=tok%2F%2B%3D&token_type_hint=access_token&scope=")
        self.assertEqual(sent["headers"]["X-Api-Key"], "k1")
        self.assertEqual(sent["headers"]["X-Forwarded-Host"], "app.test")

    def test_strategy_none_sends_scopes(self):
        self.active("t-scope", sub="ann", scope="z")
        self.assert_status(self.decide("/issuer-scope", "t-scope"), 200)
        self.assertEqual(self.servers.requests("introspect")[0]["form"]["scope"], "a b")

    def test_local_strategy_sends_no_scope(self):
        self.active("t-good", scope="read", aud=["api"], iss="https://issuer.test")
        self.assert_status(self.decide("/checked", "t-good"), 200)
        self.assertNotIn("scope", self.servers.requests("introspect")[0]["form"])

    def test_rule_checks_are_403(self):
        cases = {
            "t-noscope": {"scope": "other", "aud": ["api"], "iss": "https://issuer.test"},
            "t-noaud": {"scope": "read", "aud": ["web"], "iss": "https://issuer.test"},
            "t-noiss": {"scope": "read", "aud": "api", "iss": "https://evil.test"},
            "t-refresh": {"scope": "read", "aud": "api", "iss": "https://issuer.test", "token_use": "refresh_token"},
        }
        for token, fields in cases.items():
            with self.subTest(token=token):
                self.active(token, **fields)
                self.assert_status(self.decide("/checked", token), 403)

    def test_query_token_needs_prefix(self):
        self.active("tok-1", sub="ann")
        self.assert_status(self.decide("/query?access_token=tok-1"), 200)
        self.assert_status(self.decide("/query?access_token=other"), 401)
        self.assertEqual(self.servers.count("introspect"), 1)

    def test_subject_and_extra_paths(self):
        self.active("t-paths", sub="ignored", ext={"user": {"id": "u-7"}, "tier": "gold"})
        status, headers, body = self.decide("/paths", "t-paths")
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "X-Subject"), "u-7")
        self.assertEqual(header_value(headers, "X-Tier"), "gold")

    # -- cache

    def test_cache_serves_second_request(self):
        self.active("t-cache-1", sub="ann")
        self.assert_status(self.decide("/cached", "t-cache-1"), 200)
        self.assert_status(self.decide("/cached", "t-cache-1"), 200)
        self.assertEqual(self.servers.count("introspect"), 1)

    def test_uncached_rule_asks_every_time(self):
        self.active("t-nocache", sub="ann")
        self.decide("/plain", "t-nocache")
        self.decide("/plain", "t-nocache")
        self.assertEqual(self.servers.count("introspect"), 2)

    def test_inactive_answer_not_cached(self):
        self.servers.answer("introspect", "t-cache-off", body={"active": False})
        self.assert_status(self.decide("/cached", "t-cache-off"), 401)
        self.assert_status(self.decide("/cached", "t-cache-off"), 401)
        self.assertEqual(self.servers.count("introspect"), 2)

    def test_cache_hit_reruns_rule_checks(self):
        self.active("t-cache-read", sub="ann", scope="read")
        self.assert_status(self.decide("/cached-read", "t-cache-read"), 200)
        self.assert_status(self.decide("/cached-write", "t-cache-read"), 403)
        self.assertEqual(self.servers.count("introspect"), 1)

    def test_cache_entry_ends_at_token_expiry(self):
        self.active("t-cache-exp", sub="ann", exp=int(time.time()) + 2)
        self.assert_status(self.decide("/cached", "t-cache-exp"), 200)
        time.sleep(2.5)
        self.assert_status(self.decide("/cached", "t-cache-exp"), 401)
        self.assertEqual(self.servers.count("introspect"), 2)

    # -- pre-authorization

    def test_pre_authorization_token_is_reused(self):
        self.servers.answer("token", "gatehouse", secret="s3cret+/", expires_in=3600)
        self.active("t-pre-1", sub="ann")
        self.active("t-pre-2", sub="bob")
        self.assert_status(self.decide("/preauth", "t-pre-1"), 200)
        self.assert_status(self.decide("/preauth", "t-pre-2"), 200)
        self.assertEqual(self.servers.count("token"), 1)
        grant = self.servers.requests("token")[0]
        self.assertEqual(grant["form"], {"grant_type": "client_credentials", "scope": "introspect",
                                         "audience": "introspection"})
        for sent in self.servers.requests("introspect"):
            self.assertEqual(sent["headers"]["Authorization"], "Bearer issued-1")

    def test_pre_authorization_failure_is_502(self):
        self.servers.answer("token", "gatehouse", secret="wrong")
        self.active("t-pre-3", sub="ann")
        self.assert_status(self.decide("/preauth", "t-pre-3"), 502)
        self.assertEqual(self.servers.count("introspect"), 0)

    # -- oauth2_client_credentials

    def test_client_credentials_accepts_and_caches(self):
        self.servers.answer("token", "svc-a", secret="pw", expires_in=3600)
        status, headers, body = self.decide("/client", headers={"Authorization": basic("svc-a", "pw")})
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "X-Subject"), "svc-a")
        self.assert_status(self.decide("/client", headers={"Authorization": basic("svc-a", "pw")}), 200)
        self.assertEqual(self.servers.count("token"), 1)
        self.assertEqual(self.servers.requests("token")[0]["form"]["scope"], "svc")

    def test_client_credentials_rejects_bad_secret(self):
        self.servers.answer("token", "svc-b", secret="pw")
        self.assert_status(self.decide("/client", headers={"Authorization": basic("svc-b", "nope")}), 401)

    def test_client_credentials_passes_outages(self):
        self.servers.answer("token", "svc-c", status=503, body={"error": "down"})
        self.assert_status(self.decide("/client", headers={"Authorization": basic("svc-c", "pw")}), 503)

    def test_client_credentials_needs_basic(self):
        self.assert_status(self.decide("/client", "bearer-token"), 401)
        self.assertEqual(self.servers.count("token"), 0)


if __name__ == "__main__":
    unittest.main()
