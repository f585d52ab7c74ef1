"""The alerts table fits the width the pane has, against a real hub.

Regression: the columns had fixed widths (118 cells and more), so on an 80-column terminal (a
supervisor's laptop, a split screen) "État, escalade" and "En route" were off the screen, and at
110 columns the responders were a sliver: the two things a supervisor most needs to see.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.cells import cell_len
from rich.text import Text

from desk_helpers import in_thread, wait_until
from deskalert import i18n
from deskalert.hub.settings import HubConfig
from deskalert.tui.pane import columns, words
from pane_helpers import live
from pane_helpers import pane as make_pane
from support.hubs import RunningHub, start_threaded_hub
from support.requests import auth, new_alert
from support.roster import roster_toml

pytestmark = pytest.mark.stores("sqlite")

# What must be readable whole in the row of an alert that two supervisors answered.
SEEN = {
    "fr": ("Desk g1", "Urgence", "prise en charge", "permanence", "Bob Sup", "Cleo Sup"),
    "en": ("Desk g1", "Urgence", "acknowledged", "on call", "Bob Sup", "Cleo Sup"),
}
TITLES = {
    "fr": ("Poste", "Code", "Depuis", "État", "En route"),
    "en": ("Desk", "Code", "For", "State", "On the way"),
}


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
    hub: RunningHub,
    size: tuple[int, int],
    language: i18n.Language,
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
    fit = words.Fit.of(full, Text("Jérôme Martin\nPaul Leroy +1"))
    assert render(fit, 22) == ["Jérôme Martin 06:04:04", "Paul Leroy 06:04:05 +1"]
    assert render(fit, 14) == ["Jérôme Martin", "Paul Leroy +1"]
    assert render(fit, 8) == ["Jérôme …", "Paul Le…"]
    timed = words.Fit.of(
        full,
        Text("Jérôme Martin\nPaul Leroy +1"),
        Text("Jérôme M.\nPaul L. +1"),
        keep=(0, 3),
        joint=1,
    )
    assert render(timed, 22) == full.plain.split("\n")
    assert render(timed, 21) == ["Jérôme Martin", "Paul Leroy +1"], "times on both lines or none"
    short_first = words.Fit.of(
        Text("Ana 06:04:04\nPaul Leroy 06:04:05 +1"),
        Text("Ana\nPaul Leroy +1"),
        keep=(0, 3),
        joint=1,
    )
    assert render(short_first, 16) == ["Ana", "Paul Leroy +1"], "no time on one line only"
    assert render(timed, 12) == ["Jérôme M.", "Paul L. +1"]
    assert render(timed, 13) == ["Jérôme Martin", "Paul Leroy +1"]
    assert render(timed, 7) == ["Jérôme…", "Pau… +1"], "the count kept"
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


# -- the escalation's target and the responders, with the demo's names -------------------------
#
# Regression: the state column was capped at 22 cells, so "niv. 1 → Martine Durand" read
# "niv. 1 → Martine Dura…" at 120 and 200 columns with room to spare, and "niv. 1 → Martin…" at
# 80, which names Jérôme Martin, another supervisor; three responders lost their "+1" at 80.

NAMES = {"Ana Sup": "Jérôme Martin", "Bob Sup": "Martine Durand", "Cleo Sup": "Paul Leroy"}
LONG_MESSAGE = (
    "Monsieur très agité, dit qu'il n'a plus rien depuis la suspension de ses droits, "
    "parle de se jeter sous un train ce soir, refuse de partir et pleure. Il a un "
    "couteau dans son sac selon sa voisine de file. Je reste avec lui dans le box, la "
    "porte est ouverte, venez vite svp."
)


@pytest.fixture
def named_hub(tmp_path: Path) -> Iterator[RunningHub]:
    """s.a Jérôme Martin on call, s.b Martine Durand next in the chain, s.c Paul Leroy; an
    unanswered alert reaches level 1 after 1.5 s and everyone after 3 s."""
    roster = roster_toml(ack_timeout_s=1.5)
    for old, new in NAMES.items():
        roster = roster.replace(old, new)
    hub = start_threaded_hub(HubConfig.model_validate(tomllib.loads(roster)), tmp_path / "hub")
    yield hub
    hub.stop()


def raise_alert(
    hub: RunningHub, desk: str = "g1", message: str | None = None, seconds_ago: float = 0
) -> str:
    """Pressed `seconds_ago` (the longest waiting comes first, and is selected)."""
    pressed = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    alert = new_alert(
        "renfort", created_at=pressed.isoformat(), **({"message": message} if message else {})
    )
    httpx.post(f"{hub.url}/v1/alerts", json=alert, headers=auth(desk)).raise_for_status()
    return str(alert["id"])


def state_lines(app: Any) -> list[str]:
    return [line for line in table_lines(app) if "→" in line]


@pytest.mark.parametrize("width", [100, 120, 200])
async def test_the_escalation_target_is_named_whole_when_there_is_room(
    named_hub: RunningHub,
    width: int,
) -> None:
    app = make_pane(named_hub.url, "s.c")
    async with app.run_test(size=(width, 36)) as pilot:
        await live(pilot)
        await in_thread(lambda: raise_alert(named_hub))
        await wait_until(pilot, lambda: "niv. 1" in "".join(table_lines(app)), what="level 1")
        assert "niv. 1 → Martine Durand" in state_lines(app)[0], table_lines(app)


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_a_cut_escalation_target_never_reads_as_another_supervisor(
    named_hub: RunningHub,
    language: i18n.Language,
) -> None:
    """At 80 columns the name is said short, first name whole ("Martine D."), never "Martin…"."""
    app = make_pane(named_hub.url, "s.c", language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await live(pilot)
        await in_thread(lambda: raise_alert(named_hub))
        await wait_until(
            pilot,
            lambda: bool(re.search(r"(niv\.|lvl|⇧)\s?1", "".join(table_lines(app)))),
            what="level 1",
        )
        line = state_lines(app)[0]
        assert re.search(r"1 → Martine D(\.|urand)", line), line
        assert "Martin…" not in line and "Martine Du…" not in line


def test_a_short_name_is_unique_among_the_names_the_pane_knows() -> None:
    known = ["Martine Durand", "Jérôme Martin", "Paul Leroy"]
    assert words.short_name("Martine Durand", known) == "Martine D."
    assert words.short_name("Martine Durand", [*known, "Martine Dupont"]) == "Martine Dur."
    assert words.short_name("Guichet 3", known) == "Guichet 3", "not a person's name: kept"
    assert words.short_name("Paul", known) == "Paul"


async def test_three_responders_keep_their_count_at_80_columns(named_hub: RunningHub) -> None:
    app = make_pane(named_hub.url, "s.c")
    async with app.run_test(size=(80, 24)) as pilot:
        await live(pilot)

        def answered_by_three() -> None:
            alert_id = raise_alert(named_hub)
            for who in ("s.b", "s.a", "s.c"):
                httpx.post(
                    f"{named_hub.url}/v1/alerts/{alert_id}/ack", headers=auth(who)
                ).raise_for_status()

        await in_thread(answered_by_three)
        await wait_until(
            pilot,
            lambda: "+1" in "".join(table_lines(app)),
            timeout=5,
            what="the count of the third responder",
        )
        first, second = table_lines(app)[1:3]
        assert re.search(r"Martine Durand\s*$", first.rstrip(" │")), "whole: it fits"
        assert re.search(r"Jérôme M(\.|artin) \+1\s*$", second.rstrip(" │")), second


async def test_the_desks_message_is_under_the_table_at_80x24_with_three_alerts_in_view(
    named_hub: RunningHub,
) -> None:
    """Regression: the panel showed the title and the protocol, and no line of the message."""
    app = make_pane(named_hub.url, "s.c")
    async with app.run_test(size=(80, 24)) as pilot:
        await live(pilot)
        await in_thread(
            lambda: [
                raise_alert(named_hub, desk, message, ago)
                for desk, message, ago in (
                    ("g1", LONG_MESSAGE, 60),
                    ("g2", None, 0),
                    ("e1", None, 0),
                )
            ]
        )
        await wait_until(pilot, lambda: app.query_one("#alerts").row_count == 3, what="3 rows")
        await wait_until(pilot, lambda: "Desk g1" in detail_text(app), what="g1 selected")
        # The panel's lines come over a few refreshes under load (CI once read the first alone).
        await wait_until(pilot, lambda: "Message : " in detail_text(app), what="its message")
        drawn = detail_text(app)
        assert "Message : Monsieur très agité" in drawn, drawn
        assert "venez vite svp." in drawn, "the message wrapped, here whole"
        assert "L'encadrant vient" not in drawn.split("Message")[0], "the message first"
        assert sum("Desk " in line for line in table_lines(app)) == 3, table_lines(app)


def detail_text(app: Any) -> str:
    """The panel under the table as drawn (its frame and what overflows left out)."""
    detail = app.query_one("#detail")
    return "\n".join(
        detail.render_line(y).text for y in range(detail.scrollable_content_region.height)
    )
