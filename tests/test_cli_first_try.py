"""A first try from the command line (issue 23): a missing config says where it was looked for
and what to do, `send`/`interview`/`hotkeys` run on the demo with --demo, `hub oncall` finds
hub.toml as `hub` does, and a second demo says to join the first. In process (`main(argv)` with
captured output) except the first demo hub, which must be another process holding the files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deskalert.cli.words import use_language
from support.cli import run_cli
from support.hubs import wait_healthy
from support.ports import free_port


@pytest.fixture(autouse=True)
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Config and data directories of the test's own, no DESKALERT_* from outside."""
    for name in [n for n in os.environ if n.startswith("DESKALERT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    yield
    use_language("en")


def cli(*argv: str) -> tuple[int, str, str]:
    done = run_cli(*argv)
    return done.code, done.out, done.err


@pytest.mark.parametrize(
    "argv",
    [["send", "renfort"], ["interview", "start"], ["hotkeys"]],
)
def test_a_missing_config_says_where_it_looked_and_what_to_do(
    tmp_path: Path, argv: list[str]
) -> None:
    expected = tmp_path / "config" / "deskalert" / "config.toml"
    code, _, err = cli(*argv)
    assert code == 2 and err.count("\n") == 1, err
    assert "cherché dans --config (non donné), puis $DESKALERT_CONFIG (non définie)" in err
    assert f"puis {expected} (absent)" in err
    assert "config.example.toml" in err and "deskalert enrol" in err
    assert "DESKALERT_TOKEN" in err
    command = " ".join(w for w in argv if w != "renfort")
    assert err.rstrip().endswith(f"`deskalert demo` (`make run`) : deskalert {command} --demo")
    code, _, err = cli("--language", "en", *argv)
    assert code == 2 and "no config.toml: looked in --config (not given)" in err
    assert err.rstrip().endswith(f"instead: deskalert {command} --demo")


def test_send_with_demo_uses_the_demo_desk_and_its_journal(tmp_path: Path) -> None:
    """No demo hub listens on this port: the alert is queued in the demo desk's journal."""
    port = free_port()
    code, _, err = cli("send", "--demo", "--port", str(port), "renfort", "--timeout", "0.3")
    assert code == 1 and "ALERTE NON TRANSMISE" in err, err
    assert (tmp_path / "data" / "deskalert" / "demo" / "journal-guichet-3.sqlite3").exists()


def test_hub_oncall_without_config_says_where_it_looked_like_hub(tmp_path: Path) -> None:
    expected = tmp_path / "config" / "deskalert" / "hub.toml"
    for argv in (["hub"], ["hub", "oncall"]):
        code, _, err = cli(*argv)
        assert code == 2 and err.count("\n") == 1, err
        assert f"cherché --config (non donné), puis {expected} (absent)" in err
        assert "hub.example.toml" in err and "deskalert token new" in err


@pytest.mark.system
def test_a_second_demo_says_to_join_the_first(tmp_path: Path) -> None:
    port = free_port()
    first = subprocess.Popen(
        [sys.executable, "-m", "deskalert", "demo", "--hub-only", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}")
        for extra in ([], ["--hub-only"]):
            code, _, err = cli("demo", *extra, "--port", str(port))
            assert code == 2 and err.count("\n") == 1, err
            assert "une démo tourne déjà : rejoignez-la avec `" in err
            assert f"demo --join --port {port}`" in err
        code, _, err = cli("--language", "en", "demo", "--port", str(port))
        assert code == 2 and "a demo is already running: join it with `" in err
    finally:
        first.terminate()
        first.wait(timeout=30)


def test_a_demo_on_a_busy_port_names_port(tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        code, _, err = cli("demo", "--hub-only", "--port", str(port))
    assert code == 2, err
    assert err.splitlines()[-1] == (
        f"deskalert : le port {port} est pris par un autre programme : choisissez-en un autre"
        " avec --port (par défaut : 8470)"
    )


@pytest.mark.parametrize(
    ("configured", "explicit", "env", "expected"),
    [
        ("fr", [], {}, "ALERTE NON TRANSMISE"),
        ("en", [], {}, "ALERT NOT TRANSMITTED"),
        ("fr", ["--language", "en"], {}, "ALERT NOT TRANSMITTED"),
        ("fr", [], {"DESKALERT_LANG": "en"}, "ALERT NOT TRANSMITTED"),
        ("en", ["--language", "fr"], {}, "ALERTE NON TRANSMISE"),
    ],
)
def test_an_explicit_language_outlives_the_config_files(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    configured: str,
    explicit: list[str],
    env: dict[str, str],
    expected: str,
) -> None:
    """`--language`/DESKALERT_LANG chose the help's language; loading config.toml must not
    switch the command's own messages back to the file's language."""
    config = tmp_path / "config.toml"
    url = f"http://127.0.0.1:{free_port()}"
    config.write_text(f'language = "{configured}"\n[hub]\nurl = "{url}"\n[desk]\nid = "g1"\n')
    monkeypatch.setenv("DESKALERT_CONFIG", str(config))
    monkeypatch.setenv("DESKALERT_TOKEN", "tok-g1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _, err = cli(*explicit, "send", "renfort", "--timeout", "0.3")
    assert code == 1 and expected in err, err


@pytest.mark.system
def test_demo_fresh_starts_without_the_earlier_alerts_and_never_under_a_running_demo(
    tmp_path: Path,
) -> None:
    """The demo kept its alerts from one run to the next, with nothing to start clean."""
    data, port = tmp_path / "demo", free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "deskalert", "demo", "--hub-only", "--data-dir", str(data)]
    first = subprocess.Popen([*command, "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        wait_healthy(url)
        demo = ("--demo", "--port", str(port), "--data-dir", str(data))
        code, _, err = cli("send", "renfort", *demo)
        assert code == 0, err
        assert len(open_alerts(url)) == 1
        code, _, err = cli("demo", "--fresh", "--hub-only", "--data-dir", str(data), "--port", "0")
        assert code == 2 and "une démo tourne déjà" in err, err  # its files left alone
    finally:
        first.terminate()
        first.wait(timeout=30)
    (data / "notes.txt").write_text("mine")
    again = subprocess.Popen([*command, "--fresh", "--port", str(port)], stdout=subprocess.DEVNULL)
    try:
        wait_healthy(url)
        assert open_alerts(url) == []
    finally:
        again.terminate()
        again.wait(timeout=30)
    assert not (data / "journal-guichet-3.sqlite3").exists()
    assert (data / "notes.txt").read_text() == "mine"  # only the demo's own files go


def open_alerts(url: str) -> list[object]:
    answer = httpx.get(f"{url}/v1/alerts", headers={"Authorization": "Bearer demo-p.leroy"})
    answer.raise_for_status()
    return list(answer.json())
