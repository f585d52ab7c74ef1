"""A deadline on every call a hub makes to PostgreSQL, so that a stalled link cannot hang it.

TCP keep-alives and `tcp_user_timeout` (pgstore) notice a link whose packets go unacknowledged.
They do not notice a peer that acknowledges and never answers: a frozen database host whose
kernel still runs, a hung proxy or pooler, a server stopped with SIGSTOP. There, a query waits
forever, and with it the hub's one store thread and every request behind it.

`deadline(conn)` arms a watchdog for the length of one call: past `CALL_DEADLINE_S` the watchdog
shuts the connection's socket down, which wakes the blocked call with an error (then named
`Stalled`), and the caller's usual path for a lost connection follows (a 503, a new connection at
the next use). The deadline is above the store sessions' `lock_timeout` (pgstore), so a write
that waits for a lock gives up on the server's side first, with its own error.

One thread serves the process; it sleeps while no call is armed.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

CALL_DEADLINE_S = 5.0
CHECK_EVERY_S = 0.1


class Stalled(psycopg.OperationalError):
    """A call got no answer within its deadline: the watchdog cut its connection."""


class Watchdog:
    """Cuts the socket of any armed call still running past its deadline."""

    def __init__(self) -> None:
        self._armed: dict[int, tuple[float, psycopg.Connection[Any]]] = {}
        self._fired: set[int] = set()
        self._tokens = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    @contextmanager
    def deadline(
        self, conn: psycopg.Connection[Any], seconds: float = CALL_DEADLINE_S
    ) -> Iterator[None]:
        token = next(self._tokens)
        with self._wake:
            self._armed[token] = (time.monotonic() + seconds, conn)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="deskalert-pgwatch", daemon=True
                )
                self._thread.start()
            elif len(self._armed) == 1:
                self._wake.notify()
        try:
            yield
        except psycopg.Error as exc:
            if self._disarm(token):
                raise Stalled(
                    f"no answer from PostgreSQL within {seconds:g} s"
                    " (the link or the server is stalled)"
                ) from exc
            raise
        finally:
            self._disarm(token)

    def _disarm(self, token: int) -> bool:
        """Disarm; True if the watchdog had fired on this call."""
        with self._wake:
            self._armed.pop(token, None)
            if token in self._fired:
                self._fired.discard(token)
                return True
            return False

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._armed:
                    self._wake.wait()
                now = time.monotonic()
                for token, (due, conn) in list(self._armed.items()):
                    if now >= due:
                        del self._armed[token]
                        self._fired.add(token)
                        _cut(conn)  # under the lock: the call cannot close it meanwhile
                self._wake.wait(CHECK_EVERY_S)


def _cut(conn: psycopg.Connection[Any]) -> None:
    """Shut the connection's socket down: a call blocked on it wakes with an error."""
    with contextlib.suppress(Exception):
        fd = conn.pgconn.socket
        sock = socket.socket(fileno=fd)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.detach()  # the descriptor stays the connection's


WATCHDOG = Watchdog()
deadline = WATCHDOG.deadline
