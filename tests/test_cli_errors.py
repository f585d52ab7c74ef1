"""The one-line errors the commands raise themselves speak the command line's language (issue
23): they were English inside a French run ("--minutes: above 0, at most 1440 (a day)"). Values
(ids, paths, options) are the same in both languages. `--language` works after a command's name
as before it, on every command; the demo hub's banner names its roster in that language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import run_cli
from support.hubs import first_lines
from support.roster import roster_toml

# Words that give an English line away; values, options, keys and paths are taken out first.
ENGLISH = {
    "the", "and", "is", "not", "or", "go", "goes", "together", "give", "both", "neither",
    "unknown", "above", "most", "day", "desk", "supervisors", "supervisor", "address", "reaches",
    "no", "running", "with", "found", "file", "cannot", "environment", "leave", "unset", "move",
    "stamps", "only", "out", "its", "own", "tools", "phone", "workstation", "known", "start",
}  # fmt: skip


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory with hub.toml (the tests' roster, no public_url) and no database."""
    (tmp_path / "hub.toml").write_text(roster_toml(), encoding="utf-8")
    (tmp_path / "empty").mkdir()
    for name in ("DESKALERT_LANG", "DESKALERT_DATABASE", "DESKALERT_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


HUB = ("--config", "hub.toml")
ENROL = ("hub", "enrol", "--config", "hub.toml", "--data-dir", "empty")
MIGRATE = ("hub", "migrate", "--to")

# (command line, its French line, its English line): the start of what follows "deskalert: ".
CASES = [
    (
        ("hub", *HUB, "--tls-cert", "hub.toml", "--data-dir", "empty"),
        "--tls-cert et --tls-key vont ensemble : donnez les deux ou aucun",
        "--tls-cert and --tls-key go together: give both or neither",
    ),
    (
        ("hub", *HUB, "--tls-cert", "a.pem", "--tls-key", "b.pem", "--data-dir", "empty"),
        "a.pem : fichier TLS introuvable",
        "a.pem: TLS file not found",
    ),
    (
        ("hub", *HUB, "--notify-test", "s.a"),
        "--notify-test va avec --check",
        "--notify-test goes with --check",
    ),
    (
        ("hub", "oncall", *HUB, "--site", "nowhere"),
        "--site « nowhere » : site inconnu (connus : accueil, etage)",
        "--site 'nowhere': unknown site (known: accueil, etage)",
    ),
    (
        ("hub", "oncall", *HUB, "--at", "24/12/2026"),
        "--at « 24/12/2026 » : pas une date et heure comme « 2026-12-24 22:00 »",
        "--at '24/12/2026': not a date and time like '2026-12-24 22:00'",
    ),
    (
        ("backup", *HUB, "--data-dir", "empty", "--out", "copies"),
        "pas de base en empty/hub.sqlite3",
        "no database at empty/hub.sqlite3",
    ),
    (
        ("backup", *HUB, "--data-dir", "empty", "--restore", "nothing.sqlite3"),
        "nothing.sqlite3 : pas de base de hub ici (le répertoire de données du hub contient",
        "nothing.sqlite3: no such hub database (the hub's data dir holds hub.sqlite3)",
    ),
    (
        (*ENROL, "g1", "--minutes", "0"),
        "--minutes : plus de 0 et au plus 1440 (un jour)",
        "--minutes: above 0, at most 1440 (a day)",
    ),
    (
        (*ENROL, "nobody"),
        "« nobody » n'est ni un poste ni un encadrant de hub.toml (connus : g1, g2, e1, s.a",
        "'nobody' is no desk or supervisor of hub.toml (known: g1, g2, e1, s.a",
    ),
    (
        (*ENROL, "s.a", "--page", "--phone"),
        "--page (le téléphone d'un encadrant) ou --phone (celui d'un agent), pas les deux",
        "--page (a supervisor's phone) or --phone (an agent's), not both",
    ),
    (
        (*ENROL, "g1", "--page"),
        "--page : g1 est un poste ; la page est pour les encadrants",
        "--page: g1 is a desk; the page is for supervisors",
    ),
    (
        (*ENROL, "s.a", "--phone"),
        "--phone : s.a est un encadrant ; le téléphone d'un encadrant : --page",
        "--phone: s.a is a supervisor; a supervisor's phone: --page",
    ),
    (
        (*ENROL, "g1"),
        "--url : l'adresse du hub telle que le poste de travail l'atteint",
        "--url: the hub's address as the workstation reaches it",
    ),
    (
        (*ENROL, "s.a", "--page"),
        "--url : l'adresse du hub telle que le téléphone l'atteint",
        "--url: the hub's address as the phone reaches it",
    ),
    (
        (*ENROL, "g1", "--url", "http://127.0.0.1:1"),
        "pas de base du hub en empty/hub.sqlite3 : donnez le --data-dir du hub",
        "no hub database at empty/hub.sqlite3: give the hub's --data-dir",
    ),
    (
        ("hub", "reload", "--data-dir", "empty", "--timeout", "1"),
        "aucun hub ne tourne avec le répertoire de données empty (aucun processus vivant",
        "no hub is running with the data dir empty (no live process",
    ),
    (
        ("hub", "migrate", "--from", "hub.sqlite3"),
        "--to : la base PostgreSQL (une URL postgresql://, env:NOM, file:/chemin)",
        "--to: the PostgreSQL database (a postgresql:// URL, env:NAME, file:/path)",
    ),
    (
        (*MIGRATE, "env:DESKALERT_TEST_NOTHING", "--new-epoch"),
        "--to : la variable d'environnement DESKALERT_TEST_NOTHING n'est pas définie",
        "--to: environment variable DESKALERT_TEST_NOTHING is not set",
    ),
    (
        (*MIGRATE, "mysql://x/y"),
        "--to : une URL postgresql:// (ou env:NOM, file:/chemin) ; laissez-le vide pour",
        "--to: a postgresql:// URL (or env:NAME, file:/path); leave it unset for",
    ),
    (
        (*MIGRATE, "postgresql://127.0.0.1:1/x", "--new-epoch", "--from", "hub.sqlite3"),
        "--new-epoch marque --to seulement ; retirez --from",
        "--new-epoch stamps --to only; leave out --from",
    ),
    (
        (*MIGRATE, "postgresql://127.0.0.1:1/x"),
        "--from : le hub.sqlite3 à déplacer (ou --new-epoch)",
        "--from: the hub.sqlite3 to move (or --new-epoch)",
    ),
]


def english_words(line: str) -> set[str]:
    """The words of `line` that are English, once values, options and keys are taken out."""
    plain = [w for w in line.split() if not re.search(r"[-/:_.\[]\S|^'|^--", w)]
    return {w.lower() for w in re.findall(r"[A-Za-zÀ-ÿ']+", " ".join(plain))} & ENGLISH


@pytest.mark.parametrize(("argv", "french", "english"), CASES, ids=[c[2][:32] for c in CASES])
@pytest.mark.parametrize("where", ["before", "after"])
def test_a_commands_own_error_is_one_line_in_the_persons_language(
    site: Path, argv: tuple[str, ...], french: str, english: str, where: str
) -> None:
    """French by default, English with --language en, before or after the command's name."""
    for language, expected in (("fr", french), ("en", english)):
        option = ("--language", language)
        line = (*option, *argv) if where == "before" else (*argv, *option)
        done = run_cli(*line)
        assert done.code in (1, 2) and done.out == "", done
        prefix = "deskalert : " if language == "fr" else "deskalert: "
        assert done.err.startswith(f"{prefix}{expected}"), done.err
        assert done.err.count("\n") == 1, done.err
    french_line = run_cli(*argv).err
    assert french_line.startswith(f"deskalert : {french}"), french_line
    assert english_words(french_line) == set(), french_line


def test_a_postgresql_hub_is_not_backed_up_here_in_french(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKALERT_DATABASE", "postgresql://127.0.0.1:1/x")
    done = run_cli("backup", "--config", "absent.toml", "--data-dir", "empty")
    assert done.code == 2 and done.err.count("\n") == 1, done.err
    assert done.err.startswith("deskalert : la base de ce hub est PostgreSQL"), done.err
    assert english_words(done.err) == set(), done.err


@pytest.mark.parametrize(
    "argv",
    [
        ("hub", "--language", "en", "--config", "x.toml", "--check"),
        ("hub", "oncall", "--config", "x.toml", "--language=en"),
        ("backup", "--language", "en", "--config", "hub.toml", "--data-dir", "empty"),
        ("token", "new", "--language", "en"),
    ],
)
def test_the_language_option_is_taken_after_any_command(site: Path, argv: tuple[str, ...]) -> None:
    """`deskalert hub --language en ...` was "unrecognized arguments: --language en"."""
    done = run_cli(*argv)
    assert "--language" not in done.err, done.err
    assert "fichier" not in done.err and "jeton" not in done.out, done


def test_every_commands_help_lists_the_language_option() -> None:
    from test_cli_words import every_parser

    missing = [
        name
        for name, parser in every_parser("fr").items()
        if "--language" not in parser.format_help()
    ]
    assert missing == []


def test_the_demo_hubs_banner_names_its_roster_in_french(tmp_path: Path) -> None:
    """It said "(built-in demo roster)" inside the French banner. A real process: the banner is
    what the hub prints before it serves."""
    lines = first_lines(["demo", "--hub-only", "--port", "0", "--data-dir", str(tmp_path)], 6)
    shown = "".join(lines)
    assert "(équipe de démonstration intégrée)" in shown, shown
    assert "built-in" not in shown and "roster" not in shown, shown


def test_an_unreachable_postgresql_is_said_in_french_with_its_detail_apart(
    site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Before: "deskalert: cannot reach PostgreSQL at ...", all English in a French session."""
    monkeypatch.setenv("DESKALERT_DATABASE", "postgresql://127.0.0.1:1/x")
    hub_toml = Path(__file__).parents[1] / "hub.example.toml"
    done = run_cli("hub", "--config", hub_toml, "--data-dir", tmp_path / "data", "--port", "0")
    assert done.code == 2 and done.err.count("\n") == 1, done.err
    said, _, detail = done.err.partition(" (")
    assert said == "deskalert : la base de données ne répond pas", done.err
    assert detail.startswith("cannot reach PostgreSQL at postgresql://127.0.0.1:1/x"), done.err
