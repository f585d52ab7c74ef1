"""`deskalert supervise --web` is retired for the hub's page (docs/supervisors/page.md).

It served the terminal pane through textual-serve: a page of any origin could drive it (a
WebSocket with `Origin: http://evil.example` cancelled a real alert) and a pane process
outlived its browser. The page replaces it, and is tested in a real Chromium in
test_page_browser.py; here the old command line gets one line that points to it, and exit 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_web(config: Path | None, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["--config", str(config)] if config else []
    env = {
        **os.environ,
        "DESKALERT_TOKEN": "tok-s.a",
        "DESKALERT_CONFIG": str(config or "/nonexistent/config.toml"),
    }
    return subprocess.run(
        [sys.executable, "-m", "deskalert", "supervise", "--web", *args, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_supervise_web_points_to_the_page_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[hub]\nurl = "http://10.0.0.5:8470"\n[supervisor]\nid = "s.a"\n')
    done = run_web(config, "--port", "8480")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [done.stderr.strip()]  # one line
    assert "http://10.0.0.5:8470/page/" in done.stderr and "n'existe plus" in done.stderr


def test_supervise_web_without_a_config_still_points_to_the_page(tmp_path: Path) -> None:
    done = run_web(None)
    assert done.returncode == 2 and "<hub url>/page/" in done.stderr
