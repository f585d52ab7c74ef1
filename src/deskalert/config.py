"""Reading TOML configuration files into pydantic models, with one-line errors.

A person editing a config file by hand needs to be told which file, which key and what is wrong,
in one line; never a traceback. `load_toml` is the one place that turns both TOML syntax errors
and pydantic validation errors into that line.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from pydantic import BaseModel, ValidationError

from deskalert.errors import ConfigError

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
        raise ConfigError(f"{path}: {describe_validation_error(exc)}") from None


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
