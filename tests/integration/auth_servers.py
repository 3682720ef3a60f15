"""Test-controlled authentication services: an RFC 7662 introspection endpoint, an OAuth 2.0
token endpoint and a session store, in one separate process on a loopback port.

Run as a program, the module serves until it is terminated and prints its port on the first
line of stdout. The AuthServers class starts that process and configures it over HTTP:

    with AuthServers() as servers:
        servers.answer("introspect", "token-1", body={"active": True, "sub": "ann"})
        url = servers.url("/introspect")
        ...
        servers.count("introspect")  # requests seen by the endpoint

Endpoints and the key that selects an answer:
  POST /introspect   the `token` form field
  POST /token        the client id of the HTTP Basic credentials (a `secret` in the answer
                     makes any other secret get 401 invalid_client)
  any other path     the session store: the Authorization header, else the Cookie header, else the `token`
                     form field
An answer is a status, a JSON or text body, headers and a delay in seconds before the
response. Keys without an answer get the endpoint's default: {"active": false} for
/introspect, 401 invalid_client for /token and 401 for /session.
Only the Python standard library is used.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness import LOOPBACK, HarnessError, http

ENDPOINTS = ("introspect", "token", "session")

_DEFAULTS: dict[str, dict[str, Any]] = {
    "introspect": {"status": 200, "body": {"active": False}},
    "token": {"status": 401, "body": {"error": "invalid_client"}},
    "session": {"status": 401, "body": {"error": "unauthorized"}},
}


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.answers: dict[str, dict[str, dict]] = {name: {} for name in ENDPOINTS}
        self.defaults = json.loads(json.dumps(_DEFAULTS))
        self.requests: dict[str, list[dict]] = {name: [] for name in ENDPOINTS}
        self.issued = 0


STATE = _State()


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded).decode()
    except (ValueError, UnicodeDecodeError):
        return "", ""
    client_id, _, secret = decoded.partition(":")
    return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode()
            content_type = "application/json"
        else:
            payload = str(body or "").encode()
            content_type = "text/plain"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _control(self, body: bytes) -> None:
        command = self.path.split("?", 1)[0][len("/_control/"):]
        request = json.loads(body or b"{}")
        with STATE.lock:
            if command == "reset":
                STATE.reset()
                self._send(200, {})
            elif command == "answer":
                STATE.answers[request["endpoint"]][request["key"]] = request["answer"]
                self._send(200, {})
            elif command == "default":
                STATE.defaults[request["endpoint"]] = request["answer"]
                self._send(200, {})
            elif command == "requests":
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                self._send(200, STATE.requests[query["endpoint"][0]])
            else:
                self._send(404, {"error": f"unknown control command {command}"})

    def _handle(self) -> None:
        body = self._body()
        if self.path.startswith("/_control/"):
            self._control(body)
            return

        path = urllib.parse.urlsplit(self.path).path
        endpoint = {"/introspect": "introspect", "/token": "token"}.get(path, "session")

        form = {key: values[0] for key, values in urllib.parse.parse_qs(body.decode(errors="replace")).items()}
        client_id, secret = _basic_credentials(self.headers.get("Authorization", ""))
        if endpoint == "introspect":
            key = form.get("token", "")
        elif endpoint == "token":
            key = client_id
        else:
            key = self.headers.get("Authorization") or self.headers.get("Cookie") or form.get("token", "")

        with STATE.lock:
            STATE.requests[endpoint].append({
                "method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                "body": body.decode(errors="replace"), "form": form,
            })
            answer = dict(STATE.answers[endpoint].get(key) or STATE.defaults[endpoint])
            if endpoint == "token" and answer.get("status", 200) == 200 and "body" not in answer:
                STATE.issued += 1
                answer["body"] = {"access_token": f"issued-{STATE.issued}", "token_type": "bearer",
                                  "expires_in": answer.get("expires_in", 3600)}

        if endpoint == "token" and "secret" in answer and answer["secret"] != secret:
            answer = {"status": 401, "body": {"error": "invalid_client"}}
        time.sleep(answer.get("delay", 0))
        self._send(answer.get("status", 200), answer.get("body"), answer.get("headers"))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class AuthServers:
    """Starts this module as a process and configures its endpoints."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.base_url = ""

    def __enter__(self) -> "AuthServers":
        self.process = subprocess.Popen([sys.executable, os.path.abspath(__file__)],
                                        stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.process.kill()
            raise HarnessError(f"auth servers did not report a port (got {line!r})")
        self.base_url = f"http://{LOOPBACK}:{line}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process.stdout.close()

    def url(self, path: str) -> str:
        return self.base_url + path

    def _control(self, command: str, document: dict | None = None) -> Any:
        status, _, body = http("POST", self.url(f"/_control/{command}"), body=json.dumps(document or {}))
        if status != 200:
            raise HarnessError(f"control command {command} failed with {status}: {body!r}")
        return json.loads(body)

    def reset(self) -> None:
        self._control("reset")

    def answer(self, endpoint: str, key: str, status: int = 200, body: Any = None,
               headers: dict[str, str] | None = None, delay: float = 0, **extra: Any) -> None:
        """Set the answer of endpoint for key (see the module docstring)."""
        answer = {"status": status, "headers": headers or {}, "delay": delay, **extra}
        if body is not None:
            answer["body"] = body
        self._control("answer", {"endpoint": endpoint, "key": key, "answer": answer})

    def default(self, endpoint: str, status: int = 200, body: Any = None,
                headers: dict[str, str] | None = None, delay: float = 0) -> None:
        """Set the answer of endpoint for keys without their own answer."""
        answer = {"status": status, "body": body, "headers": headers or {}, "delay": delay}
        self._control("default", {"endpoint": endpoint, "answer": answer})

    def requests(self, endpoint: str) -> list[dict]:
        status, _, body = http("GET", self.url(f"/_control/requests?endpoint={endpoint}"))
        if status != 200:
            raise HarnessError(f"reading requests of {endpoint} failed with {status}")
        return json.loads(body)

    def count(self, endpoint: str) -> int:
        return len(self.requests(endpoint))


def main() -> None:
    server = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
