"""Text that came from elsewhere (the hub, a desk, a proxy), made safe to draw in a terminal."""

from __future__ import annotations

import re

# C0 controls except \t and \n, DEL, C1 controls, and the bidi embedding/override/isolate marks
# (U+202A-U+202E, U+2066-U+2069), which can make a terminal line read other than it is stored.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_control(text: str) -> str:
    """`text` without control characters (newlines and tabs kept) and bidi overrides."""
    return _CONTROL.sub("", text)
