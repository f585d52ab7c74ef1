"""Hostile clients for the hub (tests/test_hostile.py and bench/run.py, hence no pytest here):
sockets that hold a connection with half a request, from loopback addresses other than
127.0.0.1 (Linux routes all of 127/8 to lo), and a hub in its own process under a small
open-file limit."""

from __future__ import annotations

import contextlib
import os
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import httpx

from support.hubs import listening_url

HALF_REQUEST = b"POST /v1/alerts HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"


def with_open_files(limit: int) -> Callable[[], None]:
    """A preexec_fn giving the child `limit` open files, soft and hard (systemd's default)."""

    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return preexec


def start_hub_process(
    config_path: Path, data_dir: Path, *, open_files: int
) -> tuple[subprocess.Popen[str], str]:
    """`deskalert hub` in its own process; (process, url) once it answers /healthz."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deskalert",
            "hub",
            "--config",
            str(config_path),
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=with_open_files(open_files),  # no thread forks here
    )
    assert process.stdout is not None
    banner: list[str] = []
    for line in process.stdout:
        banner.append(line)
        if url := listening_url(line):
            _wait_healthy(url)
            return process, url
    raise AssertionError(f"hub printed no URL: {banner}")


@dataclass
class HostileSockets:
    """Holds `count` sockets against the hub, each with half a request, spread over
    `addresses` source addresses 127.0.0.2, 127.0.0.3, ...; any the hub closes is reopened
    (at most once per `reopen_every_s`), so the pressure never lets up."""

    port: int
    count: int
    addresses: int = 8
    reopen_every_s: float = 1.0
    opened: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _selector: selectors.BaseSelector = field(default_factory=selectors.DefaultSelector)

    def __enter__(self) -> Self:
        for index in range(self.count):
            self._open(index)
        self._thread = threading.Thread(target=self._hold, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()

    def held(self) -> int:
        return len(self._selector.get_map())

    def _open(self, index: int) -> None:
        slot = index % self.addresses
        source = f"127.0.{slot // 250}.{2 + slot % 250}"  # 127.0.0.2, 127.0.0.3, ...
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((source, 0))
            sock.settimeout(2)
            sock.connect(("127.0.0.1", self.port))
            sock.sendall(HALF_REQUEST)
            sock.setblocking(False)
        except OSError:
            sock.close()
            return
        self.opened += 1
        self._selector.register(sock, selectors.EVENT_READ, index)

    def _hold(self) -> None:
        while not self._stop.is_set():
            closed = [key for key, _ in self._selector.select(timeout=self.reopen_every_s)]
            for key in closed:
                self._selector.unregister(key.fileobj)
                with contextlib.suppress(OSError):
                    key.fileobj.close()  # type: ignore[union-attr]
            self._stop.wait(self.reopen_every_s)
            for key in closed:
                if self._stop.is_set():
                    return
                self._open(key.data)


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.02)
    raise AssertionError("hub did not become healthy")
