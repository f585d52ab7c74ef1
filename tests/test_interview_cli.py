"""`deskalert interview start / stop`, run as a user would: a process, a real hub."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.cli import Result, run_cli
from support.hubs import RunningHub

# What is tested is the command, not the store: SQLite only. Sessions' SQL is checked on
# SQLite and PostgreSQL in test_store_contract_rows.py.
pytestmark = pytest.mark.stores("sqlite")


def desk_env(tmp_path: Path, url: str, desk: str = "g1") -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[hub]\nurl = "{url}"\n[desk]\nid = "{desk}"\nduress_key = "o"\n', encoding="utf-8"
    )
    return {
        **os.environ,
        "DESKALERT_CONFIG": str(config),
        "DESKALERT_TOKEN": f"tok-{desk}",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
    }


def interview(env: dict[str, str], *args: str) -> Result:
    return run_cli("interview", *args, env=env)


def test_start_then_stop_exit_0_and_the_hub_holds_then_closes_it(
    hub: RunningHub, tmp_path: Path
) -> None:
    env = desk_env(tmp_path, hub.url)
    started = interview(env, "start", "--minutes", "20", "--room", "Box A")
    assert started.returncode == 0, started.stderr
    assert "Box A" in started.stdout and "20 min" in started.stdout
    with hub.client("s.a") as sup:
        [session] = sup.get("/v1/sessions").json()
    assert session["desk"] == "g1" and session["room"] == "Box A"
    stopped = interview(env, "stop")
    assert stopped.returncode == 0 and "1 entretien terminé" in stopped.stdout
    with hub.client("s.a") as sup:
        assert sup.get("/v1/sessions").json() == []


def test_hub_down_exits_1_in_one_line(tmp_path: Path) -> None:
    result = interview(desk_env(tmp_path, "http://127.0.0.1:9"), "start")
    assert result.returncode == 1 and result.stderr.count("\n") == 1


def test_bad_minutes_exit_2(hub: RunningHub, tmp_path: Path) -> None:
    result = interview(desk_env(tmp_path, hub.url), "start", "--minutes", "0")
    assert result.returncode == 2 and "--minutes" in result.stderr
