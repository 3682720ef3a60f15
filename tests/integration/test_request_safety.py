"""Requests crafted to slip past access rules or to desynchronize the proxy and its upstream."""

import json
import socket
import threading
import unittest

from fixtures.setups import base_config
from harness import EchoServer, Gatehouse, http


def public_and_admin_rules(upstream: str) -> list[dict]:
    allow = {"authenticators": [{"handler": "anonymous"}], "authorizer": {"handler": "allow"},
             "mutators": [{"handler": "noop"}], "upstream": {"url": upstream}}
    deny = {"authenticators": [{"handler": "anonymous"}], "authorizer": {"handler": "deny"},
            "mutators": [{"handler": "noop"}], "upstream": {"url": upstream}}
    methods = ["GET", "POST"]
    return [
        {"id": "public", "match": {"url": "http://<[^/]+>/public/<.*>", "methods": methods}, **allow},
        {"id": "admin", "match": {"url": "http://<[^/]+>/admin/<.*>", "methods": methods}, **deny},
    ]


def raw_exchange(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes and return everything the server sends back before closing or idling."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        received = b""
        try:
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                received += chunk
        except socket.timeout:
            pass
        return received


class RequestSafetyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.echo = EchoServer("safety").__enter__()
        cls.gatehouse = Gatehouse(base_config(), public_and_admin_rules(cls.echo.url)).__enter__()
        cls.proxy_port = cls.gatehouse.proxy_port
        cls.api_url = cls.gatehouse.api_url

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        cls.echo.__exit__(None, None, None)

    def test_host_with_path_is_rejected(self):
        request = (b"GET /admin/secret HTTP/1.1\r\nHost: 127.0.0.1:%d/public\r\n\r\n" % self.proxy_port)
        response = raw_exchange(self.proxy_port, request)
        self.assertTrue(response.startswith(b"HTTP/1.1 400"), response[:200])
        self.assertNotIn(b'"name":"safety"', response)

    def test_two_host_headers_are_rejected(self):
        request = b"GET /public/x HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\n\r\n"
        self.assertTrue(raw_exchange(self.proxy_port, request).startswith(b"HTTP/1.1 400"))

    def test_missing_host_is_rejected(self):
        self.assertTrue(raw_exchange(self.proxy_port, b"GET /public/x HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 400"))

    def test_transfer_encoding_not_ending_in_chunked_is_rejected(self):
        smuggled = b"GET /admin/secret HTTP/1.1\r\nHost: a.test\r\n\r\n"
        request = (b"POST /public/x HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: xchunked\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(smuggled)) + smuggled
        response = raw_exchange(self.proxy_port, request)
        self.assertTrue(response.startswith(b"HTTP/1.1 400"), response[:200])
        self.assertEqual(response.count(b"HTTP/1.1 "), 1, response)

    def test_connection_cannot_strip_content_length(self):
        # The body is a complete request. If Content-Length were dropped because Connection
        # names it, the upstream would run that request unchecked and send its response to the
        # next client.
        smuggled = b"GET /admin/smuggled HTTP/1.1\r\nHost: a.test\r\nX-User: root\r\n\r\n"
        request = (b"POST /public/first HTTP/1.1\r\nHost: a.test\r\nConnection: Content-Length, close\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(smuggled)) + smuggled
        response = raw_exchange(self.proxy_port, request)
        self.assertTrue(response.startswith(b"HTTP/1.1 200"), response[:200])
        seen = json.loads(response.split(b"\r\n\r\n", 1)[1])
        self.assertEqual((seen["method"], seen["path"]), ("POST", "/public/first"))
        self.assertEqual(seen["body"], smuggled.decode())
        for attempt in range(3):
            status, _, body = http("GET", f"http://127.0.0.1:{self.proxy_port}/public/next-{attempt}")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["path"], f"/public/next-{attempt}")

    def test_connection_cannot_strip_host(self):
        request = (b"GET /public/x HTTP/1.1\r\nHost: a.test\r\nConnection: Host, close\r\n\r\n")
        response = raw_exchange(self.proxy_port, request)
        self.assertTrue(response.startswith(b"HTTP/1.1 200"), response[:200])
        seen = json.loads(response.split(b"\r\n\r\n", 1)[1])
        self.assertIn("host", [name.lower() for name, _ in seen["headers"]])

    def test_transfer_encoding_other_than_one_chunked_is_rejected(self):
        body = b"1d\r\ngrant_type=client_credentials\r\n0\r\n\r\n"
        for codings in (b"Transfer-Encoding: chunked, chunked", b"Transfer-Encoding: gzip, chunked",
                        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"):
            with self.subTest(codings=codings):
                request = b"POST /public/x HTTP/1.1\r\nHost: a.test\r\n" + codings + b"\r\n\r\n" + body
                for port in (self.proxy_port, self.gatehouse.api_port):
                    response = raw_exchange(port, request)
                    self.assertTrue(response.startswith(b"HTTP/1.1 400"), response[:200])
                    self.assertEqual(response.count(b"HTTP/1.1 "), 1, response)

    def test_padded_chunked_coding_forwarded(self):
        request = (b"POST /public/x HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding:  Chunked \r\n"
                   b"Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        response = raw_exchange(self.proxy_port, request)
        self.assertTrue(response.startswith(b"HTTP/1.1 200"), response[:200])
        self.assertEqual(json.loads(response.split(b"\r\n\r\n", 1)[1])["body"], "abc")

    def test_malformed_chunk_mid_body_gets_400(self):
        # The head and the first chunk reach the upstream before the bad chunk size is read.
        request = (b"POST /public/x HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\nzz\r\nnot a chunk\r\n0\r\n\r\n")
        response = raw_exchange(self.proxy_port, request)
        self.assertTrue(response.startswith(b"HTTP/1.1 400"), response[:200])
        self.assertIn(b"The request body is not valid HTTP/1.1", response)
        self.assertEqual(response.count(b"HTTP/1.1 "), 1, response)
        status, _, body = http("GET", f"http://127.0.0.1:{self.proxy_port}/public/after-bad-chunk")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["path"], "/public/after-bad-chunk")

    def test_two_authorization_headers_are_rejected(self):
        request = (b"GET /public/x HTTP/1.1\r\nHost: a.test\r\nAuthorization: Bearer a\r\n"
                   b"Authorization: Bearer b\r\n\r\n")
        response = raw_exchange(self.proxy_port, request)
        self.assertTrue(response.startswith(b"HTTP/1.1 400"), response[:200])
        self.assertIn(b"more than one Authorization header", response)
        self.assertNotIn(b'"name":"safety"', response)

    def test_decision_with_repeated_forwarded_header_is_rejected(self):
        for name in ("X-Forwarded-Uri", "X-Forwarded-Host", "X-Forwarded-Method", "X-Forwarded-Proto"):
            with self.subTest(name=name):
                values = {"X-Forwarded-Uri": (b"/public/x", b"/admin/x"),
                          "X-Forwarded-Host": (b"a.test", b"b.test"),
                          "X-Forwarded-Method": (b"GET", b"POST"),
                          "X-Forwarded-Proto": (b"http", b"https")}[name]
                request = (b"GET /decisions HTTP/1.1\r\nHost: a.test\r\n" +
                           b"".join(name.encode() + b": " + value + b"\r\n" for value in values) +
                           b"Connection: close\r\n\r\n")
                response = raw_exchange(self.gatehouse.api_port, request)
                self.assertTrue(response.startswith(b"HTTP/1.1 400"), response[:200])
                self.assertIn(f"more than one {name} header".encode(), response)

    def test_repeated_content_length_reaches_upstream_once(self):
        # Identical values as a list in one field or as two fields.
        for lengths_sent in (b"Content-Length: 3, 3\r\n", b"Content-Length: 3\r\nContent-Length: 3\r\n"):
            with self.subTest(lengths_sent=lengths_sent):
                request = (b"POST /public/x HTTP/1.1\r\nHost: a.test\r\n" + lengths_sent +
                           b"Connection: close\r\n\r\nabc")
                response = raw_exchange(self.proxy_port, request)
                self.assertTrue(response.startswith(b"HTTP/1.1 200"), response[:200])
                seen = json.loads(response.split(b"\r\n\r\n", 1)[1])
                lengths = [value for name, value in seen["headers"] if name.lower() == "content-length"]
                self.assertEqual(lengths, ["3"])
                self.assertEqual(seen["body"], "abc")

    def test_decision_host_with_path_is_rejected(self):
        status, _, _ = http("GET", self.api_url + "/decisions/admin/secret",
                            headers={"X-Forwarded-Host": "a.test/public"})
        self.assertEqual(status, 400)

    def test_decision_proto_with_url_is_rejected(self):
        status, _, _ = http("GET", self.api_url + "/decisions/admin/secret",
                            headers={"X-Forwarded-Proto": "http://a.test/public/x#", "X-Forwarded-Host": "a.test"})
        self.assertEqual(status, 400)

    def test_decision_for_denied_path_stays_denied(self):
        status, _, _ = http("GET", self.api_url + "/decisions/admin/secret", headers={"X-Forwarded-Host": "a.test"})
        self.assertEqual(status, 403)
        status, _, _ = http("GET", self.api_url + "/decisions/public/x", headers={"X-Forwarded-Host": "a.test"})
        self.assertEqual(status, 200)


class ScriptedUpstream:
    """A raw upstream on 127.0.0.1 that reads one request head per connection, sends the bytes
    that answer(head) returns and closes the connection."""

    def __init__(self, answer):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.answer = answer
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            with connection:
                connection.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    connection.sendall(self.answer(data))

    def stop(self):
        self.running = False
        self.thread.join(timeout=5)
        self.listener.close()


class InterimResponseTest(unittest.TestCase):
    """An upstream that sends 100 Continue or 103 Early Hints before its final response."""

    @classmethod
    def setUpClass(cls):
        cls.upstream = ScriptedUpstream(lambda head: (
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfinal"))
        cls.gatehouse = Gatehouse(base_config(), public_and_admin_rules(cls.upstream.url)).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        cls.upstream.stop()

    def test_final_response_follows_interim_ones(self):
        status, _, body = http("GET", self.gatehouse.proxy_url + "/public/x")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"final")


# Responses of the scripted upstream, by request path. Each one ends the upstream connection.
SCRIPTED_RESPONSES = {
    "/public/head-chunked": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
    "/public/no-content-chunked": b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
    "/public/close-delimited": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil close",
    "/public/switch": b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: other\r\n\r\n",
}


class BodilessAndUnframedResponseTest(unittest.TestCase):
    """Upstream responses whose framing the proxy must rewrite or reject, from a scripted upstream."""

    @classmethod
    def setUpClass(cls):
        def answer(head):
            path = head.split(b" ", 2)[1].decode()
            return SCRIPTED_RESPONSES.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

        cls.upstream = ScriptedUpstream(answer)
        rules = [{"id": "scripted", "match": {"url": "http://<[^/]+>/public/<.*>", "methods": ["GET", "HEAD"]},
                  "authenticators": [{"handler": "anonymous"}], "authorizer": {"handler": "allow"},
                  "mutators": [{"handler": "noop"}], "upstream": {"url": cls.upstream.url}}]
        cls.gatehouse = Gatehouse(base_config(), rules).__enter__()
        cls.port = cls.gatehouse.proxy_port

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        cls.upstream.stop()

    def test_chunked_head_response_has_no_last_chunk(self):
        response = raw_exchange(self.port, b"HEAD /public/head-chunked HTTP/1.1\r\nHost: a.test\r\n"
                                           b"Connection: close\r\n\r\n")
        self.assertTrue(response.startswith(b"HTTP/1.1 200"), response)
        self.assertTrue(response.endswith(b"\r\n\r\n"), response)
        self.assertNotIn(b"\r\n\r\n0\r\n", response)

    def test_chunked_no_content_response_is_head_only(self):
        response = raw_exchange(self.port, b"GET /public/no-content-chunked HTTP/1.1\r\nHost: a.test\r\n"
                                           b"Connection: close\r\n\r\n")
        self.assertTrue(response.startswith(b"HTTP/1.1 204"), response)
        self.assertTrue(response.endswith(b"\r\n\r\n"), response)
        self.assertNotIn(b"transfer-encoding", response.lower())
        self.assertEqual(response.count(b"\r\n\r\n"), 1, response)

    def test_http10_client_gets_close_delimited_body(self):
        response = raw_exchange(self.port, b"GET /public/close-delimited HTTP/1.0\r\nHost: a.test\r\n\r\n")
        head, _, body = response.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), response)
        self.assertNotIn(b"transfer-encoding", head.lower())
        self.assertIn(b"connection: close", head.lower())
        self.assertEqual(body, b"until close")

    def test_http11_client_gets_close_delimited_body_chunked(self):
        response = raw_exchange(self.port, b"GET /public/close-delimited HTTP/1.1\r\nHost: a.test\r\n"
                                           b"Connection: close\r\n\r\n")
        head, _, body = response.partition(b"\r\n\r\n")
        self.assertIn(b"transfer-encoding: chunked", head.lower())
        self.assertEqual(body, b"b\r\nuntil close\r\n0\r\n\r\n")

    def test_unrequested_protocol_switch_is_502(self):
        response = raw_exchange(self.port, b"GET /public/switch HTTP/1.1\r\nHost: a.test\r\n\r\n")
        self.assertTrue(response.startswith(b"HTTP/1.1 502"), response)


if __name__ == "__main__":
    unittest.main()
