"""End-to-end tests of the proxy forwarding to https upstreams.

Each upstream is a Python http.server behind TLS on 127.0.0.1, with a self-signed certificate
made by the openssl command. gatehouse verifies upstream certificates against OpenSSL's default
CA locations, so the tests point SSL_CERT_FILE at the certificates it should trust.
"""

import http.client as http_client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fixtures.setups import ANY_HOST, base_config, rule
from harness import Gatehouse, http, wait_until


def make_certificate(folder: str, name: str, subject_alt_names: str) -> tuple[str, str]:
    """Create a self-signed certificate and key in folder and return their paths."""
    certificate = os.path.join(folder, f"{name}.pem")
    key = os.path.join(folder, f"{name}.key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName={subject_alt_names}",
         "-keyout", key, "-out", certificate],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return certificate, key


class EchoHandler(BaseHTTPRequestHandler):
    """Return a JSON description of the request, keeping the connection open (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_GET(self):
        self.reply(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.reply(self.rfile.read(length))

    def reply(self, body: bytes):
        payload = json.dumps({"method": self.command, "path": self.path,
                              "host": self.headers.get("Host"),
                              "body": body.decode(errors="replace")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        pass


class TlsUpstream:
    """An https echo server on 127.0.0.1 that counts accepted TLS connections."""

    def __init__(self, certificate: str, key: str):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        self.server_names: list[str | None] = []
        context.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
        self.server.daemon_threads = True
        self.server.lock = threading.Lock()
        self.server.connections = 0
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def connections(self) -> int:
        with self.server.lock:
            return self.server.connections

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ProxyTlsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="gatehouse-tls-test-")
        trusted = make_certificate(cls.folder, "localhost", "DNS:localhost,IP:127.0.0.1")
        wrong_name = make_certificate(cls.folder, "wrong-name", "DNS:wrong-name.test")
        untrusted = make_certificate(cls.folder, "untrusted", "DNS:localhost,IP:127.0.0.1")
        trust_file = os.path.join(cls.folder, "trusted-cas.pem")
        with open(trust_file, "wb") as output:
            for certificate, _ in (trusted, wrong_name):
                with open(certificate, "rb") as source:
                    output.write(source.read())

        cls.upstream = TlsUpstream(*trusted)
        cls.reuse_upstream = TlsUpstream(*trusted)
        cls.wrong_name_upstream = TlsUpstream(*wrong_name)
        cls.untrusted_upstream = TlsUpstream(*untrusted)
        rules = [
            rule("tls", f"http://{ANY_HOST}/tls/<.*>", f"https://localhost:{cls.upstream.port}",
                 methods=["GET", "POST"]),
            rule("tls-ip", f"http://{ANY_HOST}/by-address/<.*>",
                 f"https://127.0.0.1:{cls.upstream.port}"),
            rule("reuse", f"http://{ANY_HOST}/reuse/<.*>",
                 f"https://localhost:{cls.reuse_upstream.port}"),
            rule("wrong-name", f"http://{ANY_HOST}/wrong-name",
                 f"https://127.0.0.1:{cls.wrong_name_upstream.port}"),
            rule("untrusted", f"http://{ANY_HOST}/untrusted",
                 f"https://127.0.0.1:{cls.untrusted_upstream.port}"),
        ]
        cls.gatehouse = Gatehouse(base_config(), rules, env={"SSL_CERT_FILE": trust_file}).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.gatehouse.__exit__(None, None, None)
        for upstream in (cls.upstream, cls.reuse_upstream, cls.wrong_name_upstream, cls.untrusted_upstream):
            upstream.close()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def request(self, method, path, body=None):
        return http(method, self.gatehouse.proxy_url + path, body=body)

    def wait_for_log(self, text):
        wait_until(lambda: text in self.gatehouse.logs(), timeout=5.0, description=f"log line {text!r}")

    def test_request_forwarded_over_tls(self):
        status, _, body = self.request("POST", "/tls/items?x=1", body=b"over tls")
        self.assertEqual(status, 200, body)
        seen = json.loads(body)
        self.assertEqual(seen["method"], "POST")
        self.assertEqual(seen["path"], "/tls/items?x=1")
        self.assertEqual(seen["body"], "over tls")
        self.assertEqual(seen["host"], f"localhost:{self.upstream.port}")
        self.assertIn("localhost", self.upstream.server_names)

    def test_ip_address_upstream_verified(self):
        status, _, body = self.request("GET", "/by-address/x")
        self.assertEqual(status, 200, body)

    def test_wrong_host_name_gets_502(self):
        status, _, body = self.request("GET", "/wrong-name")
        self.assertEqual(status, 502)
        self.assertEqual(body, b"")
        self.wait_for_log(f"upstream https://127.0.0.1:{self.wrong_name_upstream.port}: "
                          "TLS handshake failed")
        self.assertIn("IP address mismatch", self.gatehouse.logs())

    def test_untrusted_certificate_gets_502(self):
        status, _, body = self.request("GET", "/untrusted")
        self.assertEqual(status, 502)
        self.assertEqual(body, b"")
        self.wait_for_log(f"upstream https://127.0.0.1:{self.untrusted_upstream.port}: "
                          "TLS handshake failed")
        self.assertIn("self-signed certificate", self.gatehouse.logs())

    def test_keep_alive_reuses_tls_connection(self):
        # One client connection is served by one worker, whose pool keeps the upstream
        # connection between the two requests.
        client = http_client.HTTPConnection("127.0.0.1", self.gatehouse.proxy_port, timeout=10)
        try:
            for index in range(2):
                client.request("GET", f"/reuse/{index}")
                response = client.getresponse()
                body = response.read()
                self.assertEqual(response.status, 200, body)
                self.assertEqual(json.loads(body)["path"], f"/reuse/{index}")
        finally:
            client.close()
        self.assertEqual(self.reuse_upstream.connections, 1)


if __name__ == "__main__":
    unittest.main()
