"""The command line speaks the person's language: French by default, English on request, argparse's
own words included (issue 23). In process (`main(argv)` with captured output): no process is the
point here."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskalert.cli.words import use_language
from support.cli import run_cli

Run = tuple[int, str, str]


@pytest.fixture(autouse=True)
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No config.toml and no DESKALERT_LANG unless a test sets them; argparse back to English."""
    monkeypatch.setenv("DESKALERT_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("DESKALERT_LANG", raising=False)
    monkeypatch.delenv("DESKALERT_TOKEN", raising=False)
    yield
    use_language("en")


def cli(*argv: str) -> Run:
    done = run_cli(*argv)
    return done.code, done.out, done.err


def test_help_is_french_by_default() -> None:
    code, out, _ = cli("--help")
    assert code == 0
    assert out.startswith("usage\u00a0: deskalert")  # a colon never wraps onto a line alone
    assert "afficher cette aide et quitter" in out and "commandes\u00a0:" in out
    assert "lancer une alerte sans l'écran du poste" in out
    assert "show this help" not in out and "raise an alert" not in out


@pytest.mark.parametrize(
    ("how", "argv"),
    [
        ("option", ["--language", "en", "send", "--help"]),
        ("option after", ["send", "--help", "--language=en"]),
        ("environment", ["send", "--help"]),
        ("config.toml", ["send", "--help"]),
    ],
)
def test_help_is_english_when_asked(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    how: str,
    argv: list[str],
) -> None:
    if how == "environment":
        monkeypatch.setenv("DESKALERT_LANG", "en")
    if how == "config.toml":
        config = tmp_path / "config.toml"
        config.write_text('language = "en"\n[hub]\nurl = "http://127.0.0.1:1"\n')
        monkeypatch.setenv("DESKALERT_CONFIG", str(config))
    code, out, _ = cli(*argv)
    assert code == 0
    assert out.startswith("usage: deskalert send")
    assert "show this help message and exit" in out
    assert "raise an alert through the desk's outbox" in out.lower()


@pytest.mark.parametrize(
    ("argv", "french", "english"),
    [
        (
            ["hub", "--prot", "1"],
            "deskalert : erreur : arguments non reconnus : --prot 1 (voir deskalert --help)",
            "deskalert: error: unrecognized arguments: --prot 1 (see deskalert --help)",
        ),
        (
            ["send"],
            "deskalert send : erreur : arguments obligatoires manquants : CODE"
            " (voir deskalert send --help)",
            "deskalert send: error: the following arguments are required: CODE"
            " (see deskalert send --help)",
        ),
        (
            ["sned"],
            "deskalert : erreur : argument COMMAND : choix invalide : 'sned' (au choix : 'hub',",
            "deskalert: error: argument COMMAND: invalid choice: 'sned' (choose from 'hub',",
        ),
        (
            ["hub", "--port", "x"],
            "deskalert hub : erreur : argument --port : valeur invalide (int) : 'x'",
            "deskalert hub: error: argument --port: invalid int value: 'x'",
        ),
        (
            ["hub", "oncall", "--bogus"],
            "deskalert hub oncall : erreur : arguments non reconnus : --bogus",
            "deskalert hub oncall: error: unrecognized arguments: --bogus",
        ),
    ],
)
def test_usage_errors_are_one_line_in_either_language(
    argv: list[str], french: str, english: str
) -> None:
    for language, expected in (("fr", french), ("en", english)):
        code, out, err = cli("--language", language, *argv)
        assert code == 2 and out == ""
        assert err.startswith(expected) and err.count("\n") == 1, err


def every_parser(language: str) -> dict[str, argparse.ArgumentParser]:
    """Each command's parser, built in `language` (as docs/generate.py walks them)."""
    from deskalert import cli as package

    use_language(language)  # type: ignore[arg-type]
    found: dict[str, argparse.ArgumentParser] = {}

    def walk(name: str, parser: argparse.ArgumentParser) -> None:
        found[name] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, child in action.choices.items():
                    walk(f"{name} {sub}", child)

    walk("deskalert", package.build_parser())
    for words, build in package.NESTED.items():
        found["deskalert " + " ".join(words)] = build()
    return found


def texts(parser: argparse.ArgumentParser) -> dict[str, str]:
    shown = {"description": parser.description or "", "epilog": parser.epilog or ""}
    for action in parser._actions:
        shown[f"{action.dest} {action.option_strings}"] = action.help or ""
        for choice in getattr(action, "_choices_actions", []):
            shown[f"{action.dest} {choice.dest}"] = choice.help or ""
    return {key: text for key, text in shown.items() if text and text != argparse.SUPPRESS}


# Texts that are the same words in both languages.
SAME = {"config.toml", "options"}


def test_every_help_text_of_every_command_is_translated() -> None:
    """A help text written in the code, outside the catalogue, shows in English on a French
    screen: every text of every parser must differ between the two languages."""
    english = {name: texts(parser) for name, parser in every_parser("en").items()}
    french = {name: texts(parser) for name, parser in every_parser("fr").items()}
    assert english.keys() == french.keys()
    untranslated = [
        f"{name}: {key}: {text}"
        for name, shown in english.items()
        for key, text in shown.items()
        if french[name].get(key) == text and text not in SAME
    ]
    assert untranslated == []


@pytest.mark.system
@pytest.mark.parametrize(
    ("argv", "rows"),
    [
        ([], ["écoute sur", "base", "chargé", "délais", "débit d'alertes", "ATTENTION"]),
        (["--language", "en"], ["listening on", "database", "loaded", "timing", "WARNING"]),
    ],
)
def test_the_hub_banner_speaks_the_command_lines_language(
    tmp_path: Path, argv: list[str], rows: list[str]
) -> None:
    """A real hub process: the banner is what it prints before serving."""
    from support.hubs import first_lines, listening_url

    example = Path(__file__).resolve().parent.parent / "hub.example.toml"
    where = ["--config", str(example), "--port", "0", "--data-dir", str(tmp_path)]
    banner = first_lines([*argv, "hub", *where], 12)
    labels = [line.strip().split("  ")[0] for line in banner[1:]]
    assert all(row in labels for row in rows), banner
    assert listening_url(banner[1]), banner  # the tests' helpers find the address either way
    english = {"listening on", "database", "loaded", "timing", "limits", "WARNING"}
    assert argv or not english & set(labels), banner


@pytest.mark.parametrize("columns", ["60", "80", "120"])
def test_french_help_never_starts_a_line_with_its_punctuation(
    monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    """French puts a space before : ; ? and inside « »: a breaking one let argparse wrap
    "(par défaut\\n: 8470)"; the catalogue uses no-break spaces there."""
    monkeypatch.setenv("COLUMNS", columns)
    orphans = [
        f"{name}: {line.strip()}"
        for name, parser in every_parser("fr").items()
        for line in parser.format_help().splitlines()
        if line.strip()[:1] in {":", ";", "?", "»"}
    ]
    assert orphans == []


def test_an_unknown_language_is_said_in_one_line_then_french(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An unknown DESKALERT_LANG or config.toml language used to be French without a word; the
    file's is its own one-line error (not a warning line too)."""
    monkeypatch.setenv("DESKALERT_LANG", "xx")
    code, out, err = cli("--help")
    assert code == 0 and out.startswith("usage\u00a0: deskalert")
    assert err.count("\n") == 1 and "«\u00a0xx\u00a0» ($DESKALERT_LANG)" in err, err
    assert "fr, en" in err
    monkeypatch.delenv("DESKALERT_LANG")
    config = tmp_path / "config.toml"
    config.write_text('language = "de"\n')
    monkeypatch.setenv("DESKALERT_CONFIG", str(config))
    code, out, err = cli("send", "renfort")  # the file's own error says it, once
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and f"{config}: language" in err and "'fr' ou 'en'" in err, err


@pytest.mark.parametrize(
    "argv", [["--language", "xx", "--help"], ["hub", "oncall", "--language=xx"]]
)
def test_an_unknown_language_option_is_a_usage_error(argv: list[str]) -> None:
    code, out, err = cli(*argv)
    assert code == 2 and out == ""
    assert "argument --language : choix invalide : 'xx' (au choix : 'fr', 'en')" in err
    assert err.count("\n") == 1, err
