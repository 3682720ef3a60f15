"""End-to-end tests of the quickstart deployment in examples/quickstart/.

The stack is the one scripts/quickstart runs: gatehouse with its token service, and two
gatehouse-echo services, app-user and app-admin. It starts from the shipped config.yaml and
rules.yaml. Only the listener addresses, the SQLite file and the rules path change, so that
ports can be chosen at run time. cookie_session expects a session store on port 4433, so the
test runs a small one of its own.

For the expired, wrong-issuer and unknown-key JWT cases, tokens are signed with the npm
package `jose`. Its public key is added to the jwt authenticator's key sets through an
environment override, so the file's trusted issuer and scope checks are what reject them.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fixtures.setups import echo_header
from harness import EchoServer, Gatehouse, HarnessError, free_port, http, wait_until
from test_jwt import ensure_node_modules, make_keys, node
from test_token_service import FORM_HEADERS, basic_header, form_body

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(HERE))
EXAMPLE = os.path.join(REPOSITORY, "examples", "quickstart")
WALKTHROUGH = os.path.join(EXAMPLE, "walkthrough")

# The fixed addresses of the quickstart, as written in the example files.
PUBLIC_ADDRESS = "127.0.0.1:4444"
ADMIN_ADDRESS = "127.0.0.1:4445"
SESSION_STORE_ADDRESS = "127.0.0.1:4433"
APP_USER_URL = "http://127.0.0.1:8082"
APP_ADMIN_URL = "http://127.0.0.1:8081"
SHIPPED_DSN = "sqlite://build/quickstart/oauth2.db"
SHIPPED_RULES = "file://examples/quickstart/rules.yaml"

SESSION_COOKIE = "ory_kratos_session"
VALID_SESSION = "session-of-ann"
SESSION_SUBJECT = "ann"


def rewrite(text: str, replacements: dict[str, str], source: str) -> str:
    """Replace each key of replacements by its value. Every key must occur in text."""
    for old, new in replacements.items():
        if old not in text:
            raise AssertionError(f"{source} no longer contains {old!r}; update the "
                                 "replacements in test_quickstart.py to the new text")
        text = text.replace(old, new)
    return text


class SessionStore:
    """A session store in the style of Ory Kratos's GET /sessions/whoami, on a free port.

    The session cookie VALID_SESSION belongs to SESSION_SUBJECT, and every other request gets
    401.
    The paths of the requests it received are kept in `paths`.
    """

    def __enter__(self) -> "SessionStore":
        store = self
        self.paths: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802 (BaseHTTPRequestHandler's name)
                store.paths.append(self.path)
                cookies = self.headers.get("Cookie", "")
                if f"{SESSION_COOKIE}={VALID_SESSION}" in cookies.split("; "):
                    status, document = 200, {"id": "s-1", "active": True,
                                              "identity": {"id": SESSION_SUBJECT}}
                else:
                    status, document = 401, {"error": {"code": 401}}
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class QuickstartStack:
    """app-user, app-admin, the session store and gatehouse with the example files.

    extra_jwks_urls are appended to the jwt authenticator's jwks_urls. env adds environment
    variables for gatehouse, which override config keys.
    """

    def __init__(self, extra_jwks_urls: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.extra_jwks_urls = extra_jwks_urls
        self.env = dict(env or {})
        self.stack: list[Any] = []

    def __enter__(self) -> "QuickstartStack":
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        while self.stack:
            self.stack.pop().__exit__(None, None, None)

    def _enter(self, context: Any) -> Any:
        value = context.__enter__()
        self.stack.append(context)
        return value

    def _start(self) -> None:
        self.app_user = self._enter(EchoServer("app-user"))
        self.app_admin = self._enter(EchoServer("app-admin"))
        self.sessions = self._enter(SessionStore())
        self.files = self._enter(tempfile.TemporaryDirectory(prefix="gatehouse-quickstart-"))

        public_port, admin_port = free_port(), free_port()
        self.public_url = f"http://127.0.0.1:{public_port}"
        self.admin_url = f"http://127.0.0.1:{admin_port}"
        self.issuer = self.public_url + "/"

        rules_path = os.path.join(self.files, "rules.yaml")
        with open(os.path.join(EXAMPLE, "rules.yaml")) as source:
            rules = rewrite(source.read(), {
                APP_USER_URL: self.app_user.url,
                APP_ADMIN_URL: self.app_admin.url,
                "http://" + PUBLIC_ADDRESS: self.public_url,
            }, "rules.yaml")
        with open(rules_path, "w") as output:
            output.write(rules)

        dsn = "sqlite://" + os.path.join(self.files, "oauth2.db")
        with open(os.path.join(EXAMPLE, "config.yaml")) as source:
            self.config = rewrite(source.read(), {
                PUBLIC_ADDRESS: f"127.0.0.1:{public_port}",
                ADMIN_ADDRESS: f"127.0.0.1:{admin_port}",
                SESSION_STORE_ADDRESS: self.sessions.address,
                "port: 4444": f"port: {public_port}",
                "port: 4445": f"port: {admin_port}",
                SHIPPED_DSN: dsn,
                SHIPPED_RULES: "file://" + rules_path,
            }, "config.yaml")
        if self.extra_jwks_urls:
            jwks_list = f"jwks_urls: [{self.public_url}/.well-known/jwks.json"
            self.config = rewrite(self.config, {
                jwks_list: ", ".join([jwks_list, *self.extra_jwks_urls])}, "config.yaml")
        migrate = subprocess.run([os.environ["GATEHOUSE_BIN"], "migrate", "sql", "--dsn", dsn],
                                 capture_output=True, text=True, timeout=60)
        if migrate.returncode != 0:
            raise HarnessError(f"gatehouse migrate sql failed: {migrate.stderr}")

        self.gatehouse = self._enter(Gatehouse(self.config, env=self.env))
        self.proxy_url = self.gatehouse.proxy_url
        wait_until(self._token_service_ready, timeout=20, description="token service ready")

    def _token_service_ready(self) -> bool:
        try:
            return http("GET", self.admin_url + "/health/ready", timeout=1.0)[0] == 200
        except OSError:
            return False

    # -- clients and tokens

    def create_client(self, scope: str, strategy: str) -> dict:
        body = json.dumps({"grant_types": ["client_credentials"], "scope": scope,
                           "access_token_strategy": strategy})
        status, _, raw = http("POST", self.admin_url + "/admin/clients",
                              {"Content-Type": "application/json"}, body)
        if status != 201:
            raise HarnessError(f"creating a client returned {status}: {raw!r}")
        return json.loads(raw)

    def token(self, client: dict, scope: str, through_proxy: bool = False) -> str:
        base = self.proxy_url if through_proxy else self.public_url
        headers = dict(FORM_HEADERS, Authorization=basic_header(client["client_id"],
                                                                client["client_secret"]))
        status, _, raw = http("POST", base + "/oauth2/token", headers,
                              form_body({"grant_type": "client_credentials", "scope": scope}))
        if status != 200:
            raise HarnessError(f"the token endpoint returned {status}: {raw!r}")
        return json.loads(raw)["access_token"]

    def revoke(self, client: dict, token: str) -> int:
        headers = dict(FORM_HEADERS, Authorization=basic_header(client["client_id"],
                                                                client["client_secret"]))
        return http("POST", self.public_url + "/oauth2/revoke", headers,
                    form_body({"token": token}))[0]

    def call(self, path: str, token: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict]:
        """Send GET path through the proxy and return (status, parsed JSON body)."""
        request_headers = dict(headers or {})
        if token is not None:
            request_headers["Authorization"] = f"Bearer {token}"
        status, _, raw = http("GET", self.proxy_url + path, request_headers)
        return status, json.loads(raw) if raw else {}


class QuickstartTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        ensure_node_modules()
        keys = make_keys([("RS256", "quickstart-test"), ("RS256", "untrusted")])
        cls.test_key = keys["quickstart-test"]
        cls.untrusted_key = keys["untrusted"]

        test_jwks = json.dumps({"keys": [cls.test_key["public"]]}).encode()
        cls.stack = QuickstartStack(
            extra_jwks_urls=("base64://" + base64.b64encode(test_jwks).decode(),)).__enter__()

        try:
            # The two clients scripts/quickstart registers, and the other two combinations.
            cls.user_client = cls.stack.create_client("user", "opaque")
            cls.admin_client = cls.stack.create_client("user admin", "jwt")
            cls.jwt_user_client = cls.stack.create_client("user", "jwt")
            cls.opaque_admin_client = cls.stack.create_client("user admin", "opaque")
        except BaseException:
            cls.stack.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        cls.stack.__exit__(None, None, None)

    # -- helpers

    def sign(self, key: dict, claims: dict) -> str:
        return node("sign", [{"alg": "RS256", "kid": key["kid"], "private": key["private"],
                              "claims": claims}])[0]

    def claims(self, **overrides: Any) -> dict:
        now = int(time.time())
        claims = {"iss": self.stack.issuer, "sub": "signed-by-test", "scp": ["user"],
                  "iat": now, "nbf": now, "exp": now + 300, "jti": str(uuid.uuid4())}
        claims.update(overrides)
        return claims

    def assert_error(self, status: int, body: dict, expected_status: int, phrase: str,
                     message: str, reason_part: str = "") -> None:
        """Check the json error handler's body: {"error": {code, status, message, reason}}."""
        self.assertEqual(status, expected_status, body)
        error = body["error"]
        self.assertEqual(error["code"], expected_status)
        self.assertEqual(error["status"], phrase)
        self.assertEqual(error["message"], message)
        self.assertIn(reason_part, error["reason"])

    def assert_unauthorized(self, status: int, body: dict, reason_part: str = "") -> None:
        self.assert_error(status, body, 401, "Unauthorized", "Access credentials are invalid",
                          reason_part)

    def assert_forbidden(self, status: int, body: dict, reason_part: str = "") -> None:
        self.assert_error(status, body, 403, "Forbidden",
                          "Access credentials are not sufficient to access this resource",
                          reason_part)

    def assert_reached(self, status: int, body: dict, service: str, subject: str) -> None:
        self.assertEqual(status, 200, body)
        self.assertEqual(body["name"], service)
        self.assertEqual(echo_header(body, "X-User"), [subject])

    # -- tokens that are accepted

    def test_jwt_passes_jwt_authenticator(self):
        token = self.stack.token(self.admin_client, "user admin")
        self.assertEqual(token.count("."), 2)
        for path, service in (("/user/profile", "app-user"), ("/admin/panel", "app-admin")):
            with self.subTest(path=path):
                status, body = self.stack.call(path, token)
                self.assert_reached(status, body, service, self.admin_client["client_id"])
                self.assertEqual(echo_header(body, "X-Scopes"), ["user admin"])

    def test_opaque_token_passes_introspection(self):
        token = self.stack.token(self.user_client, "user")
        self.assertTrue(token.startswith("ory_at_"))
        status, body = self.stack.call("/user/profile", token)
        self.assert_reached(status, body, "app-user", self.user_client["client_id"])
        self.assertEqual(echo_header(body, "X-Scopes"), ["user"])

        token = self.stack.token(self.opaque_admin_client, "user admin")
        status, body = self.stack.call("/admin/panel", token)
        self.assert_reached(status, body, "app-admin", self.opaque_admin_client["client_id"])
        self.assertEqual(echo_header(body, "X-Scopes"), ["user admin"])

    def test_both_formats_pass_bearer_token(self):
        tokens = {"opaque": (self.user_client, self.stack.token(self.user_client, "user")),
                  "jwt": (self.jwt_user_client, self.stack.token(self.jwt_user_client, "user"))}
        for token_format, (client, token) in tokens.items():
            with self.subTest(token_format=token_format):
                status, body = self.stack.call("/rfc7662/user/profile", token)
                self.assert_reached(status, body, "app-user", client["client_id"])
                self.assertEqual(echo_header(body, "X-Scopes"), ["user"])

    def test_client_cannot_set_identity_headers(self):
        token = self.stack.token(self.user_client, "user")
        status, body = self.stack.call("/user/profile", token,
                                       {"X-User": "root", "X-Scopes": "admin"})
        self.assert_reached(status, body, "app-user", self.user_client["client_id"])
        self.assertEqual(echo_header(body, "X-Scopes"), ["user"])

    def test_public_route_is_anonymous(self):
        status, body = self.stack.call("/public/hello")
        self.assert_reached(status, body, "app-user", "guest")

    # -- tokens that are rejected

    def test_missing_token_is_rejected(self):
        request_id = str(uuid.uuid4())
        for path in ("/user/profile", "/admin/panel", "/rfc7662/user/profile"):
            with self.subTest(path=path):
                status, body = self.stack.call(path, headers={"X-Request-Id": request_id})
                self.assert_unauthorized(status, body, "no authenticator was responsible")
                self.assertEqual(body["error"]["request"], request_id)

    def test_malformed_tokens_are_rejected(self):
        cases = {"three parts, not base64url": ("a.b.c", "malformed"),
                 "opaque, unknown": ("not-a-token", "not active"),
                 "forged opaque": ("ory_at_forged.signature", "not active")}
        for name, (token, reason) in cases.items():
            with self.subTest(token=name):
                self.assert_unauthorized(*self.stack.call("/user/profile", token), reason)
            with self.subTest(token=name, route="rfc7662"):
                self.assert_unauthorized(*self.stack.call("/rfc7662/user/profile", token))

    def test_expired_jwt_is_rejected(self):
        now = int(time.time())
        token = self.sign(self.test_key, self.claims(iat=now - 600, nbf=now - 600, exp=now - 60))
        self.assert_unauthorized(*self.stack.call("/user/profile", token), "expired")

    def test_signed_test_jwt_is_accepted(self):
        # The control case for the expired and wrong-issuer tokens: the same key and claims,
        # valid, pass.
        status, body = self.stack.call("/user/profile", self.sign(self.test_key, self.claims()))
        self.assert_reached(status, body, "app-user", "signed-by-test")

    def test_wrong_issuer_jwt_is_rejected(self):
        token = self.sign(self.test_key, self.claims(iss="http://127.0.0.1:1/other-issuer/"))
        self.assert_unauthorized(*self.stack.call("/user/profile", token), "issuer")

    def test_jwt_from_unknown_key_is_rejected(self):
        token = self.sign(self.untrusted_key, self.claims())
        self.assert_unauthorized(*self.stack.call("/user/profile", token))

    def test_revoked_opaque_token_is_rejected(self):
        token = self.stack.token(self.user_client, "user")
        self.assertEqual(self.stack.call("/user/profile", token)[0], 200)
        self.assertEqual(self.stack.revoke(self.user_client, token), 200)
        for path in ("/user/profile", "/rfc7662/user/profile"):
            with self.subTest(path=path):
                self.assert_unauthorized(*self.stack.call(path, token), "not active")

    def test_revoked_jwt_only_rejected_by_introspection(self):
        # The jwt authenticator verifies the token locally, so it cannot see a revocation
        # before exp. The RFC 7662 route sends the token to the introspection endpoint, which
        # reports it inactive at once.
        token = self.stack.token(self.jwt_user_client, "user")
        self.assertEqual(self.stack.revoke(self.jwt_user_client, token), 200)
        status, body = self.stack.call("/user/profile", token)
        self.assert_reached(status, body, "app-user", self.jwt_user_client["client_id"])
        self.assert_unauthorized(*self.stack.call("/rfc7662/user/profile", token))

    def test_user_scope_is_forbidden_on_admin(self):
        opaque = self.stack.token(self.user_client, "user")
        self.assert_forbidden(*self.stack.call("/admin/panel", opaque),
                              "Scope admin was not granted")

    def test_user_scope_jwt_is_unauthorized_on_admin(self):
        # The jwt authenticator rejects a missing scope with 401 (docs/authenticator-jwt.md),
        # where oauth2_introspection returns 403.
        token = self.stack.token(self.jwt_user_client, "user")
        self.assert_unauthorized(*self.stack.call("/admin/panel", token), "scope")

    def test_admin_only_token_reaches_only_admin(self):
        # required_scope needs every listed scope, so a token with only "admin" is not enough
        # for /user/. The quickstart's admin client therefore requests "user admin".
        opaque = self.stack.token(self.opaque_admin_client, "admin")
        self.assert_forbidden(*self.stack.call("/user/profile", opaque),
                              "Scope user was not granted")
        jwt = self.stack.token(self.admin_client, "admin")
        self.assert_unauthorized(*self.stack.call("/user/profile", jwt), "scope")
        status, body = self.stack.call("/admin/panel", opaque)
        self.assert_reached(status, body, "app-admin", self.opaque_admin_client["client_id"])
        status, body = self.stack.call("/admin/panel", jwt)
        self.assert_reached(status, body, "app-admin", self.admin_client["client_id"])

    def test_jwt_without_scope_is_rejected(self):
        token = self.sign(self.test_key, self.claims(scp=[]))
        self.assert_unauthorized(*self.stack.call("/user/profile", token), "scope")

    # -- the token endpoint and sessions

    def test_token_endpoint_through_proxy(self):
        token = self.stack.token(self.user_client, "user", through_proxy=True)
        status, body = self.stack.call("/user/profile", token)
        self.assert_reached(status, body, "app-user", self.user_client["client_id"])

    def test_token_endpoint_through_proxy_checks_secret(self):
        headers = dict(FORM_HEADERS, Authorization=basic_header(self.user_client["client_id"],
                                                                "wrong-secret"))
        status, _, raw = http("POST", self.stack.proxy_url + "/oauth2/token", headers,
                              form_body({"grant_type": "client_credentials", "scope": "user"}))
        self.assertEqual(status, 401, raw)
        self.assertEqual(json.loads(raw)["error"], "invalid_client")

    def test_session_cookie_passes_cookie_session(self):
        cookie = {"Cookie": f"{SESSION_COOKIE}={VALID_SESSION}"}
        status, body = self.stack.call("/user/profile", headers=cookie)
        self.assert_reached(status, body, "app-user", SESSION_SUBJECT)
        self.assertIn("/sessions/whoami", self.stack.sessions.paths)

    def test_unknown_session_cookie_is_rejected(self):
        cookie = {"Cookie": f"{SESSION_COOKIE}=forged"}
        self.assert_unauthorized(*self.stack.call("/user/profile", headers=cookie))

    def test_other_cookies_skip_session_store(self):
        token = self.stack.token(self.user_client, "user")
        before = len(self.stack.sessions.paths)
        status, body = self.stack.call("/user/profile", token, {"Cookie": "theme=dark"})
        self.assert_reached(status, body, "app-user", self.user_client["client_id"])
        self.assertEqual(len(self.stack.sessions.paths), before)

    # -- the walkthrough

    def run_walkthrough(self, clients_path: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, WALKTHROUGH, "--proxy", self.stack.proxy_url,
             "--token-service", self.stack.public_url, "--token-admin", self.stack.admin_url,
             "--clients", clients_path],
            capture_output=True, text=True, timeout=120)

    def test_walkthrough_with_quickstart_clients(self):
        # The same file layout as scripts/quickstart writes to build/quickstart/clients.json.
        clients = {
            "user": self.stack.create_client("user", "opaque"),
            "admin": self.stack.create_client("user admin", "jwt"),
        }
        path = os.path.join(self.stack.files, "clients.json")
        with open(path, "w") as output:
            json.dump({name: {key: client[key] for key in
                              ("client_id", "client_secret", "scope", "access_token_strategy")}
                       for name, client in clients.items()}, output)
        result = self.run_walkthrough(path)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("returned the expected status", result.stdout)

    def test_walkthrough_registers_own_clients(self):
        result = self.run_walkthrough(os.path.join(self.stack.files, "missing.json"))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("register the client walkthrough-admin", result.stdout)


class QuickstartExpiryTest(unittest.TestCase):
    """Tokens from the token service itself, run with a short access token lifetime."""

    # Expiry times are whole seconds, so a token can expire up to a second early. The first
    # grant also hashes the client secret (PBKDF2, 200,000 iterations), which is slow under
    # the sanitizers.
    LIFETIME_SECONDS = 5

    def test_expired_tokens_are_rejected(self):
        env = {"OAUTH2_TTL_ACCESS_TOKEN": f"{self.LIFETIME_SECONDS}s"}
        with QuickstartStack(env=env) as stack:
            clients = {"opaque": stack.create_client("user", "opaque"),
                       "jwt": stack.create_client("user", "jwt")}
            # Each token is used right after its grant, because a grant can take seconds
            # (the secret hash, and more so under emulation), longer than the token lifetime.
            tokens = {}
            for name, client in clients.items():
                tokens[name] = stack.token(client, "user")
                status, body = stack.call("/user/profile", tokens[name])
                self.assertEqual(status, 200, (name, body))

            time.sleep(self.LIFETIME_SECONDS + 1.5)
            expected_reasons = {"opaque": "not active", "jwt": "expired"}
            for name, token in tokens.items():
                for path in ("/user/profile", "/rfc7662/user/profile"):
                    with self.subTest(token_format=name, path=path):
                        status, body = stack.call(path, token)
                        self.assertEqual(status, 401, body)
                        if path == "/user/profile":
                            self.assertIn(expected_reasons[name], body["error"]["reason"])


class QuickstartFilesTest(unittest.TestCase):
    def test_shipped_config_validates(self):
        result = subprocess.run([os.environ["GATEHOUSE_BIN"], "config", "validate", "-c",
                                 os.path.join("examples", "quickstart", "config.yaml")],
                                cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
