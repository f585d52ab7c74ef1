"""Helpers for the desk app's tests: a DeskApp wired to a real hub, a clock, waiting for states."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from deskalert.client.settings import ClientConfig
from deskalert.journal.store import Journal
from deskalert.tui.desk.app import DeskApp
from deskalert.tui.parts import Part
from support.ports import free_port
from support.waiting import wait_until_async

__all__ = ["free_port"]  # kept here too: tests import it from desk_helpers


def desk_config(
    url: str, desk: str = "g1", *, language: str = "fr", keys: dict[str, str] | None = None
) -> ClientConfig:
    return ClientConfig.model_validate(
        {"language": language, "hub": {"url": url}, "desk": {"id": desk}, "keys": keys or {}}
    )


class FakeClock:
    """Local time for what the desk draws: fixed, moved on by the test (snapshots stay stable)."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def make_desk(url: str, journal_path: Path, desk: str = "g1", **kwargs: Any) -> DeskApp:
    config_keys = {k: kwargs.pop(k) for k in ("language", "keys") if k in kwargs}
    return DeskApp(
        desk_config(url, desk, **config_keys), f"tok-{desk}", Journal(journal_path), **kwargs
    )


async def wait_until(
    pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 10, what: str = "condition"
) -> float:
    """Let the app run until `condition` holds (support.waiting's wait, with the pilot's pause
    between two looks); returns the seconds it took."""
    start = time.monotonic()
    await wait_until_async(condition, timeout, what, pause=pilot.pause)
    return time.monotonic() - start


def text_of(app: DeskApp, selector: str) -> str:
    """What a part of the desk shows now ("" while hidden)."""
    widget = app.screen_stack[0].query_one(selector)
    if isinstance(widget, Part):
        return widget.text
    return str(widget.render()) if widget.display else ""


async def in_thread(fn: Callable[[], Any]) -> Any:
    """Blocking hub work (start, stop, HTTP) without freezing the app under test."""
    return await asyncio.to_thread(fn)


def make_pane(url: str, who: str = "s.a", **kwargs: Any) -> Any:
    from deskalert.tui.pane.app import PaneApp

    config = ClientConfig.model_validate({"hub": {"url": url}, "supervisor": {"id": who}})
    return PaneApp(config, f"tok-{who}", **kwargs)


def table_rows(app: Any) -> list[str]:
    """The alerts table as lines of plain text, one per row."""
    from textual.widgets import DataTable

    table = app.query_one("#alerts", DataTable)
    return [" | ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


def screen_text(app: Any) -> str:
    """The terminal's text as a person sees it now, line by line (what `export_screenshot`
    draws, as plain text; Textual has no public call for the text alone)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()
