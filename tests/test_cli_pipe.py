"""A `deskalert` command piped into `head`: the reader goes away, the command exits quietly
(Python's "Note on SIGPIPE"), never with a BrokenPipeError traceback. A real process and a real
pipe: the pipe is the point."""

from __future__ import annotations

import subprocess
import sys


def test_a_closed_pipe_ends_the_command_without_a_traceback() -> None:
    """`deskalert token new | head -1` (and every command that prints) ended in a
    BrokenPipeError traceback. (argparse's --help swallows its own write errors.)"""
    process = subprocess.Popen(
        [sys.executable, "-m", "deskalert", "token", "new"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before it writes: its first write meets a closed pipe
    err = process.stderr.read()
    assert process.wait(timeout=30) == 1
    assert err == "", err
