"""The demo as the README tells it: `--demo` finds the demo desks' journals, the help's examples
parse, the goodbye names commands the way the person launched deskalert."""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
from pathlib import Path

import pytest

from deskalert import cli
from deskalert.cli.demo import demo_goodbye, launcher
from deskalert.client.profile import demo_data_dir
from deskalert.journal.models import NoteDraft
from deskalert.journal.store import Journal
from support.cli import Result, run_cli
from test_debrief import data_set


def run(env: dict[str, str], *args: str) -> Result:
    return run_cli(*args, env=env)


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    """A machine where `deskalert demo` ran: Guichet 3's journal holds the debrief data set."""
    data = tmp_path / "data"
    journal = Journal(data / "deskalert" / "demo" / "journal-guichet-3.sqlite3")
    for incident in data_set():
        journal.record_alert(incident.alert)
        for note in incident.notes:
            journal.finish_note(incident.alert.id, NoteDraft(), note)
    journal.close()
    env = {k: v for k, v in os.environ.items() if k not in ("DESKALERT_CONFIG", "DESKALERT_TOKEN")}
    return {**env, "XDG_DATA_HOME": str(data), "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_report_and_export_with_demo_read_the_demo_desks_journal(demo_env: dict[str, str]) -> None:
    """They failed (no config.toml) or printed "0 alerte(s)" from a journal they just created."""
    report = run(demo_env, "report", "--demo")
    assert report.returncode == 0, report.stderr
    assert "2 alertes réelles" in report.stdout and "du 16/11/2026 au 24/11/2026" in report.stdout
    exported = run(demo_env, "export", "--demo", "guichet-3", "--format", "json")
    assert exported.returncode == 0 and len(json.loads(exported.stdout)) == 4
    english = run(demo_env, "report", "--demo", "--language", "en")
    assert "2 real alerts, 1 drill (counted apart), 1 false alarm" in english.stdout


def test_demo_ids_and_options_are_checked_in_one_line(demo_env: dict[str, str]) -> None:
    for args, expected in (
        (("report", "--demo", "guichet-9"), "n'est ni un poste ni un encadrant"),
        (("journal", "--demo", "p.leroy"), "n'est pas un poste"),
        (("report", "--port", "9"), "--port va avec --demo"),
    ):
        result = run(demo_env, *args)
        assert result.returncode == 2 and expected in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1


def test_the_examples_of_demo_help_parse() -> None:
    """`deskalert demo --help` showed `demo --join guichet-2`, which argparse rejects."""
    shown = run(dict(os.environ), "demo", "--help")
    assert shown.returncode == 0
    examples = re.findall(r"`deskalert ([^`]+)`", " ".join(shown.stdout.split()))
    assert len(examples) == 5
    parser = cli.build_parser()
    for example in examples:
        parser.parse_args(shlex.split(example))  # exits 2 on a usage error


@pytest.mark.parametrize(
    ("argv0", "on_path", "expected"),
    [
        (".venv/bin/deskalert", False, ".venv/bin/deskalert"),  # make run
        ("{cwd}/.venv/bin/deskalert", False, ".venv/bin/deskalert"),
        ("{cwd}/.venv/bin/deskalert", True, "deskalert"),  # found on PATH (venv activated)
        ("{cwd}/src/deskalert/__main__.py", False, "{python} -m deskalert"),
    ],
)
def test_the_goodbye_names_commands_as_deskalert_was_launched(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, argv0: str, on_path: bool, expected: str
) -> None:
    program = tmp_path / ".venv" / "bin" / "deskalert"
    program.parent.mkdir(parents=True)
    program.write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [argv0.format(cwd=tmp_path)])
    monkeypatch.setattr("shutil.which", lambda name: str(program) if on_path else None)
    monkeypatch.setattr(sys, "executable", str(tmp_path / ".venv" / "bin" / "python"))
    assert launcher() == expected.format(python=".venv/bin/python")


def test_send_with_a_code_after_demo_says_to_put_the_code_first(demo_env: dict[str, str]) -> None:
    """`send --demo renfort` gave "renfort" to --demo and said only that CODE was missing."""
    said = run(demo_env, "send", "--demo", "renfort")
    assert said.returncode == 2 and said.stderr.count("\n") == 1, said.stderr
    assert "« renfort » est un code, pas un poste de démonstration" in said.stderr
    assert "écrire `deskalert send renfort --demo`" in said.stderr
    english = run(demo_env, "send", "--demo", "malaise", "--language", "en")
    assert '"malaise" is a code, not a demo desk: write `deskalert send malaise --demo`' in (
        english.stderr
    )


def test_the_goodbye_of_a_demo_in_another_dir_reads_that_dir(
    demo_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A demo started with --data-dir printed `report --demo`, which read the default demo."""
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "data" / "deskalert" / "demo").rename(elsewhere)
    monkeypatch.setenv("XDG_DATA_HOME", demo_env["XDG_DATA_HOME"])
    args = argparse.Namespace(port=8471, data_dir=elsewhere, desk="guichet-3")
    said = demo_goodbye("deskalert", elsewhere / "hub.log", "http://127.0.0.1:8471", args)
    report = next(line.split(maxsplit=1)[1] for line in said.splitlines() if " report " in line)
    assert f"--port 8471 --data-dir {elsewhere}" in report
    shown = run(demo_env, *shlex.split(report))
    assert shown.returncode == 0 and "2 alertes réelles" in shown.stdout, shown.stderr
    joins = [line for line in said.splitlines() if "--join" in line]
    assert joins and all(f"--data-dir {elsewhere}" in line for line in joins)
    assert "--data-dir" not in demo_goodbye(
        "deskalert", elsewhere, "", argparse.Namespace(port=8470, data_dir=demo_data_dir(), desk="")
    )
