"""The wheel (`pip wheel --no-deps .`) installs in a fresh virtual environment and runs: its
`deskalert --version`, and a hub that answers /healthz and /metrics (so the package data and
every runtime dependency are declared). Dependencies come from the package index at the versions
of requirements/hub-desk.lock (pip's cache makes a second run quick); the source tree is not on
the path."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from support.hubs import listening_url
from support.roster import roster_toml

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.system, pytest.mark.stores("sqlite")]


def run(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


def test_the_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path) -> None:
    started = time.monotonic()
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp_path / "dist", ROOT)
    wheel = next((tmp_path / "dist").glob("deskalert-*.whl"))
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    # As the deploy guide says: the lock's versions, then the wheel alone; pip check proves the
    # lock holds every requirement of the wheel.
    pip = (sys.executable, "-m", "pip", "--python", python)
    run(
        *pip,
        "install",
        "--quiet",
        "--no-compile",
        "--no-deps",
        "-r",
        ROOT / "requirements" / "hub-desk.lock",
        timeout=300,
    )
    run(*pip, "install", "--quiet", "--no-compile", "--no-deps", wheel)
    run(*pip, "check")
    deskalert = venv / "bin" / "deskalert"
    assert run(deskalert, "--version").stdout.startswith("deskalert ")

    config = tmp_path / "hub.toml"
    config.write_text(roster_toml() + '\n[metrics]\nallow = ["127.0.0.0/8"]\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    hub = subprocess.Popen(
        [deskalert, "hub", "--config", config, "--port", "0", "--data-dir", tmp_path / "data"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert hub.stdout is not None
        url = next(filter(None, map(listening_url, hub.stdout)))
        health = httpx.get(f"{url}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        metrics = httpx.get(f"{url}/metrics", timeout=10)
        assert metrics.status_code == 200 and "deskalert_build_info" in metrics.text
    finally:
        hub.terminate()
        hub.wait(timeout=20)
    print(f"wheel built, installed and run in {time.monotonic() - started:.0f} s")
