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
import tomllib
from collections.abc import Sequence
from pathlib import Path

from deskalert.i18n import LANGUAGES, Language, set_language, translations

LANGUAGE_ENV = "DESKALERT_LANG"
_explicit: dict[str, Language] = {}  # "language": what --language or $DESKALERT_LANG asked


def choose_language(argv: Sequence[str]) -> Language:
    """--language, else $DESKALERT_LANG, else config.toml's language, else French."""
    _explicit.clear()
    for given in (option_value(argv, "--language"), os.environ.get(LANGUAGE_ENV, "").strip()):
        if given in LANGUAGES:
            _explicit["language"] = given
            return given
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


def configured_language(given: str | None) -> Language | None:
    """config.toml's `language` when the file can be read and says fr or en."""
    from deskalert.client.settings import find_config_path

    try:
        raw = tomllib.loads(find_config_path(Path(given) if given else None).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    language = raw.get("language")
    return language if language in LANGUAGES else None
