#!/usr/bin/env python3
"""Measure gatehouse's resident memory idle and with a full introspection cache.

Steps:
  1. Build gatehouse (Release, warnings not fatal) into build/memory-release, unless
     --binary names a built one.
  2. Start it with every authenticator enabled and every cache disabled, wait until it is
     idle, and read VmRSS from /proc/<pid>/status.
  3. Restart it with one oauth2_introspection rule whose cache.max_cost is --cache-mib MiB,
     drive --tokens distinct opaque tokens through the decision API against a local
     introspection server (asyncio, in this script), and read VmRSS again.

Everything listens on 127.0.0.1. Each phase has a time limit (--time-limit seconds), and
phase 3 stops early when it is reached, reporting how many tokens it sent.

Under qemu-user (--binary naming a script that runs an arm64 build through
qemu-aarch64-static, such as build/arm64/tests/emulated/gatehouse), each figure is also split
into the guest's memory and the emulator's.

Usage:  bench/memory/memory_bench.py [--binary PATH] [--tokens N] [--cache-mib M]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import pathlib
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from harness import Gatehouse  # noqa: E402  (needs the path above)

LOOPBACK = "127.0.0.1"
# A typical RFC 7662 response: about 150 bytes, like an authorization server's for an opaque token.
RESPONSE_BODY = json.dumps({"active": True, "sub": "user-0123456789", "client_id": "bench-client",
                     "scope": "read write", "aud": ["api"], "iss": "https://issuer.test",
                     "exp": 4102444800}).encode()


def build_release() -> str:
    build_dir = ROOT / "build" / "memory-release"
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", "Ninja",
                    "-DCMAKE_BUILD_TYPE=Release", "-DGATEHOUSE_WERROR=OFF"], check=True)
    subprocess.run(["cmake", "--build", str(build_dir), "--target", "gatehouse", "-j2"], check=True)
    return str(build_dir / "gatehouse")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def emulated_rss_kib(pid: int) -> tuple[int, int] | None:
    """Split the VmRSS of a qemu-user process into (guest KiB, emulator KiB), or return None.

    Under qemu-user (for example the arm64 build run through qemu-aarch64-static), VmRSS
    also counts the emulator: its own executable, its brk heap, its translated-code buffer
    and the host stacks of its threads. qemu-user 7.2 maps the guest's program, libraries,
    heap and thread stacks in one region below its own executable and brk heap. So every
    mapping that ends at or below the lowest of those two counts as guest memory, which is
    what the program would keep resident on a real arm64 machine.
    """
    executable = os.path.realpath(f"/proc/{pid}/exe")
    if not os.path.basename(executable).startswith("qemu-"):
        return None

    mappings: list[tuple[int, int, str]] = []  # (start, end, path); Rss follows each header
    rss: list[int] = []
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if not fields[0].endswith(":"):  # a mapping's header line: range, perms, ..., path
                start, end = (int(address, 16) for address in fields[0].split("-"))
                mappings.append((start, end, " ".join(fields[5:])))
                rss.append(0)
            elif fields[0] == "Rss:":
                rss[-1] = int(fields[1])

    emulator_starts = [start for start, _, path in mappings if path in (executable, "[heap]")]
    boundary = min(emulator_starts)
    guest = sum(size for (_, end, _), size in zip(mappings, rss) if end <= boundary)
    return guest, sum(rss) - guest


def describe_rss(pid: int) -> tuple[int, int | None, str]:
    """Measure a process: returns (VmRSS KiB, guest KiB under qemu-user or None, a summary)."""
    total = rss_kib(pid)
    text = f"VmRSS {total / 1024:.1f} MiB"
    split = emulated_rss_kib(pid)
    if split is None:
        return total, None, text
    guest, emulator = split
    text += f" (qemu-user: guest {guest / 1024:.1f} MiB, emulator {emulator / 1024:.1f} MiB)"
    return total, guest, text


# ---- the introspection server ------------------------------------------------------------------

async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(RESPONSE_BODY)).encode() + b"\r\n\r\n" + RESPONSE_BODY)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            writer.write(response)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def start_introspection_server() -> int:
    ready = threading.Event()
    port = [0]

    def run() -> None:
        async def main() -> None:
            server = await asyncio.start_server(serve_connection, LOOPBACK, 0)
            port[0] = server.sockets[0].getsockname()[1]
            ready.set()
            await server.serve_forever()
        asyncio.run(main())

    threading.Thread(target=run, daemon=True).start()
    ready.wait(10)
    return port[0]


# ---- the load ----------------------------------------------------------------------------------

def drive(api_port: int, first: int, count: int, deadline: float) -> int:
    """Send `count` decisions with distinct tokens; return how many were sent before deadline."""
    connection = http.client.HTTPConnection(LOOPBACK, api_port, timeout=10)
    sent = 0
    for index in range(first, first + count):
        if time.monotonic() >= deadline:
            break
        connection.request("GET", "/decisions/api", headers={"Authorization": f"Bearer opaque-{index:012d}"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"decision for token {index} returned {response.status}")
        sent += 1
    return sent


def drive_parallel(api_port: int, tokens: int, workers: int, time_limit: float) -> int:
    deadline = time.monotonic() + time_limit
    share = (tokens + workers - 1) // workers
    with multiprocessing.Pool(workers) as pool:
        jobs = [pool.apply_async(drive, (api_port, worker * share, min(share, tokens - worker * share), deadline))
                for worker in range(workers)]
        return sum(job.get() for job in jobs)


# ---- configs -----------------------------------------------------------------------------------

def every_authenticator(introspection_url: str, jwks_path: pathlib.Path) -> dict:
    return {
        "log": {"level": "warn"},
        "authenticators": {
            "noop": {"enabled": True},
            "anonymous": {"enabled": True},
            "unauthorized": {"enabled": True},
            "cookie_session": {"enabled": True, "config": {"check_session_url": introspection_url}},
            "bearer_token": {"enabled": True, "config": {"check_session_url": introspection_url}},
            "jwt": {"enabled": True, "config": {"jwks_urls": [jwks_path.as_uri()]}},
            "oauth2_client_credentials": {"enabled": True, "config": {"token_url": introspection_url}},
            "oauth2_introspection": {"enabled": True, "config": {"introspection_url": introspection_url}},
        },
        "authorizers": {"allow": {"enabled": True}},
        "mutators": {"noop": {"enabled": True}},
    }


def rule(authenticators: list[dict]) -> dict:
    return {"id": "api", "match": {"url": "http://<[^/]+>/api", "methods": ["GET"]},
            "upstream": {"url": "http://127.0.0.1:9"}, "authenticators": authenticators,
            "authorizer": {"handler": "allow"}, "mutators": [{"handler": "noop"}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", help="gatehouse binary to measure (default: build a Release one)")
    parser.add_argument("--tokens", type=int, default=1_000_000, help="distinct tokens to introspect")
    parser.add_argument("--cache-mib", type=int, default=32, help="cache.max_cost in MiB")
    parser.add_argument("--workers", type=int, default=4, help="client processes")
    parser.add_argument("--time-limit", type=float, default=600, help="seconds allowed for the load phase")
    args = parser.parse_args()

    binary = args.binary or build_release()
    os.environ["GATEHOUSE_BIN"] = binary
    introspection_url = f"http://{LOOPBACK}:{start_introspection_server()}/introspect"
    jwks_path = pathlib.Path(ROOT / "build" / "memory-bench-jwks.json")
    jwks_path.write_text('{"keys": []}')

    handlers = ["noop", "anonymous", "unauthorized", "cookie_session", "bearer_token", "jwt",
                "oauth2_client_credentials", "oauth2_introspection"]
    idle_rule = rule([{"handler": name} for name in handlers])
    with Gatehouse(every_authenticator(introspection_url, jwks_path), [idle_rule]) as gatehouse:
        time.sleep(2)
        _, _, idle = describe_rss(gatehouse.process.pid)
    print(f"idle, every authenticator enabled, caches disabled: {idle}")

    max_cost = args.cache_mib * 1024 * 1024
    cached_rule = rule([{"handler": "oauth2_introspection", "config": {"cache": {"enabled": True, "max_cost": max_cost}}}])
    with Gatehouse(every_authenticator(introspection_url, jwks_path), [cached_rule]) as gatehouse:
        time.sleep(1)
        before, guest_before, before_text = describe_rss(gatehouse.process.pid)
        started = time.monotonic()
        sent = drive_parallel(gatehouse.api_port, args.tokens, args.workers, args.time_limit)
        elapsed = time.monotonic() - started
        after, guest_after, after_text = describe_rss(gatehouse.process.pid)
    growth = f"growth {(after - before) / 1024:.1f} MiB"
    if guest_before is not None and guest_after is not None:
        growth += f", guest growth {(guest_after - guest_before) / 1024:.1f} MiB"
    print(f"cache.max_cost {args.cache_mib} MiB: {sent} distinct tokens in {elapsed:.0f} s "
          f"({sent / elapsed:.0f}/s); {before_text} before, {after_text} after ({growth})")


if __name__ == "__main__":
    main()
