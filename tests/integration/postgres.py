"""A throwaway PostgreSQL server for integration tests.

PostgreSQL() runs initdb and postgres from the Debian postgresql-15 package in a temporary
folder, listening on 127.0.0.1 on a free port and on a Unix socket in the same folder. initdb
and postgres refuse to run as root, so under root (as in CI) both run as the user `nobody`
(the test process drops to it with setuid), which then owns the folder. Authentication is `trust` for the user `gatehouse`, which is fine
for a server that only listens on loopback for the length of one test.

Use as a context manager; the attribute dsn is a postgres:// URL for libpq.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time

from harness import HarnessError, LOOPBACK, free_port

POSTGRES_BIN = os.environ.get("GATEHOUSE_POSTGRES_BIN", "/usr/lib/postgresql/15/bin")
START_TIMEOUT_SECONDS = 30.0


def available() -> bool:
    """Return True when the PostgreSQL server binaries are installed."""
    return all(os.access(os.path.join(POSTGRES_BIN, name), os.X_OK)
               for name in ("initdb", "postgres", "pg_isready"))


class PostgreSQL:
    """A PostgreSQL server owned by one test; stopped and deleted on exit."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="gatehouse-postgres-")
        self.data = os.path.join(self.folder, "data")
        self.port = 0
        self.dsn = ""
        self.process: subprocess.Popen | None = None
        self.log_path = os.path.join(self.folder, "postgres.log")

    def _as_server_user(self) -> dict:
        """Return Popen arguments that drop root to nobody; empty when not root."""
        if os.geteuid() != 0:
            return {}
        nobody = pwd.getpwnam("nobody")
        return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}

    def __enter__(self) -> "PostgreSQL":
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.folder, nobody.pw_uid, nobody.pw_gid)
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        initdb = subprocess.run(
            [os.path.join(POSTGRES_BIN, "initdb"), "-D", self.data, "-U", "gatehouse",
             "--auth=trust", "--encoding=UTF8", "--no-sync"],
            capture_output=True, text=True, cwd=self.folder, **self._as_server_user())
        if initdb.returncode != 0:
            raise HarnessError(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}")

        for _attempt in range(3):
            self.port = free_port()
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [os.path.join(POSTGRES_BIN, "postgres"), "-D", self.data, "-k", self.folder,
                     "-p", str(self.port), "-c", f"listen_addresses={LOOPBACK}", "-c", "fsync=off"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.folder,
                    **self._as_server_user())
            if self._wait_until_ready():
                self.dsn = f"postgres://gatehouse@{LOOPBACK}:{self.port}/postgres"
                return
            self._stop_process()
        raise HarnessError(f"PostgreSQL did not start; log:\n{self.log()}")

    def _wait_until_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            ready = subprocess.run([os.path.join(POSTGRES_BIN, "pg_isready"), "-h", LOOPBACK,
                                    "-p", str(self.port), "-U", "gatehouse"],
                                   capture_output=True)
            if ready.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as log:
                return log.read()
        except OSError:
            return ""

    def _stop_process(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __exit__(self, *exc_info: object) -> None:
        self._stop_process()
        shutil.rmtree(self.folder, ignore_errors=True)
