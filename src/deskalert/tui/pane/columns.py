"""How wide each column of the alerts table is, for the room the table has.

A supervisor's laptop or half a split screen gives the pane 80 columns, a wall screen 200. Each
column has the width it looks best at; when the room is short, columns give way step by step: the
desk's location and the code label first (the selected alert's panel says them in full), the
elapsed time's second line next, then the state and the responders down to what still reads
("prise en charge", one name), then the word "NOUVELLE" of the mark (the red "●" stays), and
only then everything at once. Room left over goes to the responders, the last column, so the
table fills its frame. Pure arithmetic: `AlertTable` applies it on resize.
"""

from __future__ import annotations

from collections.abc import Mapping

KEYS: tuple[str, ...] = ("mark", "desk", "code", "elapsed", "state", "responders")

# Text widths (without the cells' padding). The mark's best is its widest word ("● NOUVELLE"),
# measured in the language shown: the caller passes it.
BEST: dict[str, int] = {"mark": 10, "desk": 32, "code": 20, "elapsed": 10, "state": 22,
                        "responders": 22}

# Each step: the width each of its columns can give way to, widest column first. A column in
# JUMPS goes straight to its floor (a mark cut mid-word would read as nothing).
STEPS: tuple[dict[str, int], ...] = (
    {"desk": 18, "code": 14},
    {"elapsed": 6},
    {"desk": 12, "code": 10},
    {"state": 16, "responders": 14},
    {"desk": 9, "code": 8},
    {"mark": 2},
    {"desk": 6, "code": 5, "elapsed": 5, "state": 10, "responders": 8},
)
JUMPS = frozenset({"mark"})


def fit(room: int, mark: int) -> dict[str, int]:
    """Widths by column key that add up to `room` when possible (more when it is too small for
    the last step's floors: the table then scrolls sideways)."""
    widths = {**BEST, "mark": mark}
    for floors in STEPS:
        over = sum(widths.values()) - room
        if over <= 0:
            break
        _give_way(widths, floors, over)
    widths["responders"] += max(0, room - sum(widths.values()))
    return widths


def _give_way(widths: dict[str, int], floors: Mapping[str, int], over: int) -> None:
    """Take up to `over` cells from the step's columns, one at a time from the widest."""
    for jump in JUMPS & floors.keys():
        over -= widths[jump] - floors[jump]
        widths[jump] = min(widths[jump], floors[jump])
    while over > 0:
        widest = max((k for k in floors if widths[k] > floors[k]), key=widths.__getitem__,
                     default=None)
        if widest is None:
            return
        widths[widest] -= 1
        over -= 1
