"""End-to-end tests of the jwt and oauth2_introspection authenticators against oidc-provider.

oidc-provider (the npm package, pinned in oidc_provider/package-lock.json and run by
oidc_provider/server.mjs) is an OAuth 2.0 authorization server written independently of
gatehouse. Here it issues client credentials tokens: RFC 9068 JWT access tokens (`typ: at+jwt`,
`scope` a space-separated string, `aud` a single string) and opaque tokens that gatehouse checks
at the provider's introspection endpoint, which requires client authentication. Revocation is
enabled.

setUpClass runs `npm ci` in oidc_provider/ unless node_modules already matches the lock file.
When npm or node fails, the tests fail. They are never skipped.
"""

from __future__ import annotations

import base64
import json
import os
import selectors
import subprocess
import tempfile
import time
import unittest
import urllib.parse
from typing import Any

from fixtures.setups import ANY_HOST, echo_header, verbose_config
from harness import EchoServer, Gatehouse, HarnessError, header_value, http

HERE = os.path.dirname(os.path.abspath(__file__))
PROVIDER_DIR = os.path.join(HERE, "oidc_provider")
NPM_TIMEOUT_SECONDS = 300
PROVIDER_STARTUP_SECONDS = 20.0

# The machine client that calls the API, and the client that gatehouse authenticates as at the
# introspection endpoint (and, with pre_authorization, at the token endpoint). The secrets
# contain characters that HTTP Basic client authentication must form-encode.
CALLER_ID, CALLER_SECRET = "orders-client", "orders:secret+/%&="
GATEHOUSE_ID, GATEHOUSE_SECRET = "gatehouse", "gatehouse secret/+:%"

# Resource servers (RFC 8707 resource indicators). Each one fixes the audience, the scopes and
# the token format of the tokens issued for it.
ORDERS = "https://orders.test/"
INVENTORY = "https://inventory.test/"
REPORTS = "https://reports.test/"
SHORT_LIVED = "https://short-lived.test/"
SHORT_LIVED_OPAQUE = "https://short-lived-opaque.test/"
# Long enough that the first request surely comes before exp, which has whole seconds.
SHORT_LIVED_TTL_SECONDS = 2
RESOURCE_SERVERS = {
    ORDERS: {"audience": ORDERS, "scope": "orders.read orders.write",
             "accessTokenFormat": "jwt", "jwt": {"sign": {"alg": "RS256"}}},
    INVENTORY: {"audience": INVENTORY, "scope": "inventory.read",
                "accessTokenFormat": "jwt", "jwt": {"sign": {"alg": "ES256"}}},
    REPORTS: {"audience": REPORTS, "scope": "reports.read reports.write",
              "accessTokenFormat": "opaque"},
    SHORT_LIVED: {"audience": SHORT_LIVED, "scope": "orders.read",
                  "accessTokenFormat": "jwt", "accessTokenTTL": SHORT_LIVED_TTL_SECONDS},
    SHORT_LIVED_OPAQUE: {"audience": SHORT_LIVED_OPAQUE, "scope": "reports.read",
                         "accessTokenFormat": "opaque", "accessTokenTTL": SHORT_LIVED_TTL_SECONDS},
}
CLIENTS = [
    {"client_id": CALLER_ID, "client_secret": CALLER_SECRET,
     "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
     "token_endpoint_auth_method": "client_secret_basic",
     "scope": "orders.read orders.write inventory.read reports.read reports.write"},
    {"client_id": GATEHOUSE_ID, "client_secret": GATEHOUSE_SECRET,
     "grant_types": ["client_credentials"], "redirect_uris": [], "response_types": [],
     "token_endpoint_auth_method": "client_secret_basic"},
]

# How long the cached introspection rule reuses a response.
CACHE_TTL_SECONDS = 2.0


def basic(client_id: str, secret: str) -> str:
    """Return an HTTP Basic Authorization value as RFC 6749, section 2.3.1, builds it."""
    user = urllib.parse.quote_plus(client_id)
    password = urllib.parse.quote_plus(secret)
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _locked_packages(path: str) -> dict[str, Any]:
    with open(path) as lock:
        packages = json.load(lock)["packages"]
    return {name: entry for name, entry in packages.items() if name}


def ensure_node_modules() -> None:
    """Run `npm ci` in oidc_provider/ unless node_modules already holds the locked packages.

    npm records what it installed in node_modules/.package-lock.json, so comparing that file
    with package-lock.json takes milliseconds and notices a changed lock file.
    """
    lock = os.path.join(PROVIDER_DIR, "package-lock.json")
    installed = os.path.join(PROVIDER_DIR, "node_modules", ".package-lock.json")
    if os.path.exists(installed) and _locked_packages(installed) == _locked_packages(lock):
        return
    result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_DIR,
                            capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS)
    if result.returncode != 0:
        raise HarnessError(f"npm ci in {PROVIDER_DIR} failed with exit code "
                           f"{result.returncode}:\n{result.stderr}")


def form(**fields: str) -> str:
    return urllib.parse.urlencode(fields)


def jwt_part(token: str, index: int) -> dict:
    """Decode the JOSE header (index 0) or the claims (index 1) of a JWS without verifying."""
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class OidcProvider:
    """oidc_provider/server.mjs as a child process on a loopback port chosen at run time.

    Use as a context manager. Attributes: issuer, metadata (the discovery document).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.issuer = ""
        self.metadata: dict[str, Any] = {}
        self._stderr = tempfile.TemporaryFile()
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> "OidcProvider":
        settings = {"clients": CLIENTS, "resource_servers": RESOURCE_SERVERS}
        self._process = subprocess.Popen(
            ["node", os.path.join(PROVIDER_DIR, "server.mjs"), "--port", "0"],
            cwd=PROVIDER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
        try:
            self._process.stdin.write(json.dumps(settings).encode())
            self._process.stdin.close()
            self.issuer = self._read_ready_line()
            status, _, body = http("GET", self.issuer + "/.well-known/openid-configuration")
            if status != 200:
                raise HarnessError(f"{self.name}: discovery returned {status}: {body!r}")
            self.metadata = json.loads(body)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process.stdout.close()
        self._stderr.close()

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def _read_ready_line(self) -> str:
        prefix = "listening on "
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            ready = selector.select(PROVIDER_STARTUP_SECONDS)
        line = self._process.stdout.readline().decode(errors="replace").strip() if ready else ""
        if not line.startswith(prefix):
            raise HarnessError(f"{self.name}: server.mjs did not print its address within "
                               f"{PROVIDER_STARTUP_SECONDS} s (stdout {line!r}); stderr:\n"
                               f"{self.stderr()}")
        return line[len(prefix):]

    def post(self, endpoint: str, body: str,
             authorization: str | None) -> tuple[int, dict[str, Any]]:
        """POST a form to an endpoint named in the discovery document. Return (status, JSON)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if authorization is not None:
            headers["Authorization"] = authorization
        status, _, response = http("POST", self.metadata[endpoint], headers, body)
        return status, json.loads(response) if response else {}

    def token(self, scope: str, resource: str | None) -> str:
        """Return an access token issued to the caller by the client credentials grant."""
        fields = {"grant_type": "client_credentials", "scope": scope}
        if resource is not None:
            fields["resource"] = resource
        status, body = self.post("token_endpoint", form(**fields), basic(CALLER_ID, CALLER_SECRET))
        if status != 200:
            raise HarnessError(f"{self.name}: token request for {fields} failed: {status} {body}")
        return body["access_token"]

    def revoke(self, token: str) -> None:
        status, body = self.post("revocation_endpoint", form(token=token),
                                 basic(CALLER_ID, CALLER_SECRET))
        if status != 200:
            raise HarnessError(f"{self.name}: revocation failed: {status} {body}")


# The jwt authenticator moves the `scope` claim into `.Extra.scp` as an array, as Oathkeeper
# does, while introspection keeps the response's `scope` string. Only one of them is present.
SCOPE_TEMPLATE = "{{ print .Extra.scp }}{{ print .Extra.scope }}"


def rule(rule_id: str, upstream: str, authenticators: list[dict]) -> dict:
    """Return a rule for GET /<rule_id> that forwards the subject, client id and scopes."""
    return {
        "id": rule_id,
        "match": {"url": f"http://{ANY_HOST}/{rule_id}", "methods": ["GET"]},
        "upstream": {"url": upstream},
        "authenticators": authenticators,
        "authorizer": {"handler": "allow"},
        "mutators": [{"handler": "header", "config": {"headers": {
            "X-User": "{{ print .Subject }}",
            "X-Client-Id": "{{ print .Extra.client_id }}",
            "X-Scope": SCOPE_TEMPLATE,
        }}}],
    }


def jwt(**config: Any) -> dict:
    return {"handler": "jwt", "config": config}


def introspection(**config: Any) -> dict:
    return {"handler": "oauth2_introspection", "config": config}


class OidcProviderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        ensure_node_modules()
        # Contexts entered with enterClassContext are exited even when set-up fails.
        cls._start_servers()

    @classmethod
    def _start_servers(cls) -> None:
        cls.provider = cls.enterClassContext(OidcProvider("provider"))
        # A second, unrelated authorization server with its own keys and issuer.
        cls.other = cls.enterClassContext(OidcProvider("other-provider"))
        cls.echo = cls.enterClassContext(EchoServer())

        issuer = cls.provider.issuer
        introspection_url = cls.provider.metadata["introspection_endpoint"]
        client_auth = {"Authorization": basic(GATEHOUSE_ID, GATEHOUSE_SECRET)}
        reports_checks = {
            "introspection_request_headers": client_auth,
            "subject_from": "client_id",
            "scope_strategy": "exact",
            "required_scope": ["reports.read"],
            "target_audience": [REPORTS],
            "trusted_issuers": [issuer],
        }
        rules = [
            rule("orders", cls.echo.url, [jwt(
                trusted_issuers=[issuer], target_audience=[ORDERS],
                required_scope=["orders.read"], scope_strategy="exact")]),
            rule("short-lived", cls.echo.url, [jwt(
                trusted_issuers=[issuer], target_audience=[SHORT_LIVED])]),
            rule("inventory", cls.echo.url, [jwt(
                trusted_issuers=[issuer], target_audience=[INVENTORY],
                required_scope=["inventory.read"], scope_strategy="exact")]),
            rule("reports", cls.echo.url, [introspection(**reports_checks)]),
            rule("reports-cached", cls.echo.url, [introspection(
                **reports_checks,
                cache={"enabled": True, "ttl": f"{int(CACHE_TTL_SECONDS * 1000)}ms"})]),
            rule("short-lived-cached", cls.echo.url, [introspection(
                introspection_request_headers=client_auth, subject_from="client_id",
                target_audience=[SHORT_LIVED_OPAQUE], cache={"enabled": True, "ttl": "60s"})]),
            rule("reports-default", cls.echo.url, [introspection(
                introspection_request_headers=client_auth)]),
            rule("reports-no-client-auth", cls.echo.url, [introspection()]),
            rule("reports-wrong-secret", cls.echo.url, [introspection(
                introspection_request_headers={"Authorization": basic(GATEHOUSE_ID, "wrong")})]),
            rule("reports-pre-authorization", cls.echo.url, [introspection(pre_authorization={
                "enabled": True, "client_id": GATEHOUSE_ID, "client_secret": GATEHOUSE_SECRET,
                "token_url": cls.provider.metadata["token_endpoint"]})]),
            rule("client", cls.echo.url, [{"handler": "oauth2_client_credentials", "config": {
                "token_url": cls.provider.metadata["token_endpoint"],
                "required_scope": ["orders.read"]}}]),
            rule("any", cls.echo.url, [
                jwt(trusted_issuers=[issuer], target_audience=[ORDERS]),
                introspection(introspection_request_headers=client_auth,
                              subject_from="client_id", target_audience=[REPORTS]),
            ]),
        ]
        config = verbose_config({"authenticators": {
            "jwt": {"enabled": True, "config": {
                # Both key sets, so that a token of the other server has a valid signature
                # and only its issuer is wrong.
                "jwks_urls": [cls.provider.metadata["jwks_uri"], cls.other.metadata["jwks_uri"]],
                "allowed_algorithms": ["RS256", "ES256"],
            }},
            "oauth2_introspection": {"enabled": True, "config": {
                "introspection_url": introspection_url,
            }},
            "oauth2_client_credentials": {"enabled": True, "config": {
                "token_url": cls.provider.metadata["token_endpoint"],
            }},
        }})
        cls.gatehouse = cls.enterClassContext(Gatehouse(config, rules=rules))

    # -- helpers

    def get(self, path: str, token: str, scheme: str = "Bearer") -> tuple[int, dict]:
        status, _, body = http("GET", self.gatehouse.proxy_url + path,
                               {"Authorization": f"{scheme} {token}"})
        return status, json.loads(body) if body else {}

    def assert_forwarded(self, path: str, token: str, subject: str, scope: str) -> dict:
        status, body = self.get(path, token)
        self.assertEqual(status, 200, body)
        self.assertEqual(echo_header(body, "X-User"), [subject])
        self.assertEqual(echo_header(body, "X-Client-Id"), [CALLER_ID])
        self.assertEqual(echo_header(body, "X-Scope"), [scope])
        return body

    def assert_error(self, path: str, token: str, status: int, message: str,
                     reason: str = "", scheme: str = "Bearer") -> dict:
        """Check gatehouse's verbose JSON error body. reason must be part of error.reason."""
        actual, body = self.get(path, token, scheme)
        self.assertEqual(actual, status, body)
        error = body["error"]
        self.assertEqual(error["code"], status)
        self.assertEqual(error["message"], message)
        self.assertIn(reason, error.get("reason", ""))
        return error

    def assert_unauthorized(self, path: str, token: str, reason: str = "",
                            scheme: str = "Bearer") -> dict:
        error = self.assert_error(path, token, 401, "Access credentials are invalid", reason,
                                  scheme)
        self.assertEqual(error["status"], "Unauthorized")
        return error

    def assert_bad_gateway(self, path: str, token: str, provider_status: int) -> dict:
        error = self.assert_error(path, token, 502,
                                  "The introspection endpoint returned an unexpected response",
                                  reason=f"returned status {provider_status}")
        self.assertEqual(error["status"], "Bad Gateway")
        return error

    # -- the provider issues what the tests assume

    def test_provider_issues_rfc9068_tokens(self) -> None:
        token = self.provider.token("orders.read", ORDERS)
        header = jwt_part(token, 0)
        claims = jwt_part(token, 1)
        self.assertEqual(header["typ"], "at+jwt")
        self.assertEqual(header["alg"], "RS256")
        self.assertEqual(claims["iss"], self.provider.issuer)
        self.assertEqual(claims["aud"], ORDERS)
        self.assertEqual(claims["scope"], "orders.read")
        self.assertEqual(claims["sub"], CALLER_ID)

    def test_provider_introspection_requires_client_auth(self) -> None:
        token = self.provider.token("reports.read", REPORTS)
        status, body = self.provider.post("introspection_endpoint", form(token=token), None)
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"], "invalid_request")
        self.assertEqual(body["error_description"], "no client authentication mechanism provided")

        status, body = self.provider.post("introspection_endpoint", form(token=token),
                                          basic(GATEHOUSE_ID, "wrong"))
        self.assertEqual(status, 401, body)
        self.assertEqual(body["error"], "invalid_client")

        status, body = self.provider.post("introspection_endpoint", form(token=token),
                                          basic(GATEHOUSE_ID, GATEHOUSE_SECRET))
        self.assertEqual(status, 200, body)
        self.assertIs(body["active"], True)
        self.assertNotIn("sub", body)
        self.assertEqual(body["client_id"], CALLER_ID)

    # -- JWT access tokens

    def test_jwt_forwarded_with_subject(self) -> None:
        token = self.provider.token("orders.read orders.write", ORDERS)
        self.assert_forwarded("/orders", token, CALLER_ID, "[orders.read orders.write]")

    def test_es256_jwt_forwarded(self) -> None:
        token = self.provider.token("inventory.read", INVENTORY)
        self.assertEqual(jwt_part(token, 0)["alg"], "ES256")
        self.assert_forwarded("/inventory", token, CALLER_ID, "[inventory.read]")

    def test_jwt_missing_scope_rejected(self) -> None:
        token = self.provider.token("orders.write", ORDERS)
        self.assert_unauthorized("/orders", token, reason="orders.read")

    def test_jwt_wrong_audience_rejected(self) -> None:
        token = self.provider.token("inventory.read", INVENTORY)
        self.assert_unauthorized("/orders", token, reason="audience")

    def test_jwt_tampered_signature_rejected(self) -> None:
        header, claims, signature = self.provider.token("orders.read", ORDERS).split(".")
        flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
        self.assert_unauthorized("/orders", f"{header}.{claims}.{flipped}",
                                 reason="bad_signature")

    def test_jwt_tampered_claims_rejected(self) -> None:
        header, _, signature = self.provider.token("orders.read", ORDERS).split(".")
        other_claims = self.provider.token("orders.read orders.write", ORDERS).split(".")[1]
        self.assert_unauthorized("/orders", f"{header}.{other_claims}.{signature}",
                                 reason="bad_signature")

    def test_jwt_other_issuer_rejected(self) -> None:
        token = self.other.token("orders.read", ORDERS)
        self.assertEqual(jwt_part(token, 1)["iss"], self.other.issuer)
        self.assert_unauthorized("/orders", token, reason="issuer")

    def test_expired_jwt_rejected(self) -> None:
        token = self.provider.token("orders.read", SHORT_LIVED)
        expires_at = jwt_part(token, 1)["exp"]
        status, body = self.get("/short-lived", token)
        self.assertEqual(status, 200, body)

        # The verified token is cached now, but never past its exp.
        time.sleep(max(0.0, expires_at + 0.1 - time.time()))
        self.assert_unauthorized("/short-lived", token, reason="expired")

    def test_opaque_token_on_jwt_rule_rejected(self) -> None:
        token = self.provider.token("reports.read", REPORTS)
        self.assert_unauthorized("/orders", token)

    # -- opaque tokens and introspection

    def test_opaque_token_forwarded_with_subject(self) -> None:
        token = self.provider.token("reports.read reports.write", REPORTS)
        self.assert_forwarded("/reports", token, CALLER_ID, "reports.read reports.write")

    def test_opaque_token_without_subject_from(self) -> None:
        # The provider's response has no `sub` for client credentials tokens, so the
        # default subject path finds nothing.
        token = self.provider.token("reports.read", REPORTS)
        status, body = self.get("/reports-default", token)
        self.assertEqual(status, 200, body)
        self.assertEqual(echo_header(body, "X-User"), [""])
        self.assertEqual(echo_header(body, "X-Client-Id"), [CALLER_ID])

    def test_opaque_token_missing_scope_forbidden(self) -> None:
        token = self.provider.token("reports.write", REPORTS)
        self.assert_error("/reports", token, 403,
                          "Access credentials are not sufficient to access this resource",
                          reason="reports.read")

    def test_opaque_token_wrong_audience_forbidden(self) -> None:
        token = self.provider.token("orders.read", None)
        self.assert_error("/reports", token, 403,
                          "Access credentials are not sufficient to access this resource",
                          reason="audience")

    def test_revoked_opaque_token_rejected(self) -> None:
        token = self.provider.token("reports.read", REPORTS)
        self.assert_forwarded("/reports", token, CALLER_ID, "reports.read")
        self.provider.revoke(token)
        self.assert_unauthorized("/reports", token, reason="not active")

    def test_revoked_token_served_from_cache_until_ttl(self) -> None:
        token = self.provider.token("reports.read", REPORTS)
        self.assert_forwarded("/reports-cached", token, CALLER_ID, "reports.read")
        cached_at = time.monotonic()
        self.provider.revoke(token)

        # The cached response is reused until cache.ttl, although the provider has revoked
        # the token, while the rule without a cache introspects the token again.
        self.assert_forwarded("/reports-cached", token, CALLER_ID, "reports.read")
        self.assertLess(time.monotonic() - cached_at, CACHE_TTL_SECONDS)
        self.assert_unauthorized("/reports", token, reason="not active")

        time.sleep(max(0.0, cached_at + CACHE_TTL_SECONDS + 0.2 - time.monotonic()))
        self.assert_unauthorized("/reports-cached", token, reason="not active")

    def test_cached_opaque_token_expires_with_token(self) -> None:
        token = self.provider.token("reports.read", SHORT_LIVED_OPAQUE)
        status, body = self.provider.post("introspection_endpoint", form(token=token),
                                          basic(GATEHOUSE_ID, GATEHOUSE_SECRET))
        self.assertEqual(status, 200, body)
        expires_at = body["exp"]
        self.assert_forwarded("/short-lived-cached", token, CALLER_ID, "reports.read")

        # cache.ttl is 60 s, but a cached response never outlives the token's exp. "not active"
        # comes from the provider, so gatehouse introspected the token again.
        time.sleep(max(0.0, expires_at + 0.1 - time.time()))
        self.assert_unauthorized("/short-lived-cached", token, reason="not active")

    def test_other_issuer_opaque_token_rejected(self) -> None:
        token = self.other.token("reports.read", REPORTS)
        self.assert_unauthorized("/reports", token, reason="not active")

    def test_introspection_without_client_auth_fails(self) -> None:
        # The provider returns 400 without credentials and 401 with wrong ones, and
        # gatehouse turns a failed introspection call into 502, never into a decision.
        token = self.provider.token("reports.read", REPORTS)
        self.assert_bad_gateway("/reports-no-client-auth", token, 400)
        self.assert_bad_gateway("/reports-wrong-secret", token, 401)

    def test_pre_authorization_not_accepted_by_provider(self) -> None:
        # pre_authorization sends a bearer token, and the provider's introspection endpoint
        # authenticates clients only by client authentication methods.
        token = self.provider.token("reports.read", REPORTS)
        self.assert_bad_gateway("/reports-pre-authorization", token, 400)

    # -- the decision API

    def test_decision_api_sets_subject(self) -> None:
        token = self.provider.token("orders.read", ORDERS)
        status, headers, body = http("GET", self.gatehouse.api_url + "/decisions/orders",
                                     {"Authorization": f"Bearer {token}"})
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "X-User"), CALLER_ID)

        opaque = self.provider.token("reports.read", REPORTS)
        status, headers, body = http("GET", self.gatehouse.api_url + "/decisions/reports",
                                     {"Authorization": f"Bearer {opaque}"})
        self.assertEqual(status, 200, body)
        self.assertEqual(header_value(headers, "X-User"), CALLER_ID)

    # -- client credentials checked at the token endpoint

    def test_client_credentials_accepted(self) -> None:
        credentials = basic(CALLER_ID, CALLER_SECRET).removeprefix("Basic ")
        status, body = self.get("/client", credentials, scheme="Basic")
        self.assertEqual(status, 200, body)
        self.assertEqual(echo_header(body, "X-User"), [CALLER_ID])

    def test_client_credentials_wrong_secret_rejected(self) -> None:
        credentials = basic(CALLER_ID, "wrong").removeprefix("Basic ")
        self.assert_unauthorized("/client", credentials, scheme="Basic")

    # -- both token kinds on one rule, and garbage

    def test_chain_accepts_both_token_kinds(self) -> None:
        jwt_token = self.provider.token("orders.read", ORDERS)
        self.assert_forwarded("/any", jwt_token, CALLER_ID, "[orders.read]")
        opaque_token = self.provider.token("reports.read", REPORTS)
        self.assert_forwarded("/any", opaque_token, CALLER_ID, "reports.read")

    def test_garbage_token_rejected(self) -> None:
        for path in ("/orders", "/reports", "/any"):
            for token in ("garbage", "not-a-token.x"):
                with self.subTest(path=path, token=token):
                    self.assert_unauthorized(path, token)

    def test_garbage_jwt_rejected_by_jwt_rules(self) -> None:
        for path in ("/orders", "/any"):
            for token in ("a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"):
                with self.subTest(path=path, token=token):
                    self.assert_unauthorized(path, token)

    def test_jwt_at_introspection_rule_is_not_active(self) -> None:
        # The provider returns `active: false` for a JWT sent to its introspection endpoint,
        # its own JWT access tokens included, so a rule that only introspects returns 401.
        self.assert_unauthorized("/reports", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
        self.assert_unauthorized("/reports", self.provider.token("orders.read", ORDERS))

if __name__ == "__main__":
    unittest.main()
