"""hub.toml validation and the command line: one clear line, a non-zero exit, no traceback."""

from __future__ import annotations

import socket
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deskalert.errors import ConfigError
from deskalert.hub.oncall import compute_oncall
from deskalert.hub.settings import HubConfig, load_hub_config, token_hash
from support.cli import run_cli
from support.roster import make_config, roster_toml

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_example_is_valid_with_three_codes_two_sites() -> None:
    config = load_hub_config(ROOT / "hub.example.toml")
    assert len(config.codes) >= 3 and len(config.sites) == 2
    assert {"renfort", "hulk", "malaise"} <= {c.code for c in config.codes}
    assert next(c for c in config.codes if c.code == "renfort").discreet


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('site = "etage"', 'site = "nowhere"', "desks[2].site : 'nowhere' inconnu"),
        ('key = "f4"', 'key = "F2"', "codes : key 'f2' figure plusieurs fois"),
        ("heartbeat_s = 5", "heartbeat_s = -1", "hub.heartbeat_s : doit être > 0"),
        (
            "heartbeat_s = 5",
            "hartbeat_s = 5",
            "hub.hartbeat_s : clé inconnue ; vouliez-vous dire heartbeat_s ?",
        ),
        ('backup = ["s.b"]', 'backup = ["s.z"]', "oncall[0].backup : 's.z' inconnu"),
        ('timezone = "Europe/Paris"', 'timezone = "Mars/Olympus"', "fuseau horaire inconnu"),
        ('start = "00:00"', 'start = "25:00"', "oncall[0].start"),
        (
            '[[codes]]\ncode = "renfort"',
            '[[codes]]\ncode = "renfort"\ncode = "x"',
            "pas du TOML valable à la ligne 13, colonne 11 : une clé reçoit une valeur deux fois",
        ),
    ],
)
def test_broken_hub_toml_names_file_key_and_problem(
    tmp_path: Path, replace: str, by: str, expected: str
) -> None:
    text = roster_toml()
    assert replace in text
    path = tmp_path / "hub.toml"
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_hub_config(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_duplicate_token_is_refused(tmp_path: Path) -> None:
    text = roster_toml().replace(token_hash("tok-g2"), token_hash("tok-g1"))
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"token_sha256 .* figure plusieurs fois"):
        load_hub_config(path)


def test_hub_with_broken_config_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(roster_toml().replace('label = "Étage"', 'label = ""'), encoding="utf-8")
    result = run_cli("hub", "--config", str(path), "--port", "0", "--data-dir", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "sites[1].label" in result.stderr


def test_hub_on_a_busy_port_says_so(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(roster_toml(), encoding="utf-8")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(
            "hub", "--config", str(path), "--port", str(port), "--data-dir", str(tmp_path)
        )
    assert result.returncode == 2
    assert (
        f"impossible d'écouter sur 127.0.0.1:{port}" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_tls_needs_both_files(tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(roster_toml(), encoding="utf-8")
    result = run_cli(
        "hub", "--config", str(path), "--tls-cert", str(path), "--data-dir", str(tmp_path)
    )
    assert result.returncode == 2 and "--tls-cert et --tls-key vont ensemble" in result.stderr


def test_help_lists_every_subcommand_and_each_has_help() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("hub", "demo", "token"):
        assert command in result.stdout
        assert run_cli(command, "--help").returncode == 0
    assert run_cli("token", "new", "--help").returncode == 0


def test_unknown_option_is_a_usage_error() -> None:
    result = run_cli("hub", "--prot", "1")
    assert result.returncode == 2 and "arguments non reconnus : --prot" in result.stderr


def test_token_new_prints_a_token_and_its_hash_line() -> None:
    result = run_cli("token", "new")
    lines = result.stdout.splitlines()
    token = lines[1]  # the values alone on their lines, the same in every language
    assert len(token) >= 40 and lines[0].startswith("jeton (à remettre")
    assert lines[3] == f'token_sha256 = "{token_hash(token)}"'
    assert run_cli("token", "new").stdout != result.stdout


def test_token_new_speaks_the_language_and_its_values_stay_the_same() -> None:
    """`token new` printed English only; now its human lines follow --language, and what is
    copied (the token, the token_sha256 line) is alone on its line in either language."""
    french = run_cli("token", "new").stdout.splitlines()
    english = run_cli("--language", "en", "token", "new").stdout.splitlines()
    assert french[0].startswith("jeton") and english[0].startswith("token (give it")
    assert french[2] == "ligne pour hub.toml\u00a0:" and english[2] == "line for hub.toml:"
    for lines in (french, english):
        assert lines[3] == f'token_sha256 = "{token_hash(lines[1])}"'


def test_check_validates_and_exits(tmp_path: Path) -> None:
    result = run_cli("hub", "--config", str(ROOT / "hub.example.toml"), "--check")
    assert result.returncode == 0 and "OK (5 postes, 3 encadrants)" in result.stdout
    result = run_cli(
        "--language", "en", "hub", "--config", str(ROOT / "hub.example.toml"), "--check"
    )
    assert result.returncode == 0 and "OK (5 desks, 3 supervisors)" in result.stdout


# -- on-call slots --------------------------------------------------------------------------


def slots_config(slots: str) -> HubConfig:
    text = roster_toml().split("[[oncall]]")[0] + slots
    return HubConfig.model_validate(tomllib.loads(text))


PARIS_WINTER = "+01:00"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-11-23T09:00:00", "s.a"),  # Monday morning: the day slot
        ("2026-11-23T22:00:00", "s.b"),  # Monday night: the night slot
        ("2026-11-24T06:00:00", "s.b"),  # Tuesday 06:00: Monday's night slot runs on
        ("2026-11-22T06:00:00", "s.b"),  # Sunday 06:00: Saturday's night slot
        ("2026-11-22T12:00:00", None),  # Sunday noon: nobody
    ],
)
def test_slots_by_day_and_past_midnight(when: str, expected: str | None) -> None:
    config = slots_config(
        '[[oncall]]\nsite = "accueil"\nsupervisor = "s.a"\ndays = ["mon","tue","wed","thu","fri"]\n'
        'start = "08:30"\nend = "17:30"\nbackup = ["s.b"]\n\n'
        '[[oncall]]\nsite = "accueil"\nsupervisor = "s.b"\n'
        'days = ["mon","tue","wed","thu","fri","sat"]\n'
        'start = "20:00"\nend = "07:00"\n'
    )
    now = datetime.fromisoformat(when + PARIS_WINTER)
    card = compute_oncall(config, "accueil", now, None)
    assert (card.supervisor.id if card.supervisor else None) == expected


def test_expired_override_no_longer_applies() -> None:
    config = make_config()
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    expired = ("s.c", datetime(2026, 11, 23, 8, tzinfo=UTC))
    card = compute_oncall(config, "accueil", now, expired)
    assert card.supervisor is not None and card.supervisor.id == "s.a"
    assert card.source == "schedule"


def test_listening_socket_is_tcp_so_responses_are_not_delayed_40_ms() -> None:
    # Regression: a socket made with proto=0 made asyncio skip TCP_NODELAY, and every answer
    # waited ~40 ms for a delayed ACK (measured: POST /v1/alerts p50 48 ms, then 2.7 ms).
    from deskalert.hub.server import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
