"""Reading TOML configuration files into pydantic models, with one-line errors.

A person editing a config file by hand needs to be told which file, which key and what is wrong,
in one line; never a traceback. `load_toml` is the one place that turns both TOML syntax errors
and pydantic validation errors into that line.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar, get_args

import platformdirs
from pydantic import BaseModel, ValidationError

from deskalert.errors import ConfigError
from deskalert.i18n import N_, t, tn
from deskalert.models.base import IDENTIFIER_PATTERN, SHA256_PATTERN

APP_NAME = "deskalert"
PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
ModelT = TypeVar("ModelT", bound=BaseModel)


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def load_toml(path: Path, model: type[ModelT]) -> ModelT:
    """Parse `path` as TOML and validate it as `model`, or raise ConfigError with one line."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {unreadable(exc)}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {toml_problem(exc)}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_config_error(exc, model)}") from None


def unreadable(exc: OSError | UnicodeDecodeError) -> str:
    """Why a config file cannot be read, in the catalogue's words."""
    if isinstance(exc, UnicodeDecodeError):
        return t("config.not_utf8")
    for kind, msgid in UNREADABLE:
        if isinstance(exc, kind):
            return t(msgid)
    return t("config.cannot_read", reason=exc.strerror or exc)


UNREADABLE = (
    (FileNotFoundError, N_("config.file_not_found")),
    (IsADirectoryError, N_("config.a_directory")),
    (PermissionError, N_("config.permission_denied")),
)


def toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    """tomllib's complaint in the catalogue's words, with its line and column."""
    text = str(exc)
    place = re.search(r" \(at line (\d+), column (\d+)\)$", text)
    where = (
        t("config.toml_at", line=place[1], column=place[2]) if place else t("config.toml_at_end")
    )
    reason = text[: place.start()] if place else text.removesuffix(" (at end of document)")
    for pattern, msgid in TOML_REASONS:
        found = re.fullmatch(pattern, reason)
        if found:
            values = {name: toml_key(value) for name, value in found.groupdict().items()}
            return t("config.not_toml", where=where, reason=t(msgid, **values))
    return t("config.not_toml", where=where, reason=t("config.toml_syntax"))


def toml_key(text: str) -> str:
    """A key as tomllib names it, `('desks', 'x')`, as the file writes it: desks.x."""
    try:
        parts = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return ".".join(map(str, parts)) if isinstance(parts, tuple) else text


TOML_REASONS = (
    (r"Expected '=' after a key in a key/value pair", N_("config.toml_equals")),
    (r"Expected '(?P<closing>\]\]?)' at the end of an? \w+ declaration", N_("config.toml_close")),
    (r"Expected newline or end of document after a statement", N_("config.toml_line_end")),
    (r"Illegal character '\\n'|Unterminated string", N_("config.toml_unterminated")),
    (r"(?:Found invalid|Illegal) character (?P<char>.+)", N_("config.toml_character")),
    (r"Cannot declare (?P<key>.+) twice", N_("config.toml_table_twice")),
    (r"Cannot (?:mutate immutable|redefine) namespace (?P<key>.+)", N_("config.toml_table_twice")),
    (r"Cannot overwrite a value", N_("config.toml_value_twice")),
    (r"Duplicate inline table key (?P<key>.+)", N_("config.toml_inline_twice")),
    (r"Unclosed array", N_("config.toml_unclosed_list")),
    (r"Unclosed inline table", N_("config.toml_unclosed_table")),
    (r"Invalid value", N_("config.toml_value")),
    (r"Invalid statement", N_("config.toml_statement")),
    (r"Invalid initial character for a key part", N_("config.toml_key_start")),
    (r"Invalid date or datetime", N_("config.toml_date")),
    (r"Unescaped '\\' in a string", N_("config.toml_backslash")),
)


def describe_config_error(exc: ValidationError, model: type[BaseModel]) -> str:
    """A config file's problems in one line of the catalogue, in the person's language, never
    pydantic's words: an unknown key first, with the closest known key; a key that suggestion
    names as missing is the same typo, not a second problem."""
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    first, hint = errors[0], ""
    if first["type"] == "extra_forbidden":
        close = closest_key(model, tuple(first["loc"]))
        if close is not None:
            hint = t("config.did_you_mean", key=close)
            same = (*first["loc"][:-1], close)
            errors = [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) == same)]
    where = format_location(tuple(first["loc"]))
    if names_its_place(first, where):
        where = ""
    more = tn("config.more_problems", len(errors) - 1) if len(errors) > 1 else ""
    problem = config_problem(first) + hint
    return t("config.problem", where=where, problem=problem, more=more) if where else problem + more


def names_its_place(error: Any, where: str) -> bool:
    """A validator that checks a table's entries together (hub.toml's [broadcasts]) fails at
    the table, and its refusal names the key at fault under it (`broadcasts.templates[0].kind`):
    that place is said once, not after the table's."""
    ctx = error.get("ctx") or {}
    place = str(ctx.get("where") or ctx.get("table") or "")
    return bool(where) and str(error["type"]).startswith("config.") and place.startswith(where)


def config_problem(error: Any) -> str:
    """What is wrong with one value, in the catalogue's words."""
    kind, ctx = str(error["type"]), error.get("ctx") or {}
    if kind.startswith("config."):  # our own validators' refusal (models.refusal)
        return t(kind, **ctx)
    if kind in BOUNDS:
        return t("config.bound", op=BOUNDS[kind], limit=next(iter(ctx.values()), "?"))
    if kind in ("literal_error", "enum"):
        return t("config.one_of", expected=one_of(str(ctx.get("expected", "?"))))
    if kind.endswith("too_short") or kind.endswith("too_long"):
        limit = ctx.get("min_length", ctx.get("max_length", "?"))
        return t("config.too_short" if "short" in kind else "config.too_long", limit=limit)
    expected = expected_form(kind, ctx)
    if expected is not None:
        return t("config.expected", expected=expected, value=shown_value(error.get("input")))
    return t(PROBLEMS.get(kind, N_("config.invalid")))


def one_of(expected: str) -> str:
    """pydantic's choices, "'fr' or 'en'", with the `or` of the person's language."""
    return re.sub(r"(?<=') or (?=')", f" {t('config.or')} ", expected)


def expected_form(kind: str, ctx: dict[str, Any]) -> str | None:
    """What a value of the wrong type or form should have been: a number, an id, a hash..."""
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern"))
        return t(PATTERNS.get(pattern, N_("config.a_pattern")), pattern=pattern)
    msgid = next((k for prefix, k in EXPECTED if kind.startswith(prefix)), None)
    return t(msgid) if msgid is not None else None


PATTERNS = {IDENTIFIER_PATTERN: N_("config.an_identifier"), SHA256_PATTERN: N_("config.a_sha256")}
BOUNDS = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}
PROBLEMS = {"extra_forbidden": N_("config.unknown_key"), "missing": N_("config.missing")}
EXPECTED = (
    ("string", N_("config.a_string")),
    ("int", N_("config.an_integer")),
    ("float", N_("config.a_number")),
    ("bool", N_("config.true_false")),
    ("time", N_("config.a_time")),
    ("url", N_("config.a_url")),
    ("list", N_("config.a_list")),
    ("dict", N_("config.a_table")),
    ("model", N_("config.a_table")),
    ("path", N_("config.a_path")),
)


def shown_value(value: object) -> str:
    """A wrong value as TOML would write it, cut short: the line stays one line."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def closest_key(model: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    """The known key of that table closest to the unknown one (difflib), if any is close."""
    table = model_at(model, loc[:-1])
    if table is None:
        return None
    found = difflib.get_close_matches(str(loc[-1]), list(table.model_fields), n=1, cutoff=0.6)
    return found[0] if found else None


def model_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model of the table at `loc` (('desks', 2) -> DeskConfig), walking the fields' types."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        inner = _model_in(field.annotation) if field is not None else None
        if inner is None:
            return None
        model = inner
    return model


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def describe_validation_error(exc: ValidationError) -> str:
    return describe_errors(exc.errors(include_url=False))


def describe_errors(errors: Sequence[Any]) -> str:
    """The first of pydantic's errors as `key.path: message` (and how many more)."""
    first = errors[0]
    location = format_location(tuple(first["loc"]))
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key (check its spelling)"
    elif first["type"] == "missing":
        message = "missing (this key is required)"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{location}: {message}{more}" if location else f"{message}{more}"


def format_location(loc: tuple[int | str, ...]) -> str:
    """('desks', 2, 'site') -> 'desks[2].site'; a key that is not a plain name is quoted, as
    TOML would write it ('keys', 'a b\n') -> 'keys."a b\\n"', so the message stays one line."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            name = str(part) if PLAIN_KEY.fullmatch(str(part)) else json.dumps(str(part))
            text += f".{name}" if text else name
    return text
