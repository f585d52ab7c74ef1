"""A fault-injecting TCP proxy on 127.0.0.1, put between one hub and PostgreSQL.

Network namespaces, `tc` and `iptables` need root; this needs nothing. It forwards bytes both
ways (`pass_`), and on command:

- `stall()`: stops forwarding both ways and closes nothing, as a frozen database host, a
  hung middlebox or a link that drops every packet after the kernel acknowledged them. Bytes
  already read wait in the proxy; new connections are accepted and held the same way.
- `cut()`: resets every connection (RST) and refuses new ones until `pass_()`.
- `pass_()`: forwards again; what a stall held goes on where it stopped.

One thread accepts; each connection has one thread per direction. The hub sees the proxy's
port as its database host: `url()` rewrites a PostgreSQL URL to it.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from urllib.parse import urlsplit, urlunsplit

CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    """Close with an RST, waking a recv() blocked on it in another thread."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """Forwards 127.0.0.1:<port> to `upstream` (host, port), with faults on command."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.mode = "pass"
        self._changed = threading.Condition()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closed = False
        self._thread = threading.Thread(target=self._accept, name="faultproxy", daemon=True)
        self._thread.start()

    def url(self, database_url: str) -> str:
        """`database_url` with its host and port replaced by the proxy's."""
        parts = urlsplit(database_url)
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@127.0.0.1:{self.port}" if userinfo else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    # -- commands ---------------------------------------------------------------------------

    def pass_(self) -> None:
        self._set("pass")

    def stall(self) -> None:
        self._set("stall")

    def cut(self) -> None:
        self._set("cut")
        with self._changed:
            pairs, self._pairs = self._pairs, []
        for down, up in pairs:
            _reset(down)
            _reset(up)

    def close(self) -> None:
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._thread.join(timeout=5)

    @property
    def connections(self) -> int:
        with self._changed:
            return len(self._pairs)

    def _set(self, mode: str) -> None:
        with self._changed:
            self.mode = mode
            self._changed.notify_all()

    # -- forwarding -------------------------------------------------------------------------

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._closed:
            try:
                down, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode == "cut":
                _reset(down)
                continue
            threading.Thread(target=self._open, args=(down,), daemon=True).start()

    def _open(self, down: socket.socket) -> None:
        if not self._wait_flowing(down):
            return
        try:
            up = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _reset(down)
            return
        up.settimeout(None)
        with self._changed:
            self._pairs.append((down, up))
        for source, sink in ((down, up), (up, down)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _wait_flowing(self, sock: socket.socket) -> bool:
        """Wait while stalled; False if the connection was cut meanwhile."""
        with self._changed:
            while self.mode == "stall":
                self._changed.wait(0.5)
            if self.mode == "cut":
                _reset(sock)
                return False
            return True

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                if not self._wait_flowing(source):
                    break
                sink.sendall(data)
        except OSError:
            pass
        # One side closed or failed: close the other the same way, after a stall if any.
        if self.mode != "cut":
            self._wait_flowing(sink)
        _reset(sink)
        _reset(source)
        with self._changed:
            self._pairs = [p for p in self._pairs if source not in p]
