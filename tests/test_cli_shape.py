"""The command line's shape: one version everywhere, a help that loads neither the hub's web stack
nor Textual, and `hub oncall` / `hub migrate` parsed on their own.

The version and the imports are read from processes of their own (the console script, a fresh
interpreter's sys.modules); the parsers' answers from `deskalert.cli.main` in this process."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import deskalert
from support.cli import run_cli

ROOT = Path(__file__).resolve().parent.parent


def test_the_version_is_written_once_and_deskalert_version_prints_it() -> None:
    """pyproject.toml said 0.1.0 and deskalert/__init__.py said it again: two places to bump."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "deskalert.__version__"}
    assert importlib.metadata.version("deskalert") == deskalert.__version__
    script = Path(sys.executable).with_name("deskalert")  # the console script of pyproject
    for command in ([str(script)], [sys.executable, "-m", "deskalert"]):
        shown = subprocess.run(
            [*command, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
        assert (shown.returncode, shown.stdout) == (0, f"deskalert {deskalert.__version__}\n")


def test_help_and_the_desk_command_load_no_web_framework() -> None:
    """The desk's machine starts `deskalert desk` fast: the CLI imports the hub's FastAPI app,
    uvicorn or Textual only in the handler that needs them."""
    probe = (
        "import sys\n"
        "from deskalert.cli import build_parser\n"
        "build_parser().format_help()\n"
        "web = ('fastapi', 'starlette', 'uvicorn')\n"
        "print(sorted(m for m in (*web, 'textual') if m in sys.modules))\n"
        "import deskalert.tui.desk.app\n"
        "print(sorted(m for m in web if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "[]"]


def test_hub_options_before_oncall_are_refused_not_dropped() -> None:
    """argparse subcommands under `hub` would run `hub --config x oncall` with oncall's default
    --config, silently; `hub oncall` and `hub migrate` keep parsers of their own."""
    result = run_cli("hub", "--config", "x.toml", "oncall")
    assert result.returncode == 2
    assert result.stderr == (
        "deskalert : erreur : arguments non reconnus : oncall (voir deskalert --help)\n"
    )
    result = run_cli("hub", "oncall", "--bogus")
    assert result.returncode == 2
    assert result.stderr == (
        "deskalert hub oncall : erreur : arguments non reconnus : --bogus"
        " (voir deskalert hub oncall --help)\n"
    )
