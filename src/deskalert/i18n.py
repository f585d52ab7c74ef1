"""The interface's words: gettext catalogues, French by default, English available.

The catalogues are `locale/<lang>/LC_MESSAGES/deskalert.po`, edited with Babel's tools
(`pybabel extract -k t -k tn -k N_ -k refusal src/deskalert`, `pybabel update`; `refusal` is
our validators' errors, `deskalert.models.base`). Message ids are symbolic (`"link.ok"`,
`"presence.flag"`): both languages are translations of the id, so neither language's wording is
frozen into the code. The .po files are compiled in memory at first use (Babel's
`write_mo`), so there is no build step and no binary file in the repository.

The language is chosen once per process (`set_language`, called where a configuration is read);
callers then write `t("link.ok")` or `tn("presence.flag", len(offline))`. Messages are
`str.format` templates. A message id that is in neither catalogue is a bug: `t` raises in strict
mode (the test suite turns it on) and otherwise shows the id rather than crash a panic screen.
Text that comes from the hub roster (codes, protocols, names) is never translated.

A second domain, `argparse`, holds the French of the standard library's argparse ("usage:",
"unrecognized arguments: %s"): its message ids are argparse's own English, as gettext does for
another program's words; `deskalert.cli.words` hands it to argparse.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

Language = Literal["fr", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DOMAIN = "deskalert"

_state: dict[str, object] = {"language": "fr", "strict": False}


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention for "mark, translate later"
    """Mark a message id built elsewhere (enum labels, column titles) for the extractor."""
    return msgid


def set_language(language: Language) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    _state["language"] = language


def language() -> Language:
    return _state["language"]  # type: ignore[return-value]


def set_strict(strict: bool) -> None:
    """Strict mode raises KeyError on a message id missing from the catalogue (tests)."""
    _state["strict"] = strict


def t(msgid: str, /, **values: object) -> str:
    catalogue = translations(language())
    _check(catalogue, msgid)
    return catalogue.gettext(msgid).format(**values)


def tn(msgid: str, count: int, /, **values: object) -> str:
    """A message with plural forms; `count` chooses the form and is passed as `{count}`."""
    catalogue = translations(language())
    _check(catalogue, msgid)
    return catalogue.ngettext(msgid, msgid, count).format(count=count, **values)


def _check(catalogue: gettext.GNUTranslations, msgid: str) -> None:
    if _state["strict"] and msgid not in catalogue_ids(language()):
        raise KeyError(f"message id {msgid!r} is missing from the {language()} catalogue")


@cache
def translations(lang: Language, domain: str = DOMAIN) -> gettext.GNUTranslations:
    """A catalogue compiled in memory: deskalert's own, or another domain's (`argparse`)."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, read_catalogue(lang, domain))
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def catalogue_ids(lang: Language) -> frozenset[str]:
    return frozenset(
        str(m.id[0] if isinstance(m.id, tuple) else m.id) for m in read_catalogue(lang) if m.id
    )


def read_catalogue(lang: Language, domain: str = DOMAIN) -> Catalog:
    from babel.messages.pofile import read_po

    source = files("deskalert") / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"
    with source.open("rb") as handle:
        return read_po(handle, locale=lang, domain=domain)
