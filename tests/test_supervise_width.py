"""The alerts table fits the width the pane has, against a real hub.

Regression: the columns had fixed widths (118 cells and more), so on an 80-column terminal (a
supervisor's laptop, a split screen) "État, escalade" and "En route" were off the screen, and at
110 columns the responders were a sliver: the two things a supervisor most needs to see.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from rich.cells import cell_len
from rich.text import Text

from conftest import RunningHub, auth, new_alert
from desk_helpers import in_thread, wait_until
from deskalert import i18n
from deskalert.tui.pane import columns, words
from pane_helpers import live
from pane_helpers import pane as make_pane

pytestmark = pytest.mark.stores("sqlite")

# What must be readable whole in the row of an alert that two supervisors answered.
SEEN = {"fr": ("Desk g1", "Urgence", "prise en charge", "permanence", "Bob Sup", "Cleo Sup"),
        "en": ("Desk g1", "Urgence", "acknowledged", "on call", "Bob Sup", "Cleo Sup")}
TITLES = {"fr": ("Poste", "Code", "Depuis", "État", "En route"),
          "en": ("Desk", "Code", "For", "State", "On the way")}


def answered_alert(hub: RunningHub) -> str:
    alert = new_alert("malaise")
    httpx.post(f"{hub.url}/v1/alerts", json=alert, headers=auth("g1")).raise_for_status()
    for who in ("s.b", "s.c"):
        httpx.post(f"{hub.url}/v1/alerts/{alert['id']}/ack", headers=auth(who)).raise_for_status()
    return str(alert["id"])


def table_lines(app: Any) -> list[str]:
    """The alerts table as it is drawn on the screen, line by line (its frame left out)."""
    table = app.query_one("#alerts")
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 36), (200, 50)])
@pytest.mark.parametrize("language", ["fr", "en"])
async def test_state_and_responders_are_on_screen_at_80_columns_and_wider(
    hub: RunningHub, size: tuple[int, int], language: i18n.Language,
) -> None:
    app = make_pane(hub.url, language=language)
    async with app.run_test(size=size) as pilot:
        await live(pilot)
        await in_thread(lambda: answered_alert(hub))
        await wait_until(pilot, lambda: "Cleo Sup" in "".join(table_lines(app)), what="answered")
        table = app.query_one("#alerts")
        drawn = sum(column.get_render_width(table) for column in table.columns.values())
        assert drawn == table.scrollable_content_region.width, "the columns fill the table"
        header, first, second = table_lines(app)[:3]
        assert all(title in header for title in TITLES[language]), header
        row = first + "\n" + second
        assert all(words_ in row for words_ in SEEN[language]), row


async def test_narrowing_the_terminal_refits_the_columns(hub: RunningHub) -> None:
    """A split screen made narrower while the pane runs: the responders come back into view."""
    app = make_pane(hub.url)
    async with app.run_test(size=(160, 40)) as pilot:
        await live(pilot)
        await in_thread(lambda: answered_alert(hub))
        await wait_until(pilot, lambda: "Cleo Sup" in "".join(table_lines(app)), what="answered")
        assert re.search(r"Bob Sup \d\d:\d\d:\d\d", table_lines(app)[1]), "wide: with the time"
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: "Cleo Sup" in table_lines(app)[2], what="refitted")
        assert "prise en charge" in table_lines(app)[1]


def test_the_location_and_code_give_way_before_the_state_and_the_responders() -> None:
    """At 80 columns (65 cells of text once the frame, scrollbar and padding are taken) the
    state and the responders keep what reads; wider, every column gets its best width."""
    narrow = columns.fit(65, mark=10)
    assert sum(narrow.values()) == 65
    assert narrow["state"] >= cell_len("prise en charge") and narrow["responders"] >= 14
    assert narrow["desk"] < columns.BEST["desk"] and narrow["code"] < columns.BEST["code"]
    assert narrow["mark"] == 10, "NOUVELLE still fits at 80 columns"
    wide = columns.fit(145, mark=10)
    assert all(wide[key] >= best for key, best in columns.BEST.items())
    assert sum(wide.values()) == 145, "what is left goes to the responders"


def test_a_terminal_too_narrow_for_every_floor_scrolls_rather_than_hide_a_column() -> None:
    tiny = columns.fit(30, mark=10)
    assert tiny == {"mark": 2, "desk": 6, "code": 5, "elapsed": 5, "state": 10, "responders": 8}


def render(cell: words.Cell, width: int) -> list[str]:
    from rich.console import Console

    console = Console(width=width)
    lines = console.render_lines(cell, console.options.update_dimensions(width, 2), pad=False)
    return ["".join(segment.text for segment in line) for line in lines]


def test_a_cell_too_wide_is_said_short_and_cut_not_wrapped_onto_a_hidden_line() -> None:
    full = Text("Jérôme Martin 06:04:04\nPaul Leroy 06:04:05 +1")
    fit = words.Fit(full, Text("Jérôme Martin\nPaul Leroy +1"))
    assert render(fit, 22) == ["Jérôme Martin 06:04:04", "Paul Leroy 06:04:05 +1"]
    assert render(fit, 14) == ["Jérôme Martin", "Paul Leroy +1"]
    assert render(fit, 8) == ["Jérôme …", "Paul Le…"]
    assert str(fit) == full.plain, "tests and the table's text read the full form"
    desk = words.cut(Text("Box A (rendez-vous)\n1er étage, box A, porte vitrée"))
    assert render(desk, 12) == ["Box A (rend…", "1er étage, …"]


def test_more_than_two_responders_are_counted_on_the_second_line() -> None:
    assert words.two_lines(["Ana", "Bob", "Cleo", "Dan"]) == "Ana\nBob +2"
    assert words.two_lines(["Ana", "Bob"]) == "Ana\nBob"


def test_a_column_title_too_long_for_its_column_is_said_short() -> None:
    assert words.column_title("state", 20).plain == "État, escalade"
    assert words.column_title("state", 12).plain == "État"
    i18n.set_language("en")
    assert words.column_title("desk", 10).plain == "Desk"
    assert words.column_title("responders", 14).plain == "On the way"
