#!/usr/bin/env python3
"""Sends an exact number of HTTP/1.1 requests over kept-alive connections, on loopback only.

    fixed_load.py --port PORT --requests N [--connections C] [--tokens FILE] [--first K]

Each connection sends one request, reads the whole response and sends the next, so at most C
requests are in flight. With --tokens, request i carries "Authorization: Bearer <line K+i>"
of FILE, wrapping around at its end; with --token, every request carries the same token.
Prints the count of each response status and exits with 1 when any status is not 200.
Unlike wrk, which runs for a fixed time, the request count is fixed, so a profile of the
server divides exactly by it.
"""

import argparse
import collections
import selectors
import socket
import sys


def read_tokens(path):
    with open(path, encoding="ascii") as tokens:
        return [line.strip() for line in tokens if line.strip()]


class Connection:
    """One kept-alive client connection that sends a request and parses its response."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.pending = b""

    def send(self, request):
        self.sock.sendall(request)
        self.pending = b""

    # Returns the status once the whole response has arrived, else None.
    def receive(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed a kept-alive connection")
        self.pending += data
        head_end = self.pending.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = self.pending[:head_end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.pending[head_end + 4:]
        if "content-length" in headers:
            return status if len(body) >= int(headers["content-length"]) else None
        if headers.get("transfer-encoding", "").lower().endswith("chunked"):
            return status if body.endswith(b"0\r\n\r\n") else None
        raise ValueError("response without Content-Length or chunked framing")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--path", default="/bench/item?id=42")
    parser.add_argument("--host", default=None, help="Host header (default 127.0.0.1:PORT)")
    parser.add_argument("--token", default=None, help="one bearer token for every request")
    parser.add_argument("--tokens", default=None, help="file of bearer tokens, one a line")
    parser.add_argument("--first", type=int, default=0, help="index of the first token used")
    options = parser.parse_args()

    tokens = read_tokens(options.tokens) if options.tokens else []
    host = options.host or f"127.0.0.1:{options.port}"

    def request(index):
        lines = [f"GET {options.path} HTTP/1.1", f"Host: {host}", "User-Agent: fixed-load"]
        if tokens:
            lines.append(f"Authorization: Bearer {tokens[(options.first + index) % len(tokens)]}")
        elif options.token:
            lines.append(f"Authorization: Bearer {options.token}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    selector = selectors.DefaultSelector()
    statuses = collections.Counter()
    sent = 0
    for _ in range(min(options.connections, options.requests)):
        connection = Connection(options.port)
        connection.send(request(sent))
        sent += 1
        selector.register(connection.sock, selectors.EVENT_READ, connection)

    done = 0
    while done < options.requests:
        for key, _ in selector.select():
            connection = key.data
            status = connection.receive()
            if status is None:
                continue
            statuses[status] += 1
            done += 1
            if sent < options.requests:
                connection.send(request(sent))
                sent += 1

    print(" ".join(f"{status}:{count}" for status, count in sorted(statuses.items())))
    return 0 if set(statuses) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
