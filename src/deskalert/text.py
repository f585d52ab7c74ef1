"""Text from a desk is text: what counts as a control character, to refuse it or to strip it.

The hub refuses control characters in request bodies (`models.PlainText`, `models.NoteBody`);
whatever draws hub text on a screen calls `strip_control` again, since older rows, another hub
or a bug upstream could still bring an escape sequence (OSC 52 writes the reader's clipboard,
CSI clears the screen). Refused: C0 (U+0000-U+001F, newline allowed in multi-line text), DEL,
C1 (U+0080-U+009F), the bidirectional overrides and isolates (U+202A-U+202E,
U+2066-U+2069), which reorder what is shown ("Trojan Source"), and lone surrogates
(U+D800-U+DFFF: JSON's "\ud800" escape decodes to one; it is no character, and no UTF-8 can
store or send it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

_C0_BUT_NEWLINE = r"\x00-\x09\x0b-\x1f"
_OTHERS = r"\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
CONTROL = re.compile(f"[{_C0_BUT_NEWLINE}\\n{_OTHERS}]")
CONTROL_BUT_NEWLINE = re.compile(f"[{_C0_BUT_NEWLINE}{_OTHERS}]")
# A whole escape sequence, so that stripping leaves no "[2J" or "]52;c;..." behind: CSI
# (ESC [ or U+009B, parameters, one final byte) and OSC/DCS/APC/PM/SOS strings (up to BEL or ST).
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x20-\x3f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x7e]?"
)


def find_control(text: str, *, allow_newline: bool = False) -> tuple[int, str] | None:
    """The position and character of the first control character in `text`, or None."""
    pattern = CONTROL_BUT_NEWLINE if allow_newline else CONTROL
    match = pattern.search(text)
    return (match.start(), match.group()) if match else None


def strip_control(text: str, *, keep_newlines: bool = False) -> str:
    """`text` without escape sequences nor control characters, safe to draw on a terminal;
    a tab or a line break (unless kept) becomes a space."""
    without_sequences = _SEQUENCE.sub("", text)
    pattern = CONTROL_BUT_NEWLINE if keep_newlines else CONTROL
    return pattern.sub(_replacement, without_sequences)


def _replacement(match: re.Match[str]) -> str:
    """Spacing controls (tab, newline, CR, VT, FF) become a space, so words stay apart."""
    return " " if match.group() in "\t\n\r\x0b\x0c" else ""


def describe_control(position: int, character: str) -> str:
    """'control character U+001B at position 3' (for a 422's detail)."""
    if 0xD800 <= ord(character) <= 0xDFFF:
        return f"lone surrogate U+{ord(character):04X} (not a character) at position {position}"
    return f"control character U+{ord(character):04X} at position {position}"


# Stands for a space that must not break a line (inside a phone number) until a screen's part
# has wrapped its text (tui/parts.py): Rich wraps at every Unicode space, no-break ones included.
KEEP = "\ue000"


def unbroken(number: str) -> str:
    """A phone number (hub text, cleaned) that the screens never break across two lines."""
    return strip_control(number).replace(" ", KEEP)


def rejoin(text: Text) -> Text:
    """`text` with its kept spaces back to spaces (same length: the styles stay in place)."""
    if KEEP in text.plain:
        text.plain = text.plain.replace(KEEP, " ")
    return text


def fitting_columns(widths: list[int], available: int, gap: int = 1) -> list[int]:
    """The widths of the most columns that hold items of `widths` whole, row by row (each
    column as wide as its widest, `gap` cells between columns) in `available` cells; [] when
    not even two columns do."""
    for count in range(len(widths), 1, -1):
        columns = [max(widths[column::count]) for column in range(count)]
        if sum(columns) + gap * (count - 1) <= available:
            return columns
    return []
