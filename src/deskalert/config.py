"""Reading TOML configuration files into pydantic models, with one-line errors.

A person editing a config file by hand needs to be told which file, which key and what is wrong,
in one line; never a traceback. `load_toml` is the one place that turns both TOML syntax errors
and pydantic validation errors into that line.
"""

from __future__ import annotations

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
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_config_error(exc, model)}") from None


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
    more = tn("config.more_problems", len(errors) - 1) if len(errors) > 1 else ""
    problem = config_problem(first) + hint
    return t("config.problem", where=where, problem=problem, more=more) if where else problem + more


def config_problem(error: Any) -> str:
    """What is wrong with one value, in the catalogue's words."""
    kind, ctx = str(error["type"]), error.get("ctx") or {}
    if kind.startswith("config."):  # our own validators' refusal (models.refusal)
        return t(kind, **ctx)
    if kind in BOUNDS:
        return t("config.bound", op=BOUNDS[kind], limit=next(iter(ctx.values()), "?"))
    if kind in ("literal_error", "enum"):
        return t("config.one_of", expected=ctx.get("expected", "?"))
    if kind.endswith("too_short") or kind.endswith("too_long"):
        limit = ctx.get("min_length", ctx.get("max_length", "?"))
        return t("config.too_short" if "short" in kind else "config.too_long", limit=limit)
    expected = next((k for prefix, k in EXPECTED if kind.startswith(prefix)), None)
    if expected is not None:
        return t("config.expected", expected=t(expected), value=shown_value(error.get("input")))
    return t(PROBLEMS.get(kind, N_("config.invalid")))


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
