"""How wide each column of the alerts table is, for the room the table has.

A supervisor's laptop or half a split screen gives the pane 80 columns, a wall screen 200. Each
column has the width it looks best at; when the room is short, columns give way step by step: the
desk's location and the code label first (the selected alert's panel says them in full), the
elapsed time's second line next, then the state and the responders down to what still reads
("prise en charge", one name), then the word "NOUVELLE" of the mark (the red "●" stays), and
only then everything at once. The state's best width is its widest line when that is wider (up
to STATE_MOST), so that "niv. 1 → Martine Durand" reads whole, and the responders' best no more
than theirs; room left over goes to the columns whose content is still cut, the state first, and
what is still left to the responders, the last column, so the table fills its frame. Pure
arithmetic: `AlertTable` applies it on resize and when the widest content of a column changes.
"""

from __future__ import annotations

from collections.abc import Mapping

KEYS: tuple[str, ...] = ("mark", "desk", "code", "elapsed", "state", "responders")

# Text widths (without the cells' padding). The mark's best is its widest word ("● NOUVELLE"),
# measured in the language shown: the caller passes it.
BEST: dict[str, int] = {
    "mark": 10,
    "desk": 32,
    "code": 20,
    "elapsed": 10,
    "state": 22,
    "responders": 22,
}

# Each step: the width each of its columns can give way to, widest column first. A column in
# JUMPS goes straight to its floor (a mark cut mid-word would read as nothing).
STEPS: tuple[dict[str, int], ...] = (
    {"desk": 18, "code": 14},
    {"elapsed": 7},
    {"desk": 12, "code": 10},
    {"state": 15, "responders": 14},
    {"desk": 9, "code": 8},
    {"mark": 2},
    {"desk": 6, "code": 5, "elapsed": 5, "state": 10, "responders": 8},
)
JUMPS = frozenset({"mark"})

# The widest the state gets before the location and the code are cut further: "niv. 2 → " and
# a name of 21 cells.
STATE_MOST = 30

# Columns grown toward their widest content when there is room, in this order.
GROW: tuple[str, ...] = ("state", "responders", "elapsed", "desk", "code")


def fit(room: int, mark: int, wanted: Mapping[str, int] | None = None) -> dict[str, int]:
    """Widths by column key that add up to `room` when possible (more when it is too small for
    the last step's floors: the table then scrolls sideways). `wanted` is the widest content of
    each column (its full form), for the room that is left."""
    widths = {**BEST, "mark": mark, **_best_for(wanted or {})}
    for floors in STEPS:
        over = sum(widths.values()) - room
        if over <= 0:
            break
        _give_way(widths, floors, over)
    spare = room - sum(widths.values())
    if spare < 0 or not wanted:
        widths["responders"] += max(0, spare)
        return widths
    for key in GROW:
        more = min(spare, max(0, wanted.get(key, 0) - widths[key]))
        widths[key] += more
        spare -= more
    widths["responders"] += spare
    return widths


def _best_for(wanted: Mapping[str, int]) -> dict[str, int]:
    """The best widths that depend on what the rows hold: the state as wide as its widest line
    (up to STATE_MOST), the responders no wider than theirs (down to their floor)."""
    if not wanted:
        return {}
    return {
        "state": max(BEST["state"], min(wanted.get("state", 0), STATE_MOST)),
        "responders": min(
            BEST["responders"], max(wanted.get("responders", 0), _floor("responders"))
        ),
    }


def _floor(key: str) -> int:
    """The narrowest a column gets before the last step (the one of every column at once)."""
    return min((floors[key] for floors in STEPS[:-1] if key in floors), default=BEST[key])


def _give_way(widths: dict[str, int], floors: Mapping[str, int], over: int) -> None:
    """Take up to `over` cells from the step's columns, one at a time from the widest."""
    for jump in JUMPS & floors.keys():
        over -= widths[jump] - floors[jump]
        widths[jump] = min(widths[jump], floors[jump])
    while over > 0:
        widest = max(
            (k for k in floors if widths[k] > floors[k]), key=widths.__getitem__, default=None
        )
        if widest is None:
            return
        widths[widest] -= 1
        over -= 1
