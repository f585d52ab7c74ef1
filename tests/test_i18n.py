"""The catalogues: every message used exists in French and English, and none is left unused."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from deskalert import i18n

SOURCE = Path(i18n.__file__).parent
KEYWORDS = {"t", "tn", "N_", "refusal"}  # refusal: our validators' errors (models/base.py)


def used_ids() -> set[str]:
    """The first argument of every t/tn/N_ call in the package, read from its syntax tree.

    The syntax tree rather than `pybabel extract`: on Python 3.11 Babel's tokenizer does not see
    calls inside f-strings. A first argument that is a name (`t(key)`) is fine when the name was
    set from N_-marked literals; `label()` reaches its ids through N_ in labels.py.
    """
    return {msgid for path in SOURCE.rglob("*.py") for msgid in _ids(path)}


def _ids(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in KEYWORDS
            and node.args
        ):
            yield from _literals(node.args[0])


def _literals(node: ast.expr) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)


def placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_used_message_is_in_the_catalogue_and_every_message_is_used(
    lang: i18n.Language,
) -> None:
    used, known = used_ids(), i18n.catalogue_ids(lang)
    assert sorted(used - known) == [], f"missing from {lang}"
    assert sorted(known - used) == [], f"unused in {lang}"


def test_both_languages_have_the_same_placeholders_and_plural_forms() -> None:
    fr = {m.id if isinstance(m.id, str) else m.id[0]: m for m in i18n.read_catalogue("fr") if m.id}
    en = {m.id if isinstance(m.id, str) else m.id[0]: m for m in i18n.read_catalogue("en") if m.id}
    assert fr.keys() == en.keys()
    for msgid, french in fr.items():
        english = en[msgid]
        assert french.pluralizable == english.pluralizable, msgid
        forms = (
            [*french.string, *english.string]
            if french.pluralizable
            else [french.string, english.string]
        )
        assert all(forms), f"{msgid}: an empty translation"
        assert len({frozenset(placeholders(f)) for f in forms}) == 1, msgid


def test_plurals_follow_each_language() -> None:
    i18n.set_language("fr")
    assert i18n.tn("md.count", 0) == "0 alerte."  # French: 0 and 1 are singular
    assert i18n.tn("md.count", 2) == "2 alertes."
    i18n.set_language("en")
    assert i18n.tn("md.count", 0) == "0 alerts."
    assert i18n.tn("md.count", 1) == "1 alert."


def test_a_missing_message_fails_loudly_in_tests_and_shows_its_id_otherwise() -> None:
    with pytest.raises(KeyError):
        i18n.t("no.such.message")
    i18n.set_strict(False)
    assert i18n.t("no.such.message") == "no.such.message"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        i18n.set_language("de")  # type: ignore[arg-type]
