"""Tests of the gatehouse-echo upstream and of the harness helpers that drive it."""

import base64
import http.client as http_client
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
from unittest import mock

from harness import (OPCODE_BINARY, OPCODE_CLOSE, OPCODE_TEXT, EchoServer, Gatehouse,
                     HarnessError, free_port, header_value, http, wait_until, websocket_connect)

# Stand-in for the gatehouse binary in tests of the Gatehouse helper. It merges the JSON files
# given with -c, writes the result to merged.json in its working folder and serves
# /health/alive on serve.api.port until SIGTERM, which exits with 0. With FAKE_EXIT_CODE set,
# it prints a message and exits at once with that code.
FAKE_GATEHOUSE = textwrap.dedent('''\
    import http.server, json, os, signal, sys

    def merge(base, override):
        for key, value in override.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                merge(base[key], value)
            else:
                base[key] = value

    if os.environ.get("FAKE_EXIT_CODE"):
        print("fake gatehouse: exiting at start as requested", file=sys.stderr)
        sys.exit(int(os.environ["FAKE_EXIT_CODE"]))
    arguments = sys.argv[1:]
    assert arguments[0] == "serve", arguments
    files = [arguments[i + 1] for i, argument in enumerate(arguments) if argument == "-c"]
    config = {}
    for path in files:
        if path.endswith(".json"):
            with open(path) as source:
                merge(config, json.load(source))
    with open("merged.json", "w") as output:
        json.dump({"config": config, "files": files, "argv": arguments}, output)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b'{"status":"ok"}' if self.path == "/health/alive" else b"{}"
            self.send_response(200 if self.path == "/health/alive" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    api = config["serve"]["api"]
    server = http.server.HTTPServer((api["host"], api["port"]), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("fake gatehouse: listening", file=sys.stderr, flush=True)
    server.serve_forever()
''')


def raw_exchange(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send raw request bytes and return everything received until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        received = b""
        while True:
            data = connection.recv(65536)
            if not data:
                return received
            received += data


def parse_chunks(encoded: bytes) -> list[bytes]:
    """Split a chunked message body into its chunk payloads, checking the framing."""
    chunks = []
    while True:
        size_line, _, encoded = encoded.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            if encoded != b"\r\n":
                raise ValueError(f"unexpected bytes after the last chunk: {encoded!r}")
            return chunks
        chunks.append(encoded[:size])
        if encoded[size:size + 2] != b"\r\n":
            raise ValueError("chunk data is not followed by CRLF")
        encoded = encoded[size + 2:]


class EchoServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.echo = EchoServer("primary").__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.echo.__exit__(None, None, None)

    def test_get_describes_request(self):
        status, headers, body = http("GET", self.echo.url + "/a/b?x=1&y=%20z")
        description = json.loads(body)

        self.assertEqual(status, 200)
        self.assertEqual(header_value(headers, "Content-Type"), "application/json")
        self.assertEqual(description["name"], "primary")
        self.assertEqual(description["method"], "GET")
        self.assertEqual(description["target"], "/a/b?x=1&y=%20z")
        self.assertEqual(description["path"], "/a/b")
        self.assertEqual(description["query"], "x=1&y=%20z")
        self.assertEqual(description["http_version"], "1.1")
        self.assertEqual(description["body"], "")
        self.assertEqual(description["body_length"], 0)

    def test_http_helper_adds_only_host(self):
        _, _, body = http("GET", self.echo.url + "/")
        headers = json.loads(body)["headers"]

        self.assertEqual(headers, [["Host", f"127.0.0.1:{self.echo.port}"]])

    def test_post_body_echoed(self):
        status, _, body = http("POST", self.echo.url + "/submit", body="grant_type=x&scope=a b",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        description = json.loads(body)

        self.assertEqual(status, 200)
        self.assertEqual(description["method"], "POST")
        self.assertEqual(description["body"], "grant_type=x&scope=a b")
        self.assertEqual(description["body_length"], 22)
        self.assertIn(["Content-Length", "22"], description["headers"])

    def test_repeated_headers_kept_in_order(self):
        sent = [("X-Repeat", "one"), ("X-Other", "middle"), ("x-repeat", "two"),
                ("X-Repeat", "three")]
        _, _, body = http("GET", self.echo.url + "/", headers=sent)
        received = [tuple(pair) for pair in json.loads(body)["headers"]]

        self.assertEqual([pair for pair in received if pair[0] != "Host"], sent)

    def test_chunked_request_body_read_fully(self):
        status, _, body = http("PUT", self.echo.url + "/upload",
                               body=[b"first ", b"second ", b"third"])
        description = json.loads(body)

        self.assertEqual(status, 200)
        self.assertEqual(description["body"], "first second third")
        self.assertEqual(description["body_length"], 18)
        self.assertIn(["Transfer-Encoding", "chunked"], description["headers"])

    def test_binary_body_returned_as_base64(self):
        payload = bytes(range(256)) * 4
        _, _, body = http("POST", self.echo.url + "/", body=payload)
        description = json.loads(body)

        self.assertEqual(description["body_length"], len(payload))
        self.assertIn("\ufffd", description["body"])
        self.assertEqual(base64.b64decode(description["body_base64"]), payload)

    def test_utf8_body_has_no_base64(self):
        _, _, body = http("POST", self.echo.url + "/", body="grüße ✓".encode())
        description = json.loads(body)

        self.assertEqual(description["body"], "grüße ✓")
        self.assertNotIn("body_base64", description)

    def test_delay_waits_before_answering(self):
        started = time.monotonic()
        status, _, _ = http("GET", self.echo.url + "/", headers={"X-Echo-Delay-Ms": "300"})
        elapsed = time.monotonic() - started

        self.assertEqual(status, 200)
        self.assertGreaterEqual(elapsed, 0.3)

    def test_delay_exceeds_client_timeout(self):
        with self.assertRaises(TimeoutError):
            http("GET", self.echo.url + "/", headers={"X-Echo-Delay-Ms": "3000"}, timeout=0.3)

    def test_status_header_sets_status(self):
        status, headers, body = http("GET", self.echo.url + "/", headers={"X-Echo-Status": "503"})

        self.assertEqual(status, 503)
        self.assertEqual(header_value(headers, "Content-Type"), "application/json")
        self.assertEqual(json.loads(body)["path"], "/")

    def test_no_content_status_has_no_body(self):
        status, headers, body = http("GET", self.echo.url + "/", headers={"X-Echo-Status": "204"})

        self.assertEqual(status, 204)
        self.assertEqual(body, b"")
        self.assertIsNone(header_value(headers, "Content-Length"))

    def test_invalid_control_header_rejected(self):
        status, _, body = http("GET", self.echo.url + "/", headers={"X-Echo-Status": "abc"})

        self.assertEqual(status, 400)
        self.assertIn("X-Echo-Status", json.loads(body)["error"])

    def test_head_has_length_without_body(self):
        _, get_headers, get_body = http("GET", self.echo.url + "/same")
        status, head_headers, head_body = http("HEAD", self.echo.url + "/same")

        self.assertEqual(status, 200)
        self.assertEqual(head_body, b"")
        # Only the method differs, and "HEAD" is one character longer than "GET".
        self.assertEqual(int(header_value(head_headers, "Content-Length")), len(get_body) + 1)
        self.assertEqual(header_value(get_headers, "Content-Length"), str(len(get_body)))

    def test_chunked_response_has_n_chunks(self):
        request = (b"GET /stream HTTP/1.1\r\nHost: echo\r\nX-Echo-Chunked: 4\r\n"
                   b"Connection: close\r\n\r\n")
        response = raw_exchange(self.echo.port, request)
        head, _, encoded = response.partition(b"\r\n\r\n")
        chunks = parse_chunks(encoded)

        self.assertTrue(head.startswith(b"HTTP/1.1 200 "))
        self.assertIn(b"\r\nTransfer-Encoding: chunked", head)
        self.assertNotIn(b"Content-Length", head)
        self.assertEqual(len(chunks), 4)
        self.assertEqual(json.loads(b"".join(chunks))["path"], "/stream")

    def test_chunked_response_through_http_client(self):
        status, headers, body = http("GET", self.echo.url + "/c", headers={"X-Echo-Chunked": "3"})

        self.assertEqual(status, 200)
        self.assertEqual(header_value(headers, "Transfer-Encoding"), "chunked")
        self.assertEqual(json.loads(body)["path"], "/c")

    def test_close_header_drops_connection(self):
        response = raw_exchange(self.echo.port,
                                b"GET / HTTP/1.1\r\nHost: echo\r\nX-Echo-Close: 1\r\n\r\n")

        self.assertEqual(response, b"")

    def test_keep_alive_serves_several_requests(self):
        connection = http_client.HTTPConnection("127.0.0.1", self.echo.port, timeout=10)
        try:
            sockets = []
            paths = []
            for path in ("/first", "/second", "/third"):
                connection.request("GET", path)
                response = connection.getresponse()
                paths.append(json.loads(response.read())["path"])
                sockets.append(connection.sock)
        finally:
            connection.close()

        self.assertEqual(paths, ["/first", "/second", "/third"])
        self.assertIsNotNone(sockets[0])
        self.assertTrue(all(sock is sockets[0] for sock in sockets))

    def test_expect_continue_gets_interim_response(self):
        with socket.create_connection(("127.0.0.1", self.echo.port), timeout=10) as connection:
            connection.sendall(b"POST /e HTTP/1.1\r\nHost: echo\r\nContent-Length: 5\r\n"
                               b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
            interim = connection.recv(65536)
            connection.sendall(b"hello")
            final = b""
            while data := connection.recv(65536):
                final += data

        self.assertTrue(interim.startswith(b"HTTP/1.1 100 Continue\r\n"))
        self.assertTrue(final.startswith(b"HTTP/1.1 200 "))
        self.assertEqual(json.loads(final.partition(b"\r\n\r\n")[2])["body"], "hello")

    def test_oversized_body_rejected(self):
        response = raw_exchange(self.echo.port, b"POST / HTTP/1.1\r\nHost: echo\r\n"
                                                b"Content-Length: 67108865\r\n\r\n")

        self.assertTrue(response.startswith(b"HTTP/1.1 413 "))

    def test_http_1_0_request_closes(self):
        response = raw_exchange(self.echo.port, b"GET /old HTTP/1.0\r\n\r\n")
        head, _, body = response.partition(b"\r\n\r\n")

        self.assertTrue(head.startswith(b"HTTP/1.0 200 "))
        self.assertEqual(json.loads(body)["http_version"], "1.0")

    def test_websocket_text_echoed(self):
        with websocket_connect(self.echo.url + "/socket") as client:
            client.send_text("hello through the gate")
            opcode, payload = client.receive_message()

        self.assertEqual(client.response_status, 101)
        self.assertEqual(opcode, OPCODE_TEXT)
        self.assertEqual(payload, b"hello through the gate")

    def test_websocket_large_binary_echoed(self):
        data = bytes(range(256)) * 300  # 76800 bytes: needs the 64-bit length form
        with websocket_connect(self.echo.url + "/socket") as client:
            client.send_binary(data)
            opcode, payload = client.receive_message()

        self.assertEqual(opcode, OPCODE_BINARY)
        self.assertEqual(payload, data)

    def test_websocket_close_answered(self):
        client = websocket_connect(self.echo.url + "/socket")
        try:
            client.send_frame(OPCODE_CLOSE, (1000).to_bytes(2, "big"))
            opcode, payload = client.receive_message()
        finally:
            client.sock.close()

        self.assertEqual(opcode, OPCODE_CLOSE)
        self.assertEqual(payload[:2], (1000).to_bytes(2, "big"))


class EchoLifecycleTest(unittest.TestCase):
    def test_names_tell_servers_apart(self):
        with EchoServer("left") as left, EchoServer("right") as right:
            left_name = left.request("GET")[2]["name"]
            right_name = right.request("GET")[2]["name"]

        self.assertNotEqual(left.port, right.port)
        self.assertEqual(left_name, "left")
        self.assertEqual(right_name, "right")

    def test_sigterm_exits_cleanly(self):
        with EchoServer("stopping") as echo:
            echo.request("GET")
            code = echo.stop(signal.SIGTERM)

        self.assertEqual(code, 0)
        self.assertEqual(echo.stderr(), "")

    def test_sigint_exits_with_open_connection(self):
        with EchoServer("interrupted") as echo:
            idle = socket.create_connection(("127.0.0.1", echo.port), timeout=10)
            try:
                code = echo.stop(signal.SIGINT)
            finally:
                idle.close()

        self.assertEqual(code, 0)

    def test_port_in_use_reported(self):
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            result = subprocess.run([os.environ["GATEHOUSE_ECHO_BIN"], "--port", str(port)],
                                    capture_output=True, timeout=10)

        self.assertEqual(result.returncode, 1)
        self.assertIn(b"cannot listen on 127.0.0.1:" + str(port).encode(), result.stderr)


class GatehouseHelperTest(unittest.TestCase):
    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.binary = os.path.join(folder.name, "fake-gatehouse")
        with open(self.binary, "w") as output:
            output.write(f"#!{sys.executable}\n" + FAKE_GATEHOUSE)
        os.chmod(self.binary, stat.S_IRWXU)
        patcher = mock.patch.dict(os.environ, {"GATEHOUSE_BIN": self.binary})
        patcher.start()
        self.addCleanup(patcher.stop)

    def merged(self, gatehouse):
        with open(os.path.join(gatehouse.workdir, "merged.json")) as source:
            return json.load(source)

    def test_dict_config_gets_ports_and_rules(self):
        rules = [{"id": "r1", "match": {"url": "http://a/<.*>", "methods": ["GET"]}}]
        config = {"serve": {"proxy": {"timeout": {"read": "5s"}}}, "log": {"level": "debug"}}
        with Gatehouse(config, rules=rules, extra_args=["--flag"]) as gatehouse:
            merged = self.merged(gatehouse)
            with open(gatehouse.rules_path) as source:
                written_rules = json.load(source)
            status, _, _ = http("GET", gatehouse.api_url + "/health/alive")

        serve = merged["config"]["serve"]
        self.assertEqual(status, 200)
        self.assertEqual(written_rules, rules)
        self.assertEqual(len(merged["files"]), 1)
        self.assertEqual(merged["argv"][-1], "--flag")
        self.assertEqual(serve["proxy"]["timeout"], {"read": "5s"})
        self.assertEqual(merged["config"]["log"], {"level": "debug"})
        self.assertEqual(gatehouse.proxy_url, f"http://127.0.0.1:{serve['proxy']['port']}")
        self.assertEqual(gatehouse.api_url, f"http://127.0.0.1:{serve['api']['port']}")
        for listener in ("proxy", "api", "prometheus"):
            self.assertEqual(serve[listener]["host"], "127.0.0.1")
        self.assertEqual(merged["config"]["access_rules"]["repositories"],
                         ["file://" + gatehouse.rules_path])
        self.assertFalse(os.path.exists(gatehouse.workdir))
        self.assertEqual(config, {"serve": {"proxy": {"timeout": {"read": "5s"}}},
                                  "log": {"level": "debug"}})

    def test_yaml_config_gets_override_file(self):
        with Gatehouse("log:\n  level: debug\n", rules=[]) as gatehouse:
            merged = self.merged(gatehouse)
            with open(merged["files"][0]) as source:
                yaml_text = source.read()

        self.assertEqual(yaml_text, "log:\n  level: debug\n")
        self.assertEqual(len(merged["files"]), 2)
        self.assertTrue(merged["files"][1].endswith("overrides.json"))
        self.assertEqual(merged["config"]["serve"]["api"]["host"], "127.0.0.1")

    def test_write_rules_replaces_file(self):
        with Gatehouse({}, rules=[]) as gatehouse:
            gatehouse.write_rules([{"id": "new"}])
            with open(gatehouse.rules_path) as source:
                rules = json.load(source)
            leftovers = [name for name in os.listdir(gatehouse.workdir) if name.startswith(".tmp")]

        self.assertEqual(rules, [{"id": "new"}])
        self.assertEqual(leftovers, [])

    def test_stop_returns_exit_code(self):
        with Gatehouse({}) as gatehouse:
            wait_until(lambda: "listening" in gatehouse.logs(), timeout=5)
            code = gatehouse.stop(signal.SIGTERM)

        self.assertEqual(code, 0)

    def test_failed_start_reports_output(self):
        with mock.patch.dict(os.environ, {"FAKE_EXIT_CODE": "3"}):
            with self.assertRaises(HarnessError) as raised:
                with Gatehouse({}):
                    pass

        self.assertIn("exit code 3", str(raised.exception))
        self.assertIn("exiting at start as requested", str(raised.exception))

    def test_config_environment_not_inherited(self):
        with mock.patch.dict(os.environ, {"SERVE_API_PORT": "1"}):
            with Gatehouse({}, env={"LOG_LEVEL": "trace"}) as gatehouse:
                environment = gatehouse._environment()

        self.assertNotIn("SERVE_API_PORT", environment)
        self.assertEqual(environment["LOG_LEVEL"], "trace")


class HarnessHelperTest(unittest.TestCase):
    def test_free_port_can_be_bound(self):
        port = free_port()

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
            self.assertEqual(probe.getsockname()[1], port)

    def test_wait_until_returns_value(self):
        calls = []

        result = wait_until(lambda: calls.append(1) or len(calls) >= 3 and "done", timeout=5,
                            interval=0.01)

        self.assertEqual(result, "done")
        self.assertEqual(len(calls), 3)

    def test_wait_until_times_out(self):
        with self.assertRaises(HarnessError):
            wait_until(lambda: False, timeout=0.1, interval=0.01)


if __name__ == "__main__":
    unittest.main()
