"""The command line's language, chosen before its parser is built, and argparse's words in it.

Help texts are written with `t()`, so the language must be known before `deskalert --help` is
read: `--language fr|en` anywhere on the line, else $DESKALERT_LANG, else the `language` key of
config.toml (read without validation: a broken file is the command's to report, later), else
French. Once a command has loaded its config.toml, its messages keep an explicit choice
(`--language`, $DESKALERT_LANG) and otherwise follow the file (`settle_language`); the screens
follow the file.

argparse's own words ("usage:", "unrecognized arguments: %s") go through the module's `_` and
`ngettext` (the gettext functions it imported); `use_language` points them at the `argparse`
catalogue of deskalert's locale directory.
"""

from __future__ import annotations

import argparse
import gettext
import os
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from deskalert.i18n import LANGUAGES, N_, Language, set_language, translations

LANGUAGE_ENV = "DESKALERT_LANG"
_explicit: dict[str, Language] = {}  # "language": what --language or $DESKALERT_LANG asked


def choose_language(argv: Sequence[str]) -> Language:
    """--language, else $DESKALERT_LANG, else config.toml's language, else French. A value of
    $DESKALERT_LANG that is no language is said in one line on stderr (in the language chosen
    instead); `--language xx` is the parser's error (`check_language_option`); config.toml's
    is the file's own one-line error when a command loads it (said once, not twice)."""
    _explicit.clear()
    unknown: list[tuple[str, str]] = []
    chosen = _choose(argv, unknown)
    for source, value in unknown:
        text = translations(chosen).gettext(N_("cli.unknown_language"))
        print(text.format(source=source, value=value, known=", ".join(LANGUAGES)), file=sys.stderr)
    return chosen


def _choose(argv: Sequence[str], unknown: list[tuple[str, str]]) -> Language:
    option = option_value(argv, "--language")
    if option in LANGUAGES:
        _explicit["language"] = option
        return option
    given = os.environ.get(LANGUAGE_ENV, "").strip()
    if given in LANGUAGES:
        _explicit["language"] = given
        return given
    if given:
        unknown.append(("$" + LANGUAGE_ENV, given))
    return configured_language(option_value(argv, "--config")) or "fr"


def settle_language(configured: Language) -> None:
    """Once config.toml is loaded: an explicit choice stays, else the file's language."""
    use_language(_explicit.get("language", configured))


def use_language(language: Language) -> None:
    """deskalert's messages and argparse's own words in `language`, for this process."""
    set_language(language)
    words: gettext.NullTranslations = (
        gettext.NullTranslations() if language == "en" else translations(language, "argparse")
    )
    vars(argparse).update(_=words.gettext, ngettext=words.ngettext)


def option_value(argv: Sequence[str], option: str) -> str | None:
    """The value of `option` on the line (`--x v` or `--x=v`), read before argparse does."""
    for i, word in enumerate(argv):
        if word == "--":
            break
        if word == option and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith(option + "="):
            return word.split("=", 1)[1]
    return None


def configured_language(
    given: str | None, unknown: list[tuple[str, str]] | None = None
) -> Language | None:
    """config.toml's `language` when the file can be read and says fr or en; another value
    is added to `unknown` (with the file's path)."""
    from deskalert.client.settings import find_config_path

    path = find_config_path(Path(given) if given else None)
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    language = raw.get("language")
    if language in LANGUAGES:
        return language  # type: ignore[no-any-return]
    if language is not None and unknown is not None:
        unknown.append((f"{path}: language", str(language)))
    return None
