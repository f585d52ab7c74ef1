"""The `deskalert` command run in the test's own process: `run_cli(*argv)` calls
`deskalert.cli.main(argv)` as `python -m deskalert ...` would, without a second of imports.

What a separate process would have kept apart is set for the run and put back after it, so
that one run leaves nothing to the next one or to the test (pytest-xdist runs each worker's
tests one after another in one process): sys.argv, sys.stdin/stdout/stderr, the environment,
the working directory, the umask, the logging set-up (the hub's `basicConfig(force=True)`
would otherwise remove pytest's own handlers), the signal handlers, the event loop policy, and
deskalert's process-wide choices (the language, argparse's words in it, the site's time zone).

What the process itself does is not tested here; tests where it is (the console script, exit
on a signal, kill -9, a second process holding a file, the README's commands) keep
`subprocess`. Unlike a fresh process, the i18n catalogue stays strict (tests/conftest.py): a
message id missing from a catalogue fails the test instead of printing the id.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import deskalert
from deskalert import i18n, sitetime
from deskalert.cli import main, words

# sys.argv[0] as `python -m deskalert` sets it (the demo names commands after it).
MAIN = str(Path(deskalert.__file__).with_name("__main__.py"))

SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGPIPE")
    if hasattr(signal, name)
)


@dataclass(frozen=True)
class Result:
    """What a finished `deskalert` run left: its exit code and what it wrote."""

    code: int
    out: str
    err: str

    # The names of subprocess.CompletedProcess, so that a test reads the same either way.
    @property
    def returncode(self) -> int:
        return self.code

    @property
    def stdout(self) -> str:
        return self.out

    @property
    def stderr(self) -> str:
        return self.err


class _Output(io.TextIOWrapper):
    """A text stream over bytes (as a pipe is: `.buffer` works), never a terminal."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", errors="backslashreplace")

    def text(self) -> str:
        self.flush()
        raw = self.buffer
        assert isinstance(raw, io.BytesIO)
        return raw.getvalue().decode("utf-8")


def run_cli(
    *argv: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    stdin: str = "",
    cwd: str | os.PathLike[str] | None = None,
) -> Result:
    """`deskalert *argv` in this process. `env` is the whole environment (as subprocess's
    `env=`; None: this process's), `stdin` what the command reads, `cwd` where it runs.
    An exception that escapes `main` is printed as Python would print it (a traceback on
    stderr, exit 1): a test that says "no traceback" fails on it as it did on a process."""
    words = [os.fspath(word) for word in argv]
    out, err = _Output(), _Output()
    with _isolated(words, env, stdin, cwd, out, err):
        code = _exit_code(words, err)
    return Result(code, out.text(), err.text())


def _exit_code(argv: list[str], err: _Output) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's usage errors and --help, sys.exit in a handler
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)  # sys.exit("message"), as the interpreter does
        return 1
    except BaseException:  # noqa: BLE001 - a crash becomes what a process shows: a traceback
        traceback.print_exc(file=err)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


@contextlib.contextmanager
def _isolated(
    argv: list[str],
    env: Mapping[str, str] | None,
    stdin: str,
    cwd: str | os.PathLike[str] | None,
    out: _Output,
    err: _Output,
) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        stack.enter_context(_environment(env))
        stack.enter_context(_working_directory(cwd))
        stack.enter_context(_process_state())
        stack.enter_context(_logging())
        stack.enter_context(_streams(argv, stdin, out, err))
        stack.enter_context(_warnings(err))
        yield


@contextlib.contextmanager
def _warnings(err: _Output) -> Iterator[None]:
    """Python's default warning filters (pytest's are put back after); what they let through
    is written to stderr as the interpreter would."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        try:
            yield
        finally:
            for shown in caught:
                err.write(
                    warnings.formatwarning(
                        shown.message, shown.category, shown.filename, shown.lineno, shown.line
                    )
                )


@contextlib.contextmanager
def _environment(env: Mapping[str, str] | None) -> Iterator[None]:
    """The whole environment for the run; TZ read again (time.tzset) on the way in and out, as
    a fresh process would read it: the C library otherwise keeps the zone it read first."""
    saved = dict(os.environ)
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
        _read_zone()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _read_zone()


def _read_zone() -> None:
    if hasattr(time, "tzset"):  # POSIX
        time.tzset()


@contextlib.contextmanager
def _working_directory(cwd: str | os.PathLike[str] | None) -> Iterator[None]:
    saved = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved)


@contextlib.contextmanager
def _process_state() -> Iterator[None]:
    umask = os.umask(0o022)
    os.umask(umask)
    # Only the main thread sets signal handlers; run from another thread (a test whose event
    # loop runs on meanwhile, `asyncio.to_thread(run_cli, ...)`), a command cannot change them.
    in_main = threading.current_thread() is threading.main_thread()
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS} if in_main else {}
    policy = asyncio.get_event_loop_policy()
    language, strict, zone = i18n.language(), i18n._state["strict"], sitetime._zone["site"]
    argparse_words = (argparse._, argparse.ngettext)  # deskalert.cli.words points them
    explicit = dict(words._explicit)
    try:
        yield
    finally:
        argparse._, argparse.ngettext = argparse_words
        words._explicit.clear()
        words._explicit.update(explicit)
        os.umask(umask)
        for signum, handler in handlers.items():
            if handler is not None:
                signal.signal(signum, handler)
        asyncio.set_event_loop_policy(policy)
        i18n.set_language(language)
        i18n.set_strict(bool(strict))
        sitetime._zone["site"] = zone


@contextlib.contextmanager
def _logging() -> Iterator[None]:
    """Logging as a fresh process has it, then the root logger's handlers and level, and each
    named logger's, as they were."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level, logging.root.manager.disable)
    named: dict[str, tuple[list[logging.Handler], int, bool, bool]] = {
        name: (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    # As in a fresh process: no handler on the root logger (pytest's are put back after), so
    # a warning goes to stderr through logging's last resort and `basicConfig` takes effect.
    # What the test's other threads log meanwhile (a threaded hub's warnings) is not the
    # command's: it goes to pytest's handlers, as it would without the run.
    last_resort = logging.lastResort
    logging.lastResort = _LastResort(set(threading.enumerate()), saved_root[0])
    root.handlers[:] = []
    root.setLevel(logging.WARNING)
    logging.disable(logging.NOTSET)
    try:
        yield
    finally:
        logging.lastResort = last_resort
        _close_new(root.handlers, saved_root[0])
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])
        logging.disable(saved_root[2])
        for name, logger in list(logging.root.manager.loggerDict.items()):
            if not isinstance(logger, logging.Logger):
                continue
            before = named.get(name, ([], logging.NOTSET, True, False))
            _close_new(logger.handlers, before[0])
            logger.handlers[:] = before[0]
            logger.setLevel(before[1])
            logger.propagate, logger.disabled = before[2], before[3]


class _LastResort(logging.Handler):
    """logging's last resort (warnings and above, the bare message, to the stderr of now) for
    the command's threads; records of the threads that ran before it go to `others`."""

    def __init__(self, foreign: set[threading.Thread], others: list[logging.Handler]) -> None:
        super().__init__(logging.WARNING)
        self.foreign = foreign - {threading.current_thread()}  # (an ident can be reused)
        self.others = others

    def emit(self, record: logging.LogRecord) -> None:
        if threading.current_thread() in self.foreign:  # emit runs in the logging thread
            for handler in self.others:
                if record.levelno >= handler.level:
                    handler.handle(record)
            return
        sys.stderr.write(self.format(record) + "\n")


def _close_new(now: list[logging.Handler], before: list[logging.Handler]) -> None:
    for handler in now:
        if handler not in before:
            handler.close()


@contextlib.contextmanager
def _streams(argv: list[str], stdin: str, out: _Output, err: _Output) -> Iterator[None]:
    saved: tuple[Any, ...] = (sys.argv, sys.stdin, sys.stdout, sys.stderr)
    sys.argv = [MAIN, *argv]
    sys.stdin = io.StringIO(stdin)
    sys.stdout, sys.stderr = out, err
    try:
        yield
    finally:
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved
