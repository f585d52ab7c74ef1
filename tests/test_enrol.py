"""Enrolment: `deskalert hub enrol ID` makes a one-time code (hashed in the database, valid
some minutes, printed and as a QR code); `deskalert enrol CODE --hub URL` on the workstation
exchanges it once for a fresh token, writes config.toml and keeps the token (the system keyring,
or a 0600 file where there is none, and says so). Used or expired codes are refused in one
line, logged and counted with the refused tokens."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from support.hubs import HubProcess


def run(
    hub: HubProcess, *words: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deskalert", *words],
        capture_output=True,
        text=True,
        timeout=30,
        env={
            **os.environ,
            **({"DESKALERT_DATABASE": hub.database} if hub.database else {}),
            **(env or {}),
        },
    )


def enrol_code(hub: HubProcess, tmp_path: Path, who: str, *more: str) -> str:
    done = run(
        hub,
        "hub",
        "enrol",
        who,
        "--config",
        str(tmp_path / "hub.toml"),
        "--data-dir",
        str(tmp_path / "data"),
        "--url",
        hub.url,
        *more,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"code à usage unique pour {who}, valable")
    assert lines[3] == f"deskalert enrol {lines[1]} --hub {hub.url}"  # alone, to copy
    return lines[1]


def workstation(tmp_path: Path, name: str) -> dict[str, str]:
    """A workstation of its own (config dir) and no system keyring: the file fallback."""
    home = tmp_path / name
    return {
        "XDG_CONFIG_HOME": str(home),
        "HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }


def test_a_desk_joins_once_with_its_code(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    hub = hub_process()
    code = enrol_code(hub, tmp_path, "g2")
    env = workstation(tmp_path, "pc7")

    done = run(hub, "enrol", code, "--hub", hub.url, env=env)

    assert done.returncode == 0, done.stderr
    assert "inscrit comme g2 (Desk g2)" in done.stdout and "pas de trousseau système" in done.stdout
    config = tmp_path / "pc7" / "deskalert" / "config.toml"
    assert config.read_text() == f'[hub]\nurl = "{hub.url}"\n\n[desk]\nid = "g2"\n'
    kept = tmp_path / "pc7" / "deskalert" / "token-g2"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    token = kept.read_text().strip()
    beat = httpx.post(
        f"{hub.url}/v1/heartbeat", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert beat.status_code == 200, beat.text  # the desk comes online with it
    desks = httpx.get(
        f"{hub.url}/v1/desks", headers={"Authorization": "Bearer tok-s.a"}, timeout=5
    ).json()
    assert next(d for d in desks if d["id"] == "g2")["online"] is True
    # The token the desk had before is replaced; the code works once.
    assert (
        httpx.get(
            f"{hub.url}/v1/codes", headers={"Authorization": "Bearer tok-g2"}, timeout=5
        ).status_code
        == 401
    )
    again = run(
        hub,
        "enrol",
        code,
        "--hub",
        hub.url,
        "--config",
        str(tmp_path / "other.toml"),
        env=workstation(tmp_path, "pc8"),
    )
    assert again.returncode == 1 and len(again.stderr.splitlines()) == 1
    assert "already used" in again.stderr
    assert not (tmp_path / "other.toml").exists()


def test_an_expired_or_unknown_code_is_refused_in_one_line_and_counted(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    import time

    hub = hub_process()
    code = enrol_code(hub, tmp_path, "g1", "--minutes", "0.02")  # about a second
    time.sleep(1.5)
    expired = httpx.post(f"{hub.url}/v1/enrol", json={"code": code}, timeout=5)
    assert expired.status_code == 403 and expired.json()["error"] == "enrol_expired"
    unknown = httpx.post(f"{hub.url}/v1/enrol", json={"code": "AAAA-BBBB-CCCC"}, timeout=5)
    assert unknown.status_code == 403 and unknown.json()["error"] == "enrol_unknown"
    presence = httpx.get(
        f"{hub.url}/v1/presence", headers={"Authorization": "Bearer tok-s.a"}, timeout=5
    ).json()
    assert sum(t["count"] for t in presence["refused_tokens"]) == 2  # counted as refused tokens
    assert (
        httpx.get(
            f"{hub.url}/v1/codes", headers={"Authorization": "Bearer tok-g1"}, timeout=5
        ).status_code
        == 200
    )  # nothing changed for g1


@pytest.mark.stores("sqlite")
def test_the_code_is_shown_as_a_qr_code_of_the_command(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    hub = hub_process()
    done = run(
        hub,
        "hub",
        "enrol",
        "g1",
        "--config",
        str(tmp_path / "hub.toml"),
        "--data-dir",
        str(tmp_path / "data"),
        "--url",
        hub.url,
    )
    assert done.returncode == 0
    assert sum(1 for line in done.stdout.splitlines() if "█" in line) > 10
    nobody = run(
        hub,
        "hub",
        "enrol",
        "nobody",
        "--config",
        str(tmp_path / "hub.toml"),
        "--data-dir",
        str(tmp_path / "data"),
        "--url",
        hub.url,
    )
    assert (
        nobody.returncode == 2 and "« nobody » n'est ni un poste ni un encadrant" in nobody.stderr
    )
