"""The building blocks of every model: identifiers, text that is only text, client dates,
strict request bodies, and the two kinds of caller."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, StringConstraints
from pydantic_core import PydanticCustomError

from deskalert.i18n import translations
from deskalert.text import describe_control, find_control, strip_control

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"  # a token's hash in hub.toml (hub/settings.py)
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)
]


def refusal(msgid: str, /, **values: object) -> PydanticCustomError:
    """A refusal of one of our own validators, named by its catalogue id (`config.*`).

    The error's type is `msgid` and its context the `values` (as text, kept verbatim), so a
    config file's error line says it in the person's language when it is shown
    (`deskalert.config.config_problem`); pydantic's own message, which the hub's 422 and
    `str(ValidationError)` carry, is the English of the catalogue. A ValueError, as pydantic
    expects of a validator.
    """
    context = {name: str(value) for name, value in values.items()}
    return PydanticCustomError(msgid, translations("en").gettext(msgid), context)


def _refuse_control(text: str) -> str:
    found = find_control(text)
    if found is not None:
        raise ValueError(f"{describe_control(*found)}: text only, no control characters")
    return text


def _refuse_control_but_newline(text: str) -> str:
    found = find_control(text, allow_newline=True)
    if found is not None:
        raise ValueError(f"{describe_control(*found)}: text and line breaks only")
    return text


# Text from a desk is text (see deskalert.text): a request body with a control character is a
# 422 that names the field. Response models strip instead, so an older row never fails a read.
PlainText = Annotated[str, AfterValidator(_refuse_control)]
MultilineText = Annotated[str, AfterValidator(_refuse_control_but_newline)]
StrippedText = Annotated[str, AfterValidator(strip_control)]
StrippedMultiline = Annotated[str, AfterValidator(partial(strip_control, keep_newlines=True))]
ShortText = Annotated[PlainText, StringConstraints(max_length=280)]


def _representable_in_utc(moment: datetime) -> datetime:
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once in UTC (years 1 to 9999)") from None
    return moment


# A date a client sends: with its time zone, kept as given, and one that has a UTC equivalent
# (9999-12-31T23:59:59-23:59 has none, and would fail wherever it is compared or converted).
ClientDatetime = Annotated[AwareDatetime, AfterValidator(_representable_in_utc)]


class StrictModel(BaseModel):
    """A request body: unknown fields are refused, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")


class PrincipalKind(StrEnum):
    DESK = "desk"
    SUPERVISOR = "supervisor"
