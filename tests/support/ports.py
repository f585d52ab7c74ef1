"""Ports for the tests' servers that must be known before they listen (a hub restarted on the
same port, PostgreSQL, a URL where nothing listens).

They are taken below the kernel's ephemeral range: the servers on port 0 and every outgoing
connection take theirs inside it, so none can take one of these between the choice and its use.
Each pytest-xdist worker takes them in turn from its own slice, so two workers never draw the
same port; a port found in use (another copy of the suite) is skipped."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

SLICE = 800  # ports per worker
SLICES = 14  # workers gw0..gw13 get a slice of their own; more share them


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _worker() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # set by pytest-xdist in its workers
    return int(name[2:]) if name[2:].isdigit() else 0


_next: list[int] = []  # this process's next candidate in its slice


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on, outside the ephemeral range; in one process
    a port comes back only after the whole slice has been handed out."""
    top = min(_ephemeral_low(), 65536)
    low = max(1024, top - SLICE * SLICES)
    start = low + SLICE * (_worker() % SLICES)
    size = min(SLICE, top - start)
    if not _next:
        _next.append(random.randrange(size))  # two copies of the suite start apart
    for _ in range(size):
        port = start + _next[0] % size
        _next[0] += 1
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # a crowded machine: the kernel's choice then
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
