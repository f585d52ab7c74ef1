"""`deskalert hub --log-format json`: every line a hub process writes on stderr is one JSON object
with time, level, logger and message (for a SIEM)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from deskalert.hub.jsonlog import JsonLines
from support.hubs import listening_url
from support.roster import roster_toml


@pytest.mark.stores("sqlite")  # the log's shape does not depend on the store
def test_a_hub_logs_json_lines(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(roster_toml(), encoding="utf-8")
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
            str(tmp_path / "data"),
            "--log-format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        url = next(filter(None, map(listening_url, process.stdout)))
        refused = httpx.get(f"{url}/v1/alerts", headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    lines = [json.loads(line) for line in stderr.splitlines()]  # each line, JSON or it fails
    assert lines, "the hub wrote no log line"
    for line in lines:
        assert {"time", "level", "logger", "message"} <= set(line), line
        assert line["time"].endswith("+00:00")
    assert any(
        line["logger"] == "deskalert.hub"
        and line["level"] == "warning"
        and "refused" in line["message"]
        for line in lines
    ), lines


def test_extras_are_fields_of_their_own() -> None:
    record = logging.LogRecord(
        "deskalert.hub", logging.INFO, __file__, 1, "desk %s online", ("g1",), None
    )
    record.desk = "g1"
    record.site = object()  # not JSON: written as its str()
    line = json.loads(JsonLines().format(record))
    assert line["message"] == "desk g1 online" and line["desk"] == "g1"
    assert line["level"] == "info" and isinstance(line["site"], str)
    assert "args" not in line and "msg" not in line
