"""Helpers for integration tests that run gatehouse and its echo upstream as real processes.

Every server started here listens on 127.0.0.1 on a port chosen at run time, so several test
runs can share one machine. Only the Python standard library is used.

Environment:
  GATEHOUSE_BIN       path of the gatehouse binary (needed by Gatehouse)
  GATEHOUSE_ECHO_BIN  path of the gatehouse-echo binary (needed by EchoServer)
  GATEHOUSE_KEEP_TMP  when set to 1, the temporary folder of each Gatehouse is kept after the
                      test, with its config, rules and log file, and its path is printed
"""

from __future__ import annotations

import base64
import copy
import hashlib
import http.client as http_client
import json
import os
import selectors
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

LOOPBACK = "127.0.0.1"
HEALTH_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 10.0

Headers = Union[Mapping[str, str], Sequence[tuple[str, str]], None]
Body = Union[bytes, str, Iterable[bytes], None]


class HarnessError(RuntimeError):
    """A server could not be started, stopped or reached as the test expected."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    Another process may take the port before the caller binds it, so callers that start a
    server on it retry on "address already in use".
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
               description: str = "condition") -> Any:
    """Call predicate until it returns a true value, and return that value.

    Raises HarnessError when timeout seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise HarnessError(f"{description} not met within {timeout} s")
        time.sleep(interval)


def _binary_from_environment(variable: str) -> str:
    path = os.environ.get(variable)
    if not path:
        raise HarnessError(f"{variable} is not set: set it to the path of the built binary "
                           "(ctest sets it for the integration tests)")
    if not os.access(path, os.X_OK):
        raise HarnessError(f"{variable}={path} is not an executable file: build it first")
    return path


# ---- HTTP client ------------------------------------------------------------------------------

def _header_pairs(headers: Headers) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return [(name, value) for name, value in headers]


def _has_header(pairs: list[tuple[str, str]], name: str) -> bool:
    return any(header.lower() == name.lower() for header, _ in pairs)


def _request_target(url: str) -> str:
    """Return the request target of url exactly as written: path and query, no fragment."""
    split = urllib.parse.urlsplit(url)
    after_authority = url[len(split.scheme) + 3 + len(split.netloc):]
    target = after_authority.split("#", 1)[0]
    return target or "/"


def _send_body(connection: http_client.HTTPConnection, body: Body) -> None:
    if body is None:
        return
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, (bytes, bytearray)):
        connection.send(body)
        return
    for chunk in body:
        if chunk:
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    connection.send(b"0\r\n\r\n")


def http(method: str, url: str, headers: Headers = None, body: Body = None,
         timeout: float = 10.0, target: str | None = None,
         context: ssl.SSLContext | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request and return (status, headers as (name, value) pairs, body bytes).

    Redirects are not followed. headers is a mapping or a list of pairs, so a header can be
    repeated. The only headers added are Host (unless given) and the framing header of a body:
    Content-Length for bytes or str, or Transfer-Encoding: chunked for an iterable of byte
    strings, which is then sent one chunk per item. A body with a caller-supplied
    Content-Length or Transfer-Encoding header is sent unchanged. target overrides the request
    target taken from url, for requests that a URL cannot express (for example `*`).
    """
    split = urllib.parse.urlsplit(url)
    host = split.hostname or LOOPBACK
    if split.scheme == "https":
        connection: http_client.HTTPConnection = http_client.HTTPSConnection(
            host, split.port or 443, timeout=timeout, context=context)
    elif split.scheme == "http":
        connection = http_client.HTTPConnection(host, split.port or 80, timeout=timeout)
    else:
        raise HarnessError(f"unsupported URL scheme in {url!r}: expected http or https")

    pairs = _header_pairs(headers)
    if isinstance(body, str):
        body = body.encode()
    if body is not None and not (_has_header(pairs, "Content-Length")
                                 or _has_header(pairs, "Transfer-Encoding")):
        if isinstance(body, (bytes, bytearray)):
            pairs.append(("Content-Length", str(len(body))))
        else:
            pairs.append(("Transfer-Encoding", "chunked"))

    try:
        connection.putrequest(method, target or _request_target(url),
                              skip_host=_has_header(pairs, "Host"), skip_accept_encoding=True)
        for name, value in pairs:
            connection.putheader(name, value)
        connection.endheaders()
        _send_body(connection, body)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def header_values(headers: Sequence[tuple[str, str]], name: str) -> list[str]:
    """Return every value of the header called name (case-insensitive), in order."""
    return [value for header, value in headers if header.lower() == name.lower()]


def header_value(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """Return the first value of the header called name (case-insensitive), or None."""
    values = header_values(headers, name)
    return values[0] if values else None


# ---- processes --------------------------------------------------------------------------------

def _stop_process(process: subprocess.Popen, signal_number: int, timeout: float) -> int | None:
    """Send signal_number and wait. Returns the exit code, or None after a forced kill."""
    if process.poll() is not None:
        return process.returncode
    process.send_signal(signal_number)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def _read_line(process: subprocess.Popen, timeout: float) -> str:
    """Read one line of the process's stdout, or return "" on end of file or timeout."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline().decode(errors="replace")


class EchoServer:
    """The gatehouse-echo upstream, started on a free loopback port.

    Use as a context manager. Attributes: name, host, port, url (http://127.0.0.1:PORT),
    process. Requests to it return a JSON description of what the server received.
    """

    def __init__(self, name: str = "echo", startup_timeout: float = 10.0) -> None:
        self.name = name
        self.host = LOOPBACK
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen | None = None
        self._startup_timeout = startup_timeout
        self._stderr = tempfile.TemporaryFile()
        self._stderr_text: str | None = None

    def __enter__(self) -> "EchoServer":
        binary = _binary_from_environment("GATEHOUSE_ECHO_BIN")
        self.process = subprocess.Popen(
            [binary, "--host", LOOPBACK, "--port", "0", "--name", self.name],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr)
        line = _read_line(self.process, self._startup_timeout).strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            self.stop(signal.SIGKILL)
            raise HarnessError(f"gatehouse-echo did not report its address (stdout {line!r}); "
                               f"stderr:\n{self.stderr()}")
        self.host, _, port = line[len(prefix):].rpartition(":")
        self.port = int(port)
        self.url = f"http://{self.host}:{self.port}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop(signal.SIGKILL)
        self._stderr_text = self.stderr()
        self._stderr.close()

    def stop(self, signal_number: int = signal.SIGTERM,
             timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
        """Send signal_number and wait. Returns the exit code, or None after a forced kill."""
        if self.process is None:
            return None
        code = _stop_process(self.process, signal_number, timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def stderr(self) -> str:
        """Return what the server wrote to stderr, also after the context manager exited."""
        if self._stderr_text is not None:
            return self._stderr_text
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def request(self, method: str, path: str = "/", headers: Headers = None,
                body: Body = None, timeout: float = 10.0) -> tuple[int, list[tuple[str, str]], Any]:
        """Send a request straight to the echo server; returns (status, headers, parsed JSON)."""
        status, response_headers, response_body = http(method, self.url + path, headers, body,
                                                       timeout)
        return status, response_headers, json.loads(response_body) if response_body else None


# ---- gatehouse --------------------------------------------------------------------------------

# Top-level config sections: environment variables that start with these override config keys
# (for example SERVE_PROXY_PORT), so they are removed from the environment gatehouse inherits.
_CONFIG_ENVIRONMENT_PREFIXES = ("SERVE_", "ACCESS_RULES_", "AUTHENTICATORS_", "AUTHORIZERS_",
                                "MUTATORS_", "ERRORS_", "LOG_", "TRACING_", "PROFILING", "OAUTH2_")


def _set_path(document: dict, path: Sequence[str], value: Any) -> None:
    for key in path[:-1]:
        child = document.get(key)
        if not isinstance(child, dict):
            child = {}
            document[key] = child
        document = child
    document[path[-1]] = value


class Gatehouse:
    """A gatehouse process running `serve` with the given config and access rules.

    config is a dict or YAML text in Oathkeeper's config format. The harness chooses free
    loopback ports for the proxy, API and Prometheus listeners. With rules (a list of rule
    dicts), it writes them to rules.json and sets access_rules.repositories to that file's
    file:// URL, replacing any repositories in config. A dict config is changed and written as
    config.json. YAML text is written unchanged as config.yaml, followed by a second `-c` file,
    overrides.json, which contains the ports and repositories, because later files override
    earlier ones.

    Use as a context manager. __enter__ waits until GET /health/alive on the API port returns
    200 and raises HarnessError with the process output otherwise. __exit__ always kills the
    process. Attributes: proxy_url, api_url, metrics_url, rules_path, config_paths, workdir,
    process.

    NOTE: only the proxy, API and Prometheus listeners are moved to free loopback ports. A
    config that enables any other listener must set that listener's host and port itself.
    """

    def __init__(self, config: Union[Mapping[str, Any], str, None] = None,
                 rules: Sequence[Mapping[str, Any]] | None = None,
                 extra_args: Sequence[str] = (), env: Mapping[str, str] | None = None,
                 startup_timeout: float = HEALTH_TIMEOUT_SECONDS) -> None:
        self._config = config if config is not None else {}
        self._rules = rules
        self._extra_args = list(extra_args)
        self._extra_env = dict(env or {})
        self._startup_timeout = startup_timeout
        self.workdir = tempfile.mkdtemp(prefix="gatehouse-test-")
        self.rules_path = os.path.join(self.workdir, "rules.json")
        self.log_path = os.path.join(self.workdir, "gatehouse.log")
        self.config_paths: list[str] = []
        self.proxy_port = self.api_port = self.metrics_port = 0
        self.proxy_url = self.api_url = self.metrics_url = ""
        self.process: subprocess.Popen | None = None

    # -- lifecycle

    def __enter__(self) -> "Gatehouse":
        binary = _binary_from_environment("GATEHOUSE_BIN")
        if self._rules is not None:
            self.write_rules(self._rules)

        # A port picked by free_port can be taken by another process before gatehouse binds
        # it, so a start that fails with "address already in use" is retried on new ports.
        attempts = 3
        try:
            for attempt in range(1, attempts + 1):
                self._choose_ports()
                self._write_config()
                self._start(binary)
                if self._wait_until_alive():
                    return self
                if "address already in use" not in self.logs().lower() or attempt == attempts:
                    raise HarnessError(
                        f"GET {self.api_url}/health/alive did not return 200 within "
                        f"{self._startup_timeout} s (exit code {self.process.poll()}); "
                        f"output:\n{self.logs()}")
        except BaseException:
            self._cleanup()
            raise
        raise AssertionError("unreachable")

    def __exit__(self, *exc_info: object) -> None:
        self._cleanup()

    def stop(self, signal_number: int = signal.SIGTERM,
             timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """Send signal_number and return the exit code.

        Raises HarnessError (after killing the process) when it does not exit within timeout.
        """
        if self.process is None:
            raise HarnessError("gatehouse was not started")
        code = _stop_process(self.process, signal_number, timeout)
        if code is None:
            raise HarnessError(f"gatehouse did not exit within {timeout} s after signal "
                               f"{signal_number}; output:\n{self.logs()}")
        return code

    def logs(self) -> str:
        """Return everything the process wrote to stdout and stderr so far."""
        try:
            with open(self.log_path, "rb") as log:
                return log.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def write_rules(self, rules: Sequence[Mapping[str, Any]]) -> None:
        """Replace the rules file atomically, so a watcher never reads a partial file."""
        self.write_file_atomically(self.rules_path, json.dumps(list(rules), indent=2))

    @staticmethod
    def write_file_atomically(path: str, text: str) -> None:
        folder = os.path.dirname(path)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(descriptor, "w") as output:
            output.write(text)
        os.replace(temporary, path)

    # -- steps

    def _choose_ports(self) -> None:
        self.proxy_port, self.api_port, self.metrics_port = free_port(), free_port(), free_port()
        self.proxy_url = f"http://{LOOPBACK}:{self.proxy_port}"
        self.api_url = f"http://{LOOPBACK}:{self.api_port}"
        self.metrics_url = f"http://{LOOPBACK}:{self.metrics_port}"

    def _overrides(self) -> dict:
        overrides: dict = {}
        for listener, port in (("proxy", self.proxy_port), ("api", self.api_port),
                               ("prometheus", self.metrics_port)):
            _set_path(overrides, ["serve", listener, "host"], LOOPBACK)
            _set_path(overrides, ["serve", listener, "port"], port)
        if self._rules is not None:
            _set_path(overrides, ["access_rules", "repositories"],
                      ["file://" + self.rules_path])
        return overrides

    def _write_config(self) -> None:
        overrides = self._overrides()
        if isinstance(self._config, str):
            base_path = os.path.join(self.workdir, "config.yaml")
            overrides_path = os.path.join(self.workdir, "overrides.json")
            with open(base_path, "w") as output:
                output.write(self._config)
            with open(overrides_path, "w") as output:
                json.dump(overrides, output, indent=2)
            self.config_paths = [base_path, overrides_path]
            return

        config = copy.deepcopy(dict(self._config))
        for path, value in _flatten(overrides):
            _set_path(config, path, value)
        config_path = os.path.join(self.workdir, "config.json")
        with open(config_path, "w") as output:
            json.dump(config, output, indent=2)
        self.config_paths = [config_path]

    def _environment(self) -> dict[str, str]:
        environment = {name: value for name, value in os.environ.items()
                       if not name.startswith(_CONFIG_ENVIRONMENT_PREFIXES)}
        environment.update(self._extra_env)
        return environment

    def _start(self, binary: str) -> None:
        if self.process is not None:
            _stop_process(self.process, signal.SIGKILL, STOP_TIMEOUT_SECONDS)
        command = [binary, "serve"]
        for path in self.config_paths:
            command += ["-c", path]
        command += self._extra_args
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, cwd=self.workdir, env=self._environment(),
                                            stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT)

    def _wait_until_alive(self) -> bool:
        """Poll /health/alive. Returns False when the process exits or the timeout passes."""
        assert self.process is not None
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                status, _, _ = http("GET", self.api_url + "/health/alive", timeout=1.0)
                if status == 200:
                    return True
            except OSError:
                pass  # not listening yet
            time.sleep(0.05)
        return False

    def _cleanup(self) -> None:
        if self.process is not None:
            _stop_process(self.process, signal.SIGKILL, STOP_TIMEOUT_SECONDS)
        if os.environ.get("GATEHOUSE_KEEP_TMP") == "1":
            print(f"gatehouse test files kept in {self.workdir}", file=sys.stderr)
            return
        shutil.rmtree(self.workdir, ignore_errors=True)


def _flatten(document: Mapping[str, Any],
             prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """Return (key path, value) for every leaf of a nested dict."""
    leaves: list[tuple[tuple[str, ...], Any]] = []
    for key, value in document.items():
        if isinstance(value, Mapping):
            leaves += _flatten(value, prefix + (key,))
        else:
            leaves.append((prefix + (key,), value))
    return leaves


# ---- WebSocket client -------------------------------------------------------------------------

WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
OPCODE_CONTINUATION, OPCODE_TEXT, OPCODE_BINARY = 0x0, 0x1, 0x2
OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG = 0x8, 0x9, 0xA


class WebSocketClient:
    """A minimal RFC 6455 client for tests: handshake, masked frames, message reassembly.

    Use websocket_connect() to open one. Not for production: no extensions, no TLS.
    """

    def __init__(self, sock: socket.socket, response_status: int,
                 response_headers: list[tuple[str, str]], leftover: bytes) -> None:
        self.sock = sock
        self.response_status = response_status
        self.response_headers = response_headers
        self._buffer = leftover

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True) -> None:
        """Send one frame, masked with a random key as RFC 6455 requires of clients."""
        header = bytearray([(0x80 if fin else 0) | opcode])
        length = len(payload)
        if length < 126:
            header.append(0x80 | length)
        elif length < 1 << 16:
            header.append(0x80 | 126)
            header += length.to_bytes(2, "big")
        else:
            header.append(0x80 | 127)
            header += length.to_bytes(8, "big")
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def send_text(self, text: str) -> None:
        self.send_frame(OPCODE_TEXT, text.encode())

    def send_binary(self, data: bytes) -> None:
        self.send_frame(OPCODE_BINARY, data)

    def receive_frame(self) -> tuple[bool, int, bytes]:
        """Return (fin, opcode, payload) of the next frame from the server."""
        first, second = self._read_exactly(2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(self._read_exactly(2), "big")
        elif length == 127:
            length = int.from_bytes(self._read_exactly(8), "big")
        mask = self._read_exactly(4) if second & 0x80 else b""
        payload = self._read_exactly(length)
        if mask:
            payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    def receive_message(self) -> tuple[int, bytes]:
        """Return (opcode, payload) of the next text, binary or close message.

        The client replies to each ping with a pong and joins fragmented messages.
        """
        message_opcode = None
        parts: list[bytes] = []
        while True:
            fin, opcode, payload = self.receive_frame()
            if opcode == OPCODE_PING:
                self.send_frame(OPCODE_PONG, payload)
                continue
            if opcode == OPCODE_PONG:
                continue
            if opcode == OPCODE_CLOSE:
                return opcode, payload
            if opcode != OPCODE_CONTINUATION:
                message_opcode = opcode
            parts.append(payload)
            if fin:
                return message_opcode if message_opcode is not None else opcode, b"".join(parts)

    def close(self, code: int = 1000) -> None:
        """Send a close frame, wait briefly for the server's close frame, and close the socket."""
        try:
            self.send_frame(OPCODE_CLOSE, code.to_bytes(2, "big"))
            self.sock.settimeout(2.0)
            while self.receive_frame()[1] != OPCODE_CLOSE:
                pass
        except OSError:
            pass
        finally:
            self.sock.close()

    def __enter__(self) -> "WebSocketClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("WebSocket connection closed by the server")
            self._buffer += data
        result, self._buffer = self._buffer[:size], self._buffer[size:]
        return result


def websocket_connect(url: str, headers: Headers = None, timeout: float = 10.0) -> WebSocketClient:
    """Open a WebSocket connection to url (ws:// or http://) and check the handshake response.

    Raises HarnessError when the server does not return 101 with the right
    Sec-WebSocket-Accept. The client's extra headers come from headers.
    """
    split = urllib.parse.urlsplit(url)
    if split.scheme not in ("ws", "http"):
        raise HarnessError(f"unsupported WebSocket URL {url!r}: expected ws:// or http://")
    port = split.port or 80
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {_request_target(url)} HTTP/1.1", f"Host: {split.netloc}",
             "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
             "Sec-WebSocket-Version: 13"]
    lines += [f"{name}: {value}" for name, value in _header_pairs(headers)]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()

    sock = socket.create_connection((split.hostname or LOOPBACK, port), timeout=timeout)
    try:
        sock.sendall(request)
        response = b""
        while b"\r\n\r\n" not in response:
            data = sock.recv(65536)
            if not data:
                raise HarnessError(f"connection closed during the WebSocket handshake; "
                                   f"received {response!r}")
            response += data
        head, _, leftover = response.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        response_headers = [(name.strip(), value.strip()) for name, _, value in
                            (line.partition(":") for line in header_lines)]
        if status != 101:
            raise HarnessError(f"WebSocket handshake returned {status_line!r}, expected 101")
        expected_accept = base64.b64encode(
            hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest()).decode()
        accept = header_value(response_headers, "Sec-WebSocket-Accept")
        if accept != expected_accept:
            raise HarnessError(f"invalid Sec-WebSocket-Accept {accept!r}, "
                               f"expected {expected_accept!r}")
        return WebSocketClient(sock, status, response_headers, leftover)
    except BaseException:
        sock.close()
        raise
