"""A JWKS endpoint for the integration tests, run as its own process on 127.0.0.1.

Start it with `python3 jwks_server.py`; it prints its port on the first line of stdout. It
serves any number of named key sets, each with its own behaviour and request count, so one
server can back several independent scenarios. The test controls it over HTTP:

  GET  /sets/NAME/jwks.json      the key set NAME (empty until set), or its injected failure
  PUT  /control/NAME/jwks        replace key set NAME with the request body
  PUT  /control/NAME/mode        {"mode": "ok" | "fail" | "slow", "delay": seconds}: "fail"
                                 responds 500, "slow" waits `delay` seconds, then responds
  GET  /control/NAME/count       {"count": N}: GET requests for key set NAME so far

Only the Python standard library is used.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class KeySet:
    jwks: bytes = b'{"keys":[]}'
    mode: str = "ok"
    delay: float = 0.0
    count: int = 0


LOCK = threading.Lock()
SETS: dict[str, KeySet] = {}


def key_set(name: str) -> KeySet:
    """Return key set `name`, creating it empty. The caller must hold LOCK."""
    return SETS.setdefault(name, KeySet())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (base class name)
        pass

    def _respond(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _parts(self) -> list[str]:
        return self.path.split("?", 1)[0].strip("/").split("/")

    def do_GET(self) -> None:
        parts = self._parts()
        if len(parts) == 3 and parts[0] == "sets" and parts[2] == "jwks.json":
            with LOCK:
                entry = key_set(parts[1])
                entry.count += 1
                mode, delay, jwks = entry.mode, entry.delay, entry.jwks
            if mode == "fail":
                self._respond(500, b'{"error":"injected failure"}')
                return
            if mode == "slow":
                time.sleep(delay)
            self._respond(200, jwks)
        elif len(parts) == 3 and parts[0] == "control" and parts[2] == "count":
            with LOCK:
                count = key_set(parts[1]).count
            self._respond(200, json.dumps({"count": count}).encode())
        else:
            self._respond(404, b'{"error":"not found"}')

    def do_PUT(self) -> None:
        parts = self._parts()
        body = self._read_body()
        if len(parts) != 3 or parts[0] != "control" or parts[2] not in ("jwks", "mode"):
            self._respond(404, b'{"error":"not found"}')
            return
        with LOCK:
            entry = key_set(parts[1])
            if parts[2] == "jwks":
                entry.jwks = body
            else:
                settings = json.loads(body)
                entry.mode = settings["mode"]
                entry.delay = float(settings.get("delay", 0))
        self._respond(200, b"{}")


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
