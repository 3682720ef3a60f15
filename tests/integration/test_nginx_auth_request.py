"""End-to-end tests of a real nginx that checks each request with gatehouse's decision API
through auth_request.

The test runs the shipped example (examples/nginx/): nginx with nginx.conf and gatehouse with
config.yaml and rules.yaml. Only the ports, the session store URL and the rules file path
change, and one extra rule with the noop mutator shows why the example does not use it. The
upstream is gatehouse-echo, and the session store is the test-controlled one in
auth_servers.py. nginx is required: the test fails when it cannot be found.

Environment, besides harness.py's:
  NGINX_BIN  path of the nginx binary (default: nginx on PATH, else /usr/sbin/nginx)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest
import uuid

from auth_servers import AuthServers
from fixtures.setups import echo_header
from harness import (LOOPBACK, EchoServer, Gatehouse, HarnessError, free_port, header_value,
                     http, wait_until)

EXAMPLE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                            "..", "..", "examples", "nginx"))

# The addresses in examples/nginx/nginx.conf that the test replaces with ports chosen at run
# time: nginx's own listener, gatehouse's API and the upstream.
EXAMPLE_LISTEN = "listen 127.0.0.1:8000;"
EXAMPLE_GATEHOUSE_API = "server 127.0.0.1:4456;"
EXAMPLE_UPSTREAM = "server 127.0.0.1:8080;"

NGINX_START_TIMEOUT_SECONDS = 10.0
NGINX_STOP_TIMEOUT_SECONDS = 10.0

# nginx's auth_request module allows the request on a 2xx status of the subrequest and passes
# 401 and 403 to the client. It turns any other status into 500 and logs this line.
UNEXPECTED_STATUS_LOG = "auth request unexpected status: {status}"


def nginx_binary() -> str:
    """Return the nginx binary to run, or raise HarnessError when there is none."""
    configured = os.environ.get("NGINX_BIN")
    candidates = [configured] if configured else [shutil.which("nginx"), "/usr/sbin/nginx"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise HarnessError("nginx not found: install it (scripts/bootstrap installs Debian's "
                       "nginx package) or set NGINX_BIN to its path")


def replace_once(text: str, old: str, new: str) -> str:
    """Replace old with new in text, which must contain old exactly once."""
    count = text.count(old)
    if count != 1:
        raise HarnessError(f"expected {old!r} once in examples/nginx/nginx.conf, found it "
                           f"{count} times: update the test with the example")
    return text.replace(old, new)


class Nginx:
    """nginx in the foreground with examples/nginx/nginx.conf, on a free loopback port.

    The prefix folder (-p) is a new temporary folder, so the pid file, logs and temporary
    files of the example's relative paths stay inside it. Use as a context manager.
    Attributes: url, workdir, process.
    """

    def __init__(self, gatehouse_api_port: int, upstream_port: int) -> None:
        self.workdir = tempfile.mkdtemp(prefix="gatehouse-nginx-")
        self.config_path = os.path.join(self.workdir, "nginx.conf")
        self.stderr_path = os.path.join(self.workdir, "stderr.log")
        self._gatehouse_api_port = gatehouse_api_port
        self._upstream_port = upstream_port
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Nginx":
        binary = nginx_binary()
        # A port picked by free_port can be taken before nginx binds it, so retry on new ports.
        attempts = 3
        try:
            for attempt in range(1, attempts + 1):
                self.port = free_port()
                self.url = f"http://{LOOPBACK}:{self.port}"
                self._write_config()
                self._start(binary)
                if self._wait_until_listening():
                    return self
                if "address already in use" not in self.logs().lower() or attempt == attempts:
                    raise HarnessError(f"nginx did not listen on {self.url} within "
                                       f"{NGINX_START_TIMEOUT_SECONDS} s (exit code "
                                       f"{self.process.poll()}); output:\n{self.logs()}")
        except BaseException:
            self._cleanup()
            raise
        raise AssertionError("unreachable")

    def __exit__(self, *exc_info: object) -> None:
        self._cleanup()

    def render_config(self) -> str:
        """Return the example config with the test's ports."""
        with open(os.path.join(EXAMPLE_DIR, "nginx.conf")) as example:
            text = example.read()
        text = replace_once(text, EXAMPLE_LISTEN, f"listen {LOOPBACK}:{self.port};")
        text = replace_once(text, EXAMPLE_GATEHOUSE_API,
                            f"server {LOOPBACK}:{self._gatehouse_api_port};")
        text = replace_once(text, EXAMPLE_UPSTREAM, f"server {LOOPBACK}:{self._upstream_port};")
        if os.geteuid() == 0:
            # Started as root, nginx runs its workers as `nobody`, which cannot enter the
            # private temporary folder that contains the logs and request-body files.
            text = "user root;\n" + text
        return text

    def logs(self) -> str:
        """Return nginx's stderr and error log."""
        parts = []
        for path in (self.stderr_path, os.path.join(self.workdir, "error.log")):
            try:
                with open(path, "rb") as log:
                    parts.append(log.read().decode(errors="replace"))
            except FileNotFoundError:
                pass
        return "\n".join(parts)

    def access_log_lines(self, marker: str) -> list[str]:
        """Return the lines of the access log that contain marker."""
        return self._log_lines("access.log", marker)

    def error_log_lines(self, marker: str) -> list[str]:
        """Return the lines of the error log that contain marker."""
        return self._log_lines("error.log", marker)

    def _log_lines(self, name: str, marker: str) -> list[str]:
        try:
            with open(os.path.join(self.workdir, name), "rb") as log:
                lines = log.read().decode(errors="replace").splitlines()
        except FileNotFoundError:
            return []
        return [line for line in lines if marker in line]

    def _write_config(self) -> None:
        with open(self.config_path, "w") as output:
            output.write(self.render_config())

    def _start(self, binary: str) -> None:
        if self.process is not None:
            self._stop()
        with open(self.stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(
                [binary, "-p", self.workdir, "-c", self.config_path, "-g", "daemon off;"],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=subprocess.STDOUT)

    def _wait_until_listening(self) -> bool:
        assert self.process is not None

        def listening() -> bool:
            if self.process.poll() is not None:
                return True  # exited: stop waiting
            try:
                socket.create_connection((LOOPBACK, self.port), timeout=1.0).close()
                return True
            except OSError:
                return False

        try:
            wait_until(listening, NGINX_START_TIMEOUT_SECONDS, description="nginx listening")
        except HarnessError:
            return False
        return self.process.poll() is None

    def _stop(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            # SIGTERM is nginx's fast shutdown: the master stops its workers and exits.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=NGINX_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _cleanup(self) -> None:
        if self.process is not None:
            self._stop()
        if os.environ.get("GATEHOUSE_KEEP_TMP") == "1":
            print(f"nginx test files kept in {self.workdir}")
            return
        shutil.rmtree(self.workdir, ignore_errors=True)


def noop_rule() -> dict:
    """Return a rule with the noop mutator, which the example warns against behind nginx."""
    return {
        "id": "test:noop",
        "match": {"url": "http://<[^/]+>/noop/<.*>", "methods": ["GET"]},
        "authenticators": [{"handler": "anonymous"}],
        "authorizer": {"handler": "allow"},
        "mutators": [{"handler": "noop"}],
    }


class NginxAuthRequestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Fail before starting anything when nginx is missing.
        nginx_binary()

        # Class cleanups also run when a later step of setUpClass fails.
        cls.servers = cls.enterClassContext(AuthServers())
        cls.echo = cls.enterClassContext(EchoServer("app"))
        extra_rules_dir = tempfile.mkdtemp(prefix="gatehouse-nginx-rules-")
        cls.addClassCleanup(shutil.rmtree, extra_rules_dir, ignore_errors=True)
        extra_rules = os.path.join(extra_rules_dir, "noop.json")
        with open(extra_rules, "w") as output:
            json.dump([noop_rule()], output)

        with open(os.path.join(EXAMPLE_DIR, "config.yaml")) as example:
            config = example.read()
        session_store = cls.servers.url("/sessions/whoami")
        repositories = ",".join(["file://" + os.path.join(EXAMPLE_DIR, "rules.yaml"),
                                 "file://" + extra_rules])
        # Environment variables override config keys, so the example file is used unchanged.
        cls.gatehouse = cls.enterClassContext(Gatehouse(config, env={
            "ACCESS_RULES_REPOSITORIES": repositories,
            "AUTHENTICATORS_BEARER_TOKEN_CONFIG_CHECK_SESSION_URL": session_store,
            "AUTHENTICATORS_COOKIE_SESSION_CONFIG_CHECK_SESSION_URL": session_store,
            "MUTATORS_NOOP_ENABLED": "true",
        }))
        cls.nginx = cls.enterClassContext(Nginx(cls.gatehouse.api_port, cls.echo.port))

    def setUp(self):
        self.servers.reset()
        self.servers.answer("session", "Bearer good-token", body={"sub": "ann"})
        self.servers.answer("session", "session=cookie-1", body={"subject": "bob"})

    # -- helpers

    def request(self, method, path, headers=None, body=None):
        """Send a request through nginx; returns (status, headers, body bytes)."""
        return http(method, self.nginx.url + path, headers, body)

    def through_nginx(self, method, path, headers=None, body=None):
        """Send a request that must reach the upstream; returns the echo's description."""
        status, _, response = self.request(method, path, headers, body)
        self.assertEqual(status, 200, response[:500])
        return json.loads(response)

    def unique_path(self, prefix):
        return f"{prefix}{uuid.uuid4().hex}"

    def upstream_of(self, marker):
        """Return the upstream address that nginx logged for the request with marker."""
        lines = wait_until(lambda: self.nginx.access_log_lines(marker), timeout=5.0,
                           description=f"access log line for {marker}")
        self.assertEqual(len(lines), 1, lines)
        match = re.search(r" upstream=(\S+)$", lines[0])
        self.assertIsNotNone(match, lines[0])
        return match.group(1)

    def assert_upstream_reached(self, marker):
        self.assertEqual(self.upstream_of(marker), f"{LOOPBACK}:{self.echo.port}")

    def assert_upstream_not_reached(self, marker):
        self.assertEqual(self.upstream_of(marker), "-")

    # -- allowed

    def test_public_route_sets_anonymous_user(self):
        path = self.unique_path("/public/page-")
        description = self.through_nginx("GET", path)

        self.assertEqual(description["name"], "app")
        self.assertEqual(description["method"], "GET")
        self.assertEqual(description["path"], path)
        self.assertEqual(echo_header(description, "X-User"), ["guest"])
        self.assert_upstream_reached(path)

    def test_bearer_token_sets_subject(self):
        path = self.unique_path("/api/items/")
        description = self.through_nginx("GET", path + "?page=2",
                                         {"Authorization": "Bearer good-token"})

        self.assertEqual(description["method"], "GET")
        self.assertEqual(description["path"], path)
        self.assertEqual(description["query"], "page=2")
        self.assertEqual(echo_header(description, "X-User"), ["ann"])
        self.assertEqual(echo_header(description, "Authorization"), ["Bearer good-token"])
        self.assert_upstream_reached(path)

    def test_session_store_gets_authorization(self):
        self.through_nginx("GET", "/api/items", {"Authorization": "Bearer good-token"})
        checks = self.servers.requests("session")

        self.assertEqual(len(checks), 1)
        self.assertEqual(checks[0]["headers"].get("Authorization"), "Bearer good-token")

    def test_session_cookie_sets_subject(self):
        description = self.through_nginx("GET", "/api/profile", {"Cookie": "session=cookie-1"})
        checks = self.servers.requests("session")

        self.assertEqual(echo_header(description, "X-User"), ["bob"])
        self.assertEqual(echo_header(description, "Cookie"), ["session=cookie-1"])
        self.assertEqual(len(checks), 1)
        self.assertEqual(checks[0]["headers"].get("Cookie"), "session=cookie-1")

    def test_post_body_reaches_upstream(self):
        # Larger than nginx's in-memory client body buffer, so nginx writes it to a temporary
        # file under the prefix folder first.
        body = b"".join(b"line %06d of the request body\n" % i for i in range(8000))
        path = self.unique_path("/api/uploads/")
        description = self.through_nginx("POST", path, {"Authorization": "Bearer good-token",
                                                        "Content-Type": "text/plain"}, body)

        self.assertEqual(description["method"], "POST")
        self.assertEqual(description["path"], path)
        self.assertEqual(description["body_length"], len(body))
        self.assertEqual(description["body"], body.decode())
        self.assertEqual(echo_header(description, "X-User"), ["ann"])
        self.assert_upstream_reached(path)

    def test_chunked_post_reaches_upstream(self):
        chunks = [b"first,", b"second,", b"third"]
        description = self.through_nginx("POST", "/api/stream",
                                         {"Authorization": "Bearer good-token"}, iter(chunks))

        self.assertEqual(description["method"], "POST")
        self.assertEqual(description["body"], "first,second,third")
        self.assertEqual(echo_header(description, "X-User"), ["ann"])

    def test_decision_body_not_sent_to_gatehouse(self):
        self.through_nginx("POST", "/api/uploads/small", {"Authorization": "Bearer good-token"},
                           b"payload")
        checks = self.servers.requests("session")

        self.assertEqual(len(checks), 1)
        self.assertEqual(checks[0]["body"], "")

    # -- denied

    def test_missing_token_gets_401(self):
        path = self.unique_path("/api/items/")
        status, _, body = self.request("GET", path)

        self.assertEqual(status, 401, body)
        self.assertEqual(self.servers.count("session"), 0)
        self.assert_upstream_not_reached(path)

    def test_invalid_token_gets_401(self):
        path = self.unique_path("/api/items/")
        status, _, body = self.request("GET", path, {"Authorization": "Bearer wrong-token"})

        self.assertEqual(status, 401, body)
        self.assertEqual(self.servers.count("session"), 1)
        self.assert_upstream_not_reached(path)

    def test_invalid_token_with_body_gets_401(self):
        path = self.unique_path("/api/uploads/")
        status, _, body = self.request("POST", path, {"Authorization": "Bearer wrong-token"},
                                       b"x" * 4096)

        self.assertEqual(status, 401, body)
        self.assert_upstream_not_reached(path)

    def test_401_body_is_nginx_page(self):
        # auth_request passes only the status: gatehouse's JSON error body stays in the
        # subrequest, and nginx responds with its own error page.
        status, headers, body = self.request("GET", "/api/items")

        self.assertEqual(status, 401)
        self.assertTrue(header_value(headers, "Content-Type").startswith("text/html"))
        self.assertIn(b"401 Authorization Required", body)

    def test_deny_authorizer_gets_403(self):
        path = self.unique_path("/admin/settings-")
        status, _, body = self.request("GET", path)

        self.assertEqual(status, 403, body)
        self.assert_upstream_not_reached(path)

    def test_anonymous_route_with_token_gets_401(self):
        # The anonymous authenticator is not responsible for requests with credentials.
        status, _, body = self.request("GET", "/public/page",
                                       {"Authorization": "Bearer good-token"})

        self.assertEqual(status, 401, body)

    # -- decisions that nginx maps to 500

    def test_unmatched_path_gets_500(self):
        path = self.unique_path("/nowhere/")
        decision, _, _ = http("GET", self.gatehouse.api_url + "/decisions" + path,
                              {"X-Forwarded-Host": f"{LOOPBACK}:{self.nginx.port}"})
        status, _, body = self.request("GET", path)

        self.assertEqual(decision, 404)
        self.assertEqual(status, 500, body)
        self.assert_upstream_not_reached(path)
        wait_until(lambda: self.nginx.error_log_lines(path), timeout=5.0,
                   description=f"error log line for {path}")
        self.assertIn(UNEXPECTED_STATUS_LOG.format(status=404),
                      self.nginx.error_log_lines(path)[0])

    def test_method_outside_rule_gets_500(self):
        # The public rule allows GET and HEAD only, so gatehouse finds no rule for a POST and
        # returns 404, which nginx turns into 500.
        path = self.unique_path("/public/form-")
        status, _, body = self.request("POST", path, body=b"a=1")

        self.assertEqual(status, 500, body)
        self.assert_upstream_not_reached(path)

    def test_encoded_dot_segments_stay_in_rule(self):
        # gatehouse decodes and normalizes X-Forwarded-Uri, so /public/..%2Fadmin/x is
        # decided as /admin/x and not as a public page.
        path = self.unique_path("/public/..%2Fadmin/x-")
        status, _, body = self.request("GET", path)

        self.assertEqual(status, 403, body)
        self.assert_upstream_not_reached(path)

    # -- identity headers

    def test_client_user_header_replaced(self):
        description = self.through_nginx("GET", "/api/items", [
            ("Authorization", "Bearer good-token"), ("X-User", "admin"), ("X-User", "root")])

        self.assertEqual(echo_header(description, "X-User"), ["ann"])

    def test_client_user_header_replaced_on_public_route(self):
        description = self.through_nginx("GET", "/public/page", {"X-User": "admin"})

        self.assertEqual(echo_header(description, "X-User"), ["guest"])

    def test_noop_rule_lets_client_choose_user(self):
        # The example sets X-User with the header mutator on every rule because of this. The
        # noop mutator makes the decision API return the request's own headers, and nginx
        # copies the client's X-User from that response.
        status, headers, _ = http("GET", self.gatehouse.api_url + "/decisions/noop/page",
                                  {"X-User": "admin"})
        description = self.through_nginx("GET", "/noop/page", {"X-User": "admin"})

        self.assertEqual(status, 200)
        self.assertEqual(header_value(headers, "X-User"), "admin")
        self.assertEqual(echo_header(description, "X-User"), ["admin"])


if __name__ == "__main__":
    unittest.main()
