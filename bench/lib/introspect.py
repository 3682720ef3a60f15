#!/usr/bin/env python3
"""RFC 7662 introspection endpoint for the benchmarks, on loopback only.

    introspect.py PORT

POST /introspect with a form body token=<value> returns {"active": true, ...} for tokens that
start with "opaque-" and {"active": false} for any other token. Each active answer expires an
hour after the request. It counts the requests it served and prints the count on SIGTERM, so
the benchmark can tell how many requests reached it despite the contestants' caches.
"""

import json
import signal
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

served = 0


class IntrospectionHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global served
        served += 1
        length = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(length).decode("ascii", "replace"))
        token = form.get("token", [""])[0]
        now = int(time.time())
        if token.startswith("opaque-"):
            answer = {
                "active": True,
                "sub": "user-" + token[len("opaque-"):],
                "client_id": "bench-client",
                "scope": "read",
                "token_type": "access_token",
                "iat": now,
                "exp": now + 3600,
            }
        else:
            answer = {"active": False}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def main():
    port = int(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), IntrospectionHandler)

    def stop(signum, frame):
        print(f"introspect: served {served} requests", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
