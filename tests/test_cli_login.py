"""`deskalert login` (issue 23): where the token goes is said before it is asked for, and with no
terminal on standard input it says so in one line instead of a traceback."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # a real process: the point is its terminal

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def login_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    config = tmp_path / "config.toml"
    config.write_text('[hub]\nurl = "http://127.0.0.1:1"\n[desk]\nid = "guichet-1"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKALERT_")}
    return env | NO_KEYRING | {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), **extra}


def login(tmp_path: Path, env: dict[str, str], stdin: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "deskalert", "login", "--config", str(tmp_path / "config.toml")],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # no controlling terminal: getpass reads the given stdin
    )


@pytest.mark.parametrize(
    ("language", "keyring_line", "terminal_line"),
    [
        ("fr", "cette machine n'a pas de trousseau système", "pas de terminal où taper le jeton"),
        ("en", "this machine has no system keyring", "no terminal to type the token in"),
    ],
)
def test_login_without_a_terminal_says_so_in_one_line(
    tmp_path: Path, language: str, keyring_line: str, terminal_line: str
) -> None:
    env = login_env(tmp_path, DESKALERT_LANG=language)
    with open(os.devnull, "rb") as devnull:
        process = login(tmp_path, env, devnull.fileno())
        out, err = process.communicate(timeout=30)
    lines = err.decode().splitlines()
    assert process.returncode == 2, err
    assert len(lines) == 2 and "Traceback" not in err.decode()
    assert keyring_line in lines[0] and "(0600)" in lines[0]  # before anything is asked
    assert terminal_line in lines[1] and "DESKALERT_TOKEN" in lines[1]
    assert out == b""


def test_login_says_there_is_no_keyring_before_asking_and_keeps_a_0600_file(
    tmp_path: Path,
) -> None:
    master, slave = os.openpty()
    process = login(tmp_path, login_env(tmp_path), slave)
    os.close(slave)
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + 30
    while b"jeton de guichet-1" not in seen and time.monotonic() < deadline:
        if _readable(process.stderr.fileno()):
            seen += os.read(process.stderr.fileno(), 1024)
    os.write(master, b"s3cret-token\n")  # typed once asked (getpass flushes what came before)
    out, err = process.communicate(timeout=30)
    os.close(master)
    shown = (seen + err).decode()
    assert process.returncode == 0, shown
    assert shown.index("pas de trousseau système") < shown.index("jeton de guichet-1")
    kept = tmp_path / "xdg" / "deskalert" / "token-guichet-1"
    assert kept.read_text() == "s3cret-token\n"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert str(kept) in out.decode()


def _readable(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0.1)[0])
