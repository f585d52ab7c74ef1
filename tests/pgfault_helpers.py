"""Hubs in their own processes on one PostgreSQL, each on a URL of the test's choosing (through
a `FaultProxy` or not), with their log kept; desks that fail over; a clock for the figures."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from support.hubs import listening_url
from support.requests import auth, new_alert
from support.roster import roster_toml


@dataclass
class LoggedHub:
    """A hub process whose stderr (its log) is kept in `log`."""

    process: subprocess.Popen[str]
    url: str
    log: Path

    def leads(self) -> int:
        """How many times this hub took the lead (its log says so each time)."""
        return self.log.read_text(encoding="utf-8").count("this hub now leads")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_hub(database: str, workdir: Path, name: str, **timing: float) -> LoggedHub:
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / f"{name}.toml"
    config.write_text(roster_toml(12, **timing), encoding="utf-8")
    log = workdir / f"{name}.log"
    with open(log, "w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deskalert",
                "hub",
                "--config",
                str(config),
                "--port",
                "0",
                "--data-dir",
                str(workdir / f"{name}-data"),
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "DESKALERT_DATABASE": database},
        )
    assert process.stdout is not None
    url = ""
    for line in process.stdout:
        if url := listening_url(line):
            break
    assert url, f"hub {name} printed no URL: {log.read_text()[-2000:]}"
    hub = LoggedHub(process, url, log)
    wait(lambda: status(url) == 200, 15, f"hub {name} healthy")
    return hub


def status(url: str, timeout: float = 2) -> int | None:
    """The hub's /healthz status, or None if it did not answer within `timeout`."""
    try:
        return httpx.get(f"{url}/healthz", timeout=timeout).status_code
    except httpx.HTTPError:
        return None


def role(url: str) -> str | None:
    try:
        answer = httpx.get(f"{url}/healthz", timeout=2)
    except httpx.HTTPError:
        return None
    return str(answer.json().get("role")) if answer.status_code == 200 else None


def wait(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait until `condition()`; the seconds it took."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)
    return time.monotonic() - start


def timed_post(
    url: str, body: dict[str, object], who: str, limit: float = 30
) -> tuple[int | None, float]:
    """POST an alert; (status or None, seconds until the answer or the failure)."""
    start = time.monotonic()
    try:
        code: int | None = httpx.post(
            f"{url}/v1/alerts", json=body, headers=auth(who), timeout=limit
        ).status_code
    except httpx.HTTPError:
        code = None
    return code, time.monotonic() - start


@dataclass
class Desks:
    """Desks raising alerts until stopped, each resent (same id) to the next hub until a hub
    answers 200 or 201, as the desk's outbox does; every stored id is kept, and every answer
    seen (status, seconds)."""

    urls: list[str]
    count: int = 12
    every_s: float = 2.5  # each desk's pace, under the hub's 30 alerts a minute
    request_timeout: float = 10
    stored: list[str] = field(default_factory=list)
    answers: list[tuple[str, int | None, float]] = field(default_factory=list)

    def start(self) -> Desks:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.count)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def _run(self, index: int) -> None:
        desk = f"d{index:02d}"
        turn = index  # half the desks prefer each hub
        while not self._stop.is_set():
            body = new_alert()
            while True:
                url = self.urls[turn % len(self.urls)]
                code, took = timed_post(url, body, desk, self.request_timeout)
                with self._lock:
                    self.answers.append((url, code, took))
                if code in (200, 201):
                    break
                if code != 429:  # a refusal is an answer; an outage moves to the next hub
                    turn += 1
                time.sleep(0.05 if code != 429 else 1)
            with self._lock:
                self.stored.append(body["id"])
            self._stop.wait(self.every_s)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a desk never got its alert stored"


@dataclass
class Roles:
    """Polls every hub's /healthz and keeps who says "leader" when: (seconds, index of the
    hub) each time it changes, None when no hub says so."""

    urls: list[str]
    changes: list[tuple[float, int | None]] = field(default_factory=list)
    both: int = 0  # polls in which two hubs said "leader" at once

    def start(self) -> Roles:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            leaders = [i for i, url in enumerate(self.urls) if role(url) == "leader"]
            self.both += len(leaders) > 1
            now = leaders[0] if len(leaders) == 1 else None
            if not self.changes or self.changes[-1][1] != now:
                self.changes.append((time.monotonic(), now))
            self._stop.wait(0.1)

    def leaders(self) -> list[int]:
        """The hubs that led in turn (a hub gone silent and back as leader counts once)."""
        turns: list[int] = []
        for _, index in self.changes:
            if index is not None and (not turns or turns[-1] != index):
                turns.append(index)
        return turns

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
