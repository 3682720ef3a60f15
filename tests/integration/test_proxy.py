"""End-to-end tests of the proxy listener against the echo upstream."""

import hashlib
import http.client as http_client
import json
import re
import signal
import socket
import threading
import time
import unittest
import urllib.parse

from fixtures.setups import (ANY_HOST, LOGIN_URL, base_config, echo_header, header_mutator, rule,
                             verbose_config)
from harness import (OPCODE_BINARY, OPCODE_TEXT, EchoServer, Gatehouse, free_port, header_value,
                     http, websocket_connect)


def raw_exchange(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send raw request bytes and return everything received until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        received = b""
        while True:
            try:
                data = connection.recv(65536)
            except ConnectionResetError:
                return received
            if not data:
                return received
            received += data


def status_of(raw_response: bytes) -> int:
    return int(raw_response.split(b" ", 2)[1])


def error_body(status: int, reason: str, message: str) -> dict:
    return {"error": {"code": status, "status": reason, "message": message}}


def proxy_rules(echo_url: str) -> list[dict]:
    """Rules for the shared gatehouse of ProxyTest, one per behaviour under test."""
    user_header = header_mutator({"X-User": "{{ print .Subject }}"})
    return [
        rule("public", f"http://{ANY_HOST}/public/<.*>", echo_url,
             methods=["GET", "POST", "PUT", "HEAD"]),
        rule("admin", f"http://{ANY_HOST}/admin/<.*>", echo_url,
             mutators=[header_mutator({"X-Rule": "admin"})]),
        rule("denied", f"http://{ANY_HOST}/denied/<.*>", echo_url, authorizer="deny"),
        rule("locked", f"http://{ANY_HOST}/locked", echo_url, authenticators=["unauthorized"]),
        rule("challenge", f"http://{ANY_HOST}/challenge", echo_url,
             authenticators=["unauthorized"], errors=[{"handler": "www_authenticate"}]),
        rule("login", f"http://{ANY_HOST}/private/<.*>", echo_url,
             authenticators=["unauthorized"],
             errors=[{"handler": "redirect",
                      "config": {"return_to_query_param": "return_to"}}]),
        rule("captures", "http://captures.test/users/<[0-9]+>/items/<[a-z]+>", echo_url,
             mutators=[header_mutator({
                 "X-User-Id": "{{ printIndex .MatchContext.RegexpCaptureGroups 0 }}",
                 "X-Item": "{{ printIndex .MatchContext.RegexpCaptureGroups 1 }}",
                 "X-Trace": '{{ .MatchContext.Header.Get "x-trace" }}',
             })]),
        rule("submit", f"http://{ANY_HOST}/submit", echo_url, methods=["POST"]),
        rule("overlap-a", f"http://{ANY_HOST}/overlap/<.*>", echo_url),
        rule("overlap-b", f"http://{ANY_HOST}/overlap/<[a-z]+>", echo_url),
        rule("stripped", f"http://{ANY_HOST}/api/<.*>",
             {"url": echo_url + "/backend", "strip_path": "/api"}),
        rule("preserved", f"http://{ANY_HOST}/keep-host/<.*>",
             {"url": echo_url, "preserve_host": True}),
        rule("joined", f"http://{ANY_HOST}/join/<.*>", echo_url + "/base/"),
        rule("user", f"http://{ANY_HOST}/user/<.*>", echo_url, mutators=[user_header]),
        rule("no-upstream", f"http://{ANY_HOST}/nowhere"),
        rule("websocket", f"http://{ANY_HOST}/ws/<.*>", echo_url),
    ]


class ProxyTest(unittest.TestCase):
    """Behaviours that one gatehouse with one rule set can show."""

    @classmethod
    def setUpClass(cls):
        cls.echo = EchoServer().__enter__()
        cls.gatehouse = Gatehouse(base_config(), proxy_rules(cls.echo.url)).__enter__()
        cls.host = cls.gatehouse.proxy_url[len("http://"):]

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        cls.echo.__exit__(None, None, None)

    def request(self, method, path, headers=None, body=None, timeout=10.0):
        return http(method, self.gatehouse.proxy_url + path, headers, body, timeout)

    def forwarded(self, method, path, headers=None, body=None, timeout=10.0):
        """Send a request that the proxy must forward, and return what the upstream received."""
        status, _, response_body = self.request(method, path, headers, body, timeout)
        self.assertEqual(status, 200, response_body)
        return json.loads(response_body)

    def assert_json_error(self, response, status, reason, message):
        code, headers, body = response
        self.assertEqual(code, status, body)
        self.assertTrue(header_value(headers, "Content-Type").startswith("application/json"))
        self.assertEqual(json.loads(body), error_body(status, reason, message))

    # -- pipeline outcomes

    def test_anonymous_request_reaches_upstream(self):
        seen = self.forwarded("POST", "/public/items?color=red&size=2", body=b"hello upstream")
        self.assertEqual(seen["method"], "POST")
        self.assertEqual(seen["path"], "/public/items")
        self.assertEqual(seen["query"], "color=red&size=2")
        self.assertEqual(seen["body"], "hello upstream")

    def test_upstream_status_and_body_pass_through(self):
        status, _, body = self.request("GET", "/public/teapot", {"X-Echo-Status": "418"})
        self.assertEqual(status, 418)
        self.assertEqual(json.loads(body)["path"], "/public/teapot")

    def test_authorization_header_gets_401(self):
        response = self.request("GET", "/public/x", {"Authorization": "Bearer abc"})
        self.assert_json_error(response, 401, "Unauthorized",
                               "The request could not be authorized")

    def test_unauthorized_authenticator_gets_401(self):
        response = self.request("GET", "/locked")
        self.assert_json_error(response, 401, "Unauthorized",
                               "The request could not be authorized")

    def test_no_matching_rule_gets_404(self):
        response = self.request("GET", "/unknown/place")
        self.assert_json_error(response, 404, "Not Found",
                               "The requested resource could not be found")

    def test_deny_authorizer_gets_403(self):
        response = self.request("GET", "/denied/thing")
        self.assert_json_error(response, 403, "Forbidden", "The requested action was forbidden")

    def test_two_matching_rules_get_500(self):
        response = self.request("GET", "/overlap/abc")
        self.assert_json_error(
            response, 500, "Internal Server Error",
            "An internal server error occurred, please contact the system administrator")
        logs = self.gatehouse.logs()
        lines = [line for line in logs.splitlines() if "multiple rules" in line]
        self.assertTrue(lines, logs)
        self.assertIn("overlap-a", lines[-1])
        self.assertIn("overlap-b", lines[-1])

    def test_only_one_overlapping_rule_matches(self):
        # "/overlap/a1" fits overlap-a only, because overlap-b allows letters alone.
        seen = self.forwarded("GET", "/overlap/a1")
        self.assertEqual(seen["path"], "/overlap/a1")

    def test_www_authenticate_error_handler(self):
        status, headers, body = self.request("GET", "/challenge")
        self.assertEqual(status, 401)
        challenge = header_value(headers, "WWW-Authenticate")
        self.assertIsNotNone(challenge)
        self.assertRegex(challenge, r'^Basic realm="?Members only"?$')
        self.assertEqual(body, b"Unauthorized\n")

    def test_redirect_error_handler_adds_return_to(self):
        status, headers, _ = self.request("GET", "/private/page?tab=2")
        self.assertEqual(status, 302)
        location = urllib.parse.urlsplit(header_value(headers, "Location"))
        self.assertEqual(urllib.parse.urlunsplit(location._replace(query="")), LOGIN_URL)
        query = urllib.parse.parse_qs(location.query)
        self.assertEqual(query["return_to"],
                         [f"http://{self.host}/private/page?tab=2"])

    def test_rule_without_upstream_gets_500(self):
        response = self.request("GET", "/nowhere")
        self.assert_json_error(
            response, 500, "Internal Server Error",
            "An internal server error occurred, please contact the system administrator")

    # -- matching

    def test_regexp_captures_in_header_mutator(self):
        seen = self.forwarded("GET", "/users/42/items/book",
                              {"Host": "captures.test", "X-Trace": "t-7"})
        self.assertEqual(echo_header(seen, "X-User-Id"), ["42"])
        self.assertEqual(echo_header(seen, "X-Item"), ["book"])
        self.assertEqual(echo_header(seen, "X-Trace"), ["t-7"])

    def test_regexp_capture_mismatch_gets_404(self):
        status, _, _ = self.request("GET", "/users/abc/items/book", {"Host": "captures.test"})
        self.assertEqual(status, 404)

    def test_method_not_in_rule_gets_404(self):
        status, _, _ = self.request("GET", "/submit")
        self.assertEqual(status, 404)
        seen = self.forwarded("POST", "/submit", body=b"form")
        self.assertEqual(seen["method"], "POST")

    def test_dot_segments_match_normalized_path(self):
        seen = self.forwarded("GET", "/public/../admin/x")
        self.assertEqual(seen["path"], "/admin/x")
        self.assertEqual(echo_header(seen, "X-Rule"), ["admin"])

    def test_encoded_dot_segments_are_normalized(self):
        seen = self.forwarded("GET", "/public/%2e%2e/admin/y")
        self.assertEqual(seen["path"], "/admin/y")
        self.assertEqual(echo_header(seen, "X-Rule"), ["admin"])

    # -- upstream URL and Host

    def test_strip_path_removes_prefix(self):
        seen = self.forwarded("GET", "/api/users/7?full=1")
        self.assertEqual(seen["path"], "/backend/users/7")
        self.assertEqual(seen["query"], "full=1")

    def test_upstream_host_replaces_client_host(self):
        seen = self.forwarded("GET", "/public/host")
        self.assertEqual(echo_header(seen, "Host"), [f"{self.echo.host}:{self.echo.port}"])

    def test_preserve_host_keeps_client_host(self):
        seen = self.forwarded("GET", "/keep-host/a")
        self.assertEqual(echo_header(seen, "Host"), [self.host])

    def test_upstream_path_joins_with_one_slash(self):
        seen = self.forwarded("GET", "/join/x")
        self.assertEqual(seen["path"], "/base/join/x")

    def test_upstream_path_keeps_trailing_slash(self):
        seen = self.forwarded("GET", "/join/x/")
        self.assertEqual(seen["path"], "/base/join/x/")

    # -- headers

    def test_connection_listed_header_not_forwarded(self):
        seen = self.forwarded("GET", "/public/hop",
                              [("Connection", "X-Foo"), ("X-Foo", "secret"), ("X-Bar", "kept")])
        self.assertEqual(echo_header(seen, "X-Foo"), [])
        self.assertEqual(echo_header(seen, "X-Bar"), ["kept"])

    def test_standard_hop_by_hop_headers_not_forwarded(self):
        seen = self.forwarded("GET", "/public/hop",
                              [("Keep-Alive", "timeout=5"), ("Proxy-Authorization", "Basic eA=="),
                               ("TE", "trailers")])
        for name in ("Keep-Alive", "Proxy-Authorization", "TE"):
            self.assertEqual(echo_header(seen, name), [], name)

    def test_mutator_header_survives_connection_listing(self):
        seen = self.forwarded("GET", "/user/me", [("Connection", "X-User")])
        self.assertEqual(echo_header(seen, "X-User"), ["guest"])

    def test_mutator_header_replaces_client_copies(self):
        seen = self.forwarded("GET", "/user/me", [("X-User", "admin"), ("X-User", "root")])
        self.assertEqual(echo_header(seen, "X-User"), ["guest"])

    def test_mutator_header_replaces_underscore_spellings(self):
        # CGI and WSGI servers read X_User and X-User as the same variable.
        seen = self.forwarded("GET", "/user/me", [("X_User", "admin"), ("x_USER", "root"),
                                                  ("X_Other", "kept")])
        self.assertEqual(echo_header(seen, "X-User"), ["guest"])
        self.assertEqual(echo_header(seen, "X_User"), [])
        self.assertEqual(echo_header(seen, "X_Other"), ["kept"])

    def test_untrusted_forwarded_headers_replaced(self):
        seen = self.forwarded("GET", "/public/fwd",
                              [("X-Forwarded-For", "203.0.113.9"),
                               ("X-Forwarded-Proto", "https"),
                               ("X-Forwarded-Host", "evil.test"),
                               ("X-Forwarded-Port", "8443"),
                               ("Forwarded", "for=203.0.113.9;proto=https")])
        self.assertEqual(echo_header(seen, "X-Forwarded-For"), ["127.0.0.1"])
        self.assertEqual(echo_header(seen, "X-Forwarded-Proto"), ["http"])
        self.assertEqual(echo_header(seen, "X-Forwarded-Host"), [self.host])
        self.assertEqual(echo_header(seen, "X-Forwarded-Port"), [])
        self.assertEqual(echo_header(seen, "Forwarded"), [])

    # -- framing and streaming

    def test_chunked_request_body_streamed_intact(self):
        # 5 MiB in 320 chunks of 16 KiB, each chunk different so a lost or reordered chunk shows.
        chunks = [(f"{index:06d}".encode() * 2731)[:16384] for index in range(320)]
        expected = b"".join(chunks)
        # The sanitizer build on a loaded 2-core machine needs several seconds for 5 MiB.
        seen = self.forwarded("PUT", "/public/upload", body=iter(chunks), timeout=60.0)
        self.assertEqual(seen["body_length"], len(expected))
        self.assertEqual(hashlib.sha256(seen["body"].encode()).hexdigest(),
                         hashlib.sha256(expected).hexdigest())

    def test_large_fixed_length_body_intact(self):
        body = bytes(range(33, 127)) * 20000
        seen = self.forwarded("POST", "/public/upload", body=body, timeout=60.0)
        self.assertEqual(seen["body_length"], len(body))
        self.assertEqual(seen["body"].encode(), body)

    def test_chunked_response_streamed_back(self):
        status, headers, body = self.request("GET", "/public/stream", {"X-Echo-Chunked": "5"})
        self.assertEqual(status, 200)
        self.assertEqual(header_value(headers, "Transfer-Encoding"), "chunked")
        self.assertEqual(json.loads(body)["path"], "/public/stream")

    def test_chunked_response_not_buffered(self):
        # The echo server waits 1 s between 4 chunks; the first must arrive well before the
        # last is sent.
        request = (f"GET /public/slow-stream HTTP/1.1\r\nHost: {self.host}\r\n"
                   "X-Echo-Chunked: 4\r\nX-Echo-Chunk-Delay-Ms: 1000\r\n"
                   "Connection: close\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.gatehouse.proxy_port),
                                      timeout=10) as connection:
            started = time.monotonic()
            connection.sendall(request)
            received = b""
            while b"\r\n\r\n" not in received:
                received += connection.recv(65536)
            head, _, rest = received.partition(b"\r\n\r\n")
            while not rest:
                rest += connection.recv(65536)
            first_chunk_seconds = time.monotonic() - started
            while True:
                data = connection.recv(65536)
                if not data:
                    break
                rest += data
            total_seconds = time.monotonic() - started
        self.assertIn(b"200", head.split(b"\r\n")[0])
        self.assertGreaterEqual(total_seconds, 2.9)
        self.assertLess(first_chunk_seconds, 2.0)
        self.assertTrue(rest.endswith(b"0\r\n\r\n"), rest[-40:])

    def test_head_request_has_no_body(self):
        status, headers, body = self.request("HEAD", "/public/head")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertIsNotNone(header_value(headers, "Content-Length"))

    def test_keep_alive_carries_several_requests(self):
        connection = http_client.HTTPConnection("127.0.0.1", self.gatehouse.proxy_port, timeout=10)
        try:
            sockets = []
            for index, method in enumerate(["GET", "HEAD", "POST", "GET"]):
                body = b"x" * index if method == "POST" else None
                connection.request(method, f"/public/round/{index}", body=body)
                response = connection.getresponse()
                payload = response.read()
                self.assertEqual(response.status, 200)
                self.assertFalse(response.will_close)
                if method != "HEAD":
                    self.assertEqual(json.loads(payload)["path"], f"/public/round/{index}")
                sockets.append(connection.sock)
            self.assertTrue(all(sock is sockets[0] for sock in sockets))
        finally:
            connection.close()

    def test_keep_alive_after_error_response(self):
        connection = http_client.HTTPConnection("127.0.0.1", self.gatehouse.proxy_port, timeout=10)
        try:
            connection.request("GET", "/unknown")
            first = connection.getresponse()
            first.read()
            self.assertEqual(first.status, 404)
            first_socket = connection.sock
            connection.request("GET", "/public/after-404")
            second = connection.getresponse()
            self.assertEqual(json.loads(second.read())["path"], "/public/after-404")
            self.assertIs(connection.sock, first_socket)
        finally:
            connection.close()

    def test_websocket_messages_echoed(self):
        with websocket_connect(f"ws://{self.host}/ws/chat") as client:
            client.send_text("hello through the proxy")
            self.assertEqual(client.receive_message(),
                             (OPCODE_TEXT, b"hello through the proxy"))
            client.send_binary(bytes(range(256)) * 300)
            self.assertEqual(client.receive_message(), (OPCODE_BINARY, bytes(range(256)) * 300))

    def test_websocket_denied_without_rule(self):
        with self.assertRaisesRegex(Exception, "404"):
            websocket_connect(f"ws://{self.host}/no-ws-rule")

    # -- upstream failures

    def test_upstream_closing_without_answer_gets_502(self):
        status, _, body = self.request("GET", "/public/close", {"X-Echo-Close": "1"})
        self.assertEqual(status, 502)
        self.assertEqual(body, b"")

    # -- malformed requests

    def test_oversized_header_block_gets_431(self):
        request = (f"GET /public/big HTTP/1.1\r\nHost: {self.host}\r\n"
                   f"X-Big: {'a' * 100_000}\r\n\r\n").encode()
        self.assertEqual(status_of(raw_exchange(self.gatehouse.proxy_port, request)), 431)

    def test_malformed_request_line_gets_400(self):
        response = raw_exchange(self.gatehouse.proxy_port, b"THIS IS NOT HTTP\r\n\r\n")
        self.assertEqual(status_of(response), 400)

    def test_server_alive_after_bad_requests(self):
        raw_exchange(self.gatehouse.proxy_port, b"\x00\x01\x02 garbage\r\n\r\n")
        seen = self.forwarded("GET", "/public/still-alive")
        self.assertEqual(seen["path"], "/public/still-alive")


class VerboseErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.echo = EchoServer().__enter__()
        rules = [
            rule("public", f"http://{ANY_HOST}/public/<.*>", cls.echo.url),
            rule("denied", f"http://{ANY_HOST}/denied", cls.echo.url, authorizer="deny"),
            rule("overlap-a", f"http://{ANY_HOST}/overlap/<.*>", cls.echo.url),
            rule("overlap-b", f"http://{ANY_HOST}/overlap/<[a-z]+>", cls.echo.url),
        ]
        cls.gatehouse = Gatehouse(verbose_config(), rules).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        cls.echo.__exit__(None, None, None)

    def error_of(self, path, headers=None):
        status, _, body = http("GET", self.gatehouse.proxy_url + path, headers)
        return status, json.loads(body)["error"]

    def test_verbose_401_message(self):
        status, error = self.error_of("/public/x", {"Authorization": "Bearer abc"})
        self.assertEqual(status, 401)
        self.assertEqual(error["code"], 401)
        self.assertEqual(error["message"], "Access credentials are invalid")

    def test_verbose_403_message(self):
        status, error = self.error_of("/denied")
        self.assertEqual(status, 403)
        self.assertEqual(error["message"],
                         "Access credentials are not sufficient to access this resource")

    def test_verbose_404_message(self):
        status, error = self.error_of("/nothing")
        self.assertEqual(status, 404)
        self.assertEqual(error["message"], "Requested url does not match any rules")

    def test_verbose_500_message(self):
        status, error = self.error_of("/overlap/abc")
        self.assertEqual(status, 500)
        self.assertEqual(error["message"], "Expected exactly one rule but found multiple rules")


class GlobStrategyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.echo = EchoServer().__enter__()
        config = base_config({"access_rules": {"matching_strategy": "glob"}})
        rules = [
            rule("one-segment", "http://127.0.0.1:<*>/files/<*>", cls.echo.url),
            rule("any-depth", "http://127.0.0.1:<*>/tree/<**>", cls.echo.url),
            rule("choice", "http://127.0.0.1:<*>/<{red,blue}>/paint", cls.echo.url),
        ]
        cls.gatehouse = Gatehouse(config, rules).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        cls.echo.__exit__(None, None, None)

    def status(self, path):
        return http("GET", self.gatehouse.proxy_url + path)[0]

    def test_star_matches_one_segment(self):
        self.assertEqual(self.status("/files/report"), 200)

    def test_star_stops_at_slash(self):
        self.assertEqual(self.status("/files/a/b"), 404)

    def test_star_stops_at_dot(self):
        self.assertEqual(self.status("/files/report.pdf"), 404)

    def test_double_star_crosses_separators(self):
        self.assertEqual(self.status("/tree/a/b.c/d"), 200)

    def test_alternatives(self):
        self.assertEqual(self.status("/red/paint"), 200)
        self.assertEqual(self.status("/blue/paint"), 200)
        self.assertEqual(self.status("/green/paint"), 404)


class TrustedForwardedHeadersTest(unittest.TestCase):
    def test_client_forwarded_headers_kept(self):
        with EchoServer() as echo:
            config = base_config({"serve": {"proxy": {"trust_forwarded_headers": True}}})
            # A trusted X-Forwarded-Proto sets the scheme that rules match.
            rules = [rule("public", f"<https?>://{ANY_HOST}/<.*>", echo.url)]
            with Gatehouse(config, rules) as gatehouse:
                status, _, body = http("GET", gatehouse.proxy_url + "/fwd",
                                       [("X-Forwarded-For", "203.0.113.9"),
                                        ("X-Forwarded-Proto", "https"),
                                        ("X-Forwarded-Host", "shop.test"),
                                        ("Forwarded", "for=203.0.113.9")])
        self.assertEqual(status, 200)
        seen = json.loads(body)
        forwarded_for = echo_header(seen, "X-Forwarded-For")
        self.assertEqual(len(forwarded_for), 1)
        self.assertTrue(forwarded_for[0].startswith("203.0.113.9"), forwarded_for)
        self.assertEqual(echo_header(seen, "X-Forwarded-Proto"), ["https"])
        self.assertEqual(echo_header(seen, "X-Forwarded-Host"), ["shop.test"])
        self.assertEqual(echo_header(seen, "Forwarded"), ["for=203.0.113.9"])


class UpstreamFailureTest(unittest.TestCase):
    def test_upstream_not_listening_gets_502(self):
        closed_port = free_port()
        rules = [rule("gone", f"http://{ANY_HOST}/<.*>", f"http://127.0.0.1:{closed_port}")]
        with Gatehouse(base_config(), rules) as gatehouse:
            status, _, body = http("GET", gatehouse.proxy_url + "/anything")
        self.assertEqual(status, 502)
        self.assertEqual(body, b"")

    def test_slow_upstream_gets_504(self):
        config = base_config({"serve": {"proxy": {"timeout": {"write": "2s"}}}})
        with EchoServer() as echo:
            rules = [rule("slow", f"http://{ANY_HOST}/<.*>", echo.url)]
            with Gatehouse(config, rules) as gatehouse:
                started = time.monotonic()
                status, _, body = http("GET", gatehouse.proxy_url + "/slow",
                                       {"X-Echo-Delay-Ms": "8000"})
                elapsed = time.monotonic() - started
        self.assertEqual(status, 504)
        self.assertEqual(body, b"")
        self.assertLess(elapsed, 6.0)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_finishes_in_flight_request(self):
        with EchoServer() as echo:
            rules = [rule("slow", f"http://{ANY_HOST}/<.*>", echo.url)]
            with Gatehouse(base_config(), rules) as gatehouse:
                result = {}

                def slow_request():
                    try:
                        result["response"] = http("GET", gatehouse.proxy_url + "/slow",
                                                  {"X-Echo-Delay-Ms": "1500"}, timeout=15)
                    except Exception as error:  # reported by the assertions below
                        result["error"] = error

                worker = threading.Thread(target=slow_request)
                worker.start()
                time.sleep(0.5)
                exit_code = gatehouse.stop(signal.SIGTERM, timeout=15)
                worker.join(15)
                logs = gatehouse.logs()
        self.assertNotIn("error", result)
        status, _, body = result["response"]
        self.assertEqual(status, 200, logs)
        self.assertEqual(json.loads(body)["path"], "/slow")
        self.assertEqual(exit_code, 0, logs)


if __name__ == "__main__":
    unittest.main()
