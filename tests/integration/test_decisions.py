"""End-to-end tests of the API listener: decisions, rules, health and version."""

import json
import unittest

from fixtures.setups import ANY_HOST, base_config, header_mutator, rule
from harness import Gatehouse, header_value, header_values, http

# The decision API never forwards, so the rules need an upstream only to be complete.
UPSTREAM = "http://127.0.0.1:9"

GENERIC_500 = "An internal server error occurred, please contact the system administrator"


def decision_rules() -> list[dict]:
    return [
        rule("root", f"http://{ANY_HOST}", UPSTREAM),
        rule("public", f"http://{ANY_HOST}/public/<.*>", UPSTREAM, methods=["GET", "HEAD"]),
        rule("writer", f"http://{ANY_HOST}/write/<.*>", UPSTREAM, methods=["POST"]),
        rule("secure", f"https://{ANY_HOST}/secure", UPSTREAM),
        rule("shop", "http://shop.test/cart/<.*>", UPSTREAM),
        rule("user", f"http://{ANY_HOST}/user/<.*>", UPSTREAM,
             mutators=[header_mutator({"X-User": "{{ print .Subject }}",
                                       "X-Path-Part": "{{ printIndex .MatchContext.RegexpCaptureGroups 1 }}"})]),
        rule("denied", f"http://{ANY_HOST}/denied", UPSTREAM, authorizer="deny"),
        rule("locked", f"http://{ANY_HOST}/locked", UPSTREAM, authenticators=["unauthorized"]),
        rule("overlap-a", f"http://{ANY_HOST}/overlap/<.*>", UPSTREAM),
        rule("overlap-b", f"http://{ANY_HOST}/overlap/<[a-z]+>", UPSTREAM),
    ]


class DecisionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rules = decision_rules()
        cls.gatehouse = Gatehouse(base_config(), cls.rules).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)

    def api(self, method, path, headers=None, body=None):
        return http(method, self.gatehouse.api_url + path, headers, body)

    def assert_error(self, response, status, reason, message):
        code, headers, body = response
        self.assertEqual(code, status, body)
        self.assertTrue(header_value(headers, "Content-Type").startswith("application/json"))
        self.assertEqual(json.loads(body),
                         {"error": {"code": status, "status": reason, "message": message}})

    # -- which request is decided

    def test_path_after_decisions_prefix(self):
        status, _, body = self.api("GET", "/decisions/public/page")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, b"")

    def test_path_outside_rules_gets_404(self):
        self.assert_error(self.api("GET", "/decisions/elsewhere"), 404, "Not Found",
                          "The requested resource could not be found")

    def test_bare_decisions_matches_empty_path(self):
        status, _, body = self.api("GET", "/decisions")
        self.assertEqual(status, 200, body)

    def test_forwarded_method_overrides_method(self):
        self.assertEqual(self.api("GET", "/decisions/write/x")[0], 404)
        status, _, body = self.api("GET", "/decisions/write/x", {"X-Forwarded-Method": "POST"})
        self.assertEqual(status, 200, body)

    def test_forwarded_proto_overrides_scheme(self):
        self.assertEqual(self.api("GET", "/decisions/secure")[0], 404)
        status, _, body = self.api("GET", "/decisions/secure", {"X-Forwarded-Proto": "https"})
        self.assertEqual(status, 200, body)

    def test_forwarded_host_overrides_host(self):
        self.assertEqual(self.api("GET", "/decisions/cart/1")[0], 404)
        status, _, body = self.api("GET", "/decisions/cart/1", {"X-Forwarded-Host": "shop.test"})
        self.assertEqual(status, 200, body)

    def test_forwarded_uri_overrides_path(self):
        status, _, body = self.api("GET", "/decisions/elsewhere",
                                   {"X-Forwarded-Uri": "/public/from-header?q=1"})
        self.assertEqual(status, 200, body)

    def test_forwarded_uri_keeps_other_parts(self):
        # Host and method still come from the request itself.
        status, _, _ = self.api("GET", "/decisions",
                                {"X-Forwarded-Uri": "/cart/2"})
        self.assertEqual(status, 404)
        status, _, body = self.api("GET", "/decisions",
                                   {"X-Forwarded-Uri": "/cart/2", "X-Forwarded-Host": "shop.test"})
        self.assertEqual(status, 200, body)
        status, _, _ = self.api("GET", "/decisions",
                                {"X-Forwarded-Uri": "/write/3"})
        self.assertEqual(status, 404)

    def test_all_forwarded_headers_together(self):
        status, _, body = self.api("GET", "/decisions/ignored", {
            "X-Forwarded-Method": "GET", "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "gate.test", "X-Forwarded-Uri": "/secure"})
        self.assertEqual(status, 200, body)

    # -- responses

    def test_noop_mutator_returns_request_headers(self):
        status, headers, _ = self.api("GET", "/decisions/public/h",
                                      [("X-Custom", "abc"), ("Accept-Language", "fr")])
        self.assertEqual(status, 200)
        self.assertEqual(header_values(headers, "X-Custom"), ["abc"])
        self.assertEqual(header_values(headers, "Accept-Language"), ["fr"])

    def test_noop_mutator_leaves_out_headers_named_in_connection(self):
        status, headers, _ = self.api("GET", "/decisions/public/h",
                                      [("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("X-Kept", "2")])
        self.assertEqual(status, 200)
        self.assertEqual(header_values(headers, "X-Hop"), [])
        self.assertEqual(header_values(headers, "X-Kept"), ["2"])

    def test_content_length_not_copied_from_request(self):
        status, headers, _ = self.api("POST", "/decisions/public/h", {"X-Forwarded-Method": "GET"},
                                      body=b"0123456789")
        self.assertEqual(status, 200)
        self.assertNotIn("10", header_values(headers, "Content-Length"))

    def test_header_mutator_headers_in_response(self):
        status, headers, _ = self.api("GET", "/decisions/user/alice")
        self.assertEqual(status, 200)
        self.assertEqual(header_values(headers, "X-User"), ["guest"])
        self.assertEqual(header_values(headers, "X-Path-Part"), ["alice"])

    def test_unauthorized_body(self):
        self.assert_error(self.api("GET", "/decisions/locked"), 401, "Unauthorized",
                          "The request could not be authorized")

    def test_authorization_header_body(self):
        self.assert_error(self.api("GET", "/decisions/public/x", {"Authorization": "Bearer t"}),
                          401, "Unauthorized", "The request could not be authorized")

    def test_forbidden_body(self):
        self.assert_error(self.api("GET", "/decisions/denied"), 403, "Forbidden",
                          "The requested action was forbidden")

    def test_multiple_rules_body(self):
        self.assert_error(self.api("GET", "/decisions/overlap/abc"), 500,
                          "Internal Server Error", GENERIC_500)

    # -- rules

    def test_rules_lists_every_rule(self):
        status, headers, body = self.api("GET", "/rules")
        self.assertEqual(status, 200)
        self.assertTrue(header_value(headers, "Content-Type").startswith("application/json"))
        listed = json.loads(body)
        self.assertEqual(sorted(item["id"] for item in listed),
                         sorted(item["id"] for item in self.rules))

    def test_rules_limit_and_offset(self):
        everything = json.loads(self.api("GET", "/rules")[2])
        page = json.loads(self.api("GET", "/rules?limit=3&offset=2")[2])
        self.assertEqual([item["id"] for item in page], [item["id"] for item in everything[2:5]])
        self.assertEqual(json.loads(self.api("GET", "/rules?limit=0")[2]), [])
        self.assertEqual(json.loads(self.api("GET", "/rules?offset=100")[2]), [])

    def test_rule_by_id(self):
        status, _, body = self.api("GET", "/rules/shop")
        self.assertEqual(status, 200)
        document = json.loads(body)
        self.assertEqual(document["id"], "shop")
        self.assertEqual(document["match"]["url"], "http://shop.test/cart/<.*>")
        self.assertEqual(document["match"]["methods"], ["GET"])
        self.assertEqual(document["authorizer"]["handler"], "allow")

    def test_unknown_rule_id_gets_404(self):
        status, _, body = self.api("GET", "/rules/no-such-rule")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["error"]["code"], 404)

    def test_post_to_rules_gets_405(self):
        self.assertEqual(self.api("POST", "/rules", body=b"[]")[0], 405)

    # -- health, version, unknown paths

    def test_health_alive(self):
        status, _, body = self.api("GET", "/health/alive")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "ok"})

    def test_health_ready_with_rules(self):
        status, _, body = self.api("GET", "/health/ready")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"status": "ok"})

    def test_version(self):
        status, _, body = self.api("GET", "/version")
        self.assertEqual(status, 200)
        version = json.loads(body)["version"]
        self.assertIsInstance(version, str)
        self.assertTrue(version)

    def test_unknown_api_path_gets_404(self):
        status, _, body = self.api("GET", "/no/such/endpoint")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["error"]["code"], 404)


class NoRulesTest(unittest.TestCase):
    def test_ready_is_503_without_rules(self):
        with Gatehouse(base_config(), []) as gatehouse:
            alive, _, _ = http("GET", gatehouse.api_url + "/health/alive")
            ready, _, body = http("GET", gatehouse.api_url + "/health/ready")
        self.assertEqual(alive, 200)
        self.assertEqual(ready, 503)
        self.assertIn("error", json.loads(body))


if __name__ == "__main__":
    unittest.main()
