"""tests/support/cli.py: `deskalert` in the test's process answers as the process would, and
leaves the test's process as it found it."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from deskalert import i18n, sitetime
from deskalert.cli import words
from support import cli
from support.cli import _environment as _environment_for_test
from support.cli import run_cli


def with_main(monkeypatch: pytest.MonkeyPatch, main: Callable[[list[str]], int]) -> None:
    monkeypatch.setattr(cli, "main", main)


def test_a_run_leaves_the_process_as_it_found_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, object] = {}

    def main(argv: list[str]) -> int:
        seen.update(argv=argv, sys_argv=list(sys.argv), env=dict(os.environ), cwd=Path.cwd())
        os.environ["DESKALERT_LEFT_BEHIND"] = "1"
        os.chdir("/")
        os.umask(0o077)
        logging.basicConfig(level=logging.DEBUG, force=True)
        logging.getLogger("deskalert.left").setLevel(logging.DEBUG)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        i18n.set_language("en")
        words.use_language("fr")  # argparse's own words in French
        sitetime.set_zone("Asia/Tokyo")
        return 3

    with_main(monkeypatch, main)
    root = logging.getLogger()
    before = (
        dict(os.environ),
        Path.cwd(),
        list(root.handlers),
        root.level,
        signal.getsignal(signal.SIGHUP),
        sitetime.zone(),
        argparse._,
    )
    umask = os.umask(0o022)
    os.umask(umask)
    result = run_cli("send", tmp_path, env={"ONLY": "this"}, cwd=tmp_path)
    assert result.code == 3
    assert seen == {
        "argv": ["send", str(tmp_path)],
        "sys_argv": [cli.MAIN, "send", str(tmp_path)],
        "env": {"ONLY": "this"},
        "cwd": tmp_path,
    }
    after = (
        dict(os.environ),
        Path.cwd(),
        list(root.handlers),
        root.level,
        signal.getsignal(signal.SIGHUP),
        sitetime.zone(),
        argparse._,
    )
    assert after == before
    assert after[-1] is before[-1], "argparse speaks as before the run"
    assert os.umask(umask) == umask
    assert logging.getLogger("deskalert.left").level == logging.NOTSET
    assert i18n.language() == "fr"


def test_exits_and_crashes_become_the_codes_and_stderr_of_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run_cli("--version").code == 0
    usage = run_cli("hub", "--prot", "1")
    assert usage.code == 2 and "arguments non reconnus : --prot" in usage.err

    def exits(argv: list[str]) -> int:
        sys.exit("stopped: " + argv[0])

    with_main(monkeypatch, exits)
    assert run_cli("x") == cli.Result(1, "", "stopped: x\n")

    def crashes(argv: list[str]) -> int:
        print("before the crash")
        raise KeyError("boom")

    with_main(monkeypatch, crashes)
    crashed = run_cli()
    assert (crashed.code, crashed.out) == (1, "before the crash\n")
    assert crashed.err.startswith("Traceback") and crashed.err.endswith("KeyError: 'boom'\n")


def test_log_warnings_and_python_warnings_reach_stderr_as_in_a_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def noisy(argv: list[str]) -> int:
        logging.getLogger("deskalert.noisy").info("not shown without a handler")
        logging.getLogger("deskalert.noisy").warning("a logged warning")
        warnings.warn("a python warning", UserWarning, stacklevel=1)
        warnings.warn("an ignored one", DeprecationWarning, stacklevel=1)
        return 0

    with_main(monkeypatch, noisy)
    result = run_cli()
    assert result.err.splitlines()[0] == "a logged warning"
    assert "UserWarning: a python warning" in result.err
    assert "not shown" not in result.err and "ignored" not in result.err


def test_the_same_usage_error_in_a_process_and_in_process() -> None:
    argv = ["hub", "oncall", "--bogus"]
    process = subprocess.run(
        [sys.executable, "-m", "deskalert", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    here = run_cli(*argv)
    assert (here.code, here.out, here.err) == (process.returncode, process.stdout, process.stderr)


def test_what_the_tests_other_threads_log_meanwhile_is_not_the_commands(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A threaded hub beside the command logs its own warnings: a process of the command's
    would not have printed them (test_desk_outside_network's one-line refusal)."""
    go = threading.Event()

    def hub_side() -> None:
        go.wait(5)
        logging.getLogger("deskalert.hub").warning("the hub's own line")

    beside = threading.Thread(target=hub_side)
    beside.start()

    def main(argv: list[str]) -> int:
        go.set()
        beside.join(5)
        command_side = threading.Thread(
            target=lambda: logging.getLogger("deskalert.cli").warning("the command's thread")
        )
        command_side.start()
        command_side.join(5)
        return 0

    with_main(monkeypatch, main)
    assert run_cli().err == "the command's thread\n"
    assert "the hub's own line" in caplog.text


def test_a_run_from_another_thread_while_the_tests_loop_runs_on() -> None:
    """test_restore.py and test_failover.py run a command in `asyncio.to_thread` while their
    event loop serves followers: only the main thread may touch signal handlers."""
    done: dict[str, cli.Result] = {}
    worker = threading.Thread(target=lambda: done.update(version=run_cli("--version")))
    worker.start()
    worker.join(30)
    assert done["version"].code == 0 and done["version"].out.startswith("deskalert ")


def test_the_runs_time_zone_is_its_environments_and_the_tests_comes_back() -> None:
    """A command run with TZ set shows its times in that zone even when this process has
    already used another one (the C library keeps the first zone it reads until tzset)."""
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    before = moment.astimezone().strftime("%H:%M")
    seen: list[str] = []
    with _environment_for_test({**os.environ, "TZ": "Asia/Tokyo"}):
        seen.append(moment.astimezone().strftime("%H:%M"))
    assert seen == ["21:00"]
    assert moment.astimezone().strftime("%H:%M") == before
