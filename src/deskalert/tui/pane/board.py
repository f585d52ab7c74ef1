"""The pane's main screen: its layout, and its widgets' state set from `PaneState`.

The app decides; the board shows. `show()` sets every widget's state, `show_detail()` only the
selected alert's; each widget redraws only if its state changed (widgets.py). Like the desk's
board (tui/desk/board.py), it draws nothing while the main screen is not the one shown or is
being torn down.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from textual.app import App, ComposeResult
from textual.containers import Horizontal

from deskalert.tui.base import Clock, HubApp
from deskalert.tui.footer import HubFooter
from deskalert.tui.pane.broadcast import BroadcastPanel
from deskalert.tui.pane.interview import InterviewPanel
from deskalert.tui.pane.notify_flag import NotifyFlag
from deskalert.tui.pane.state import PaneState, midnight
from deskalert.tui.pane.widgets import (
    AlertDetail,
    AlertTable,
    DeskPanel,
    LinkWhy,
    OfflineFlag,
    OnCallPanel,
    StreamBadge,
    WhoAmI,
)


class Board:
    """The pane screen of one app (module docstring)."""

    def __init__(
        self,
        app: App[Any],
        state: PaneState,
        interview: InterviewPanel,
        clock: Clock,
        broadcasts: BroadcastPanel | None = None,
    ) -> None:
        self.app, self.state, self.interview, self.now = app, state, interview, clock
        self.broadcasts = broadcasts  # the broadcast panel (pane/broadcast.py), above the alerts

    def compose(self) -> ComposeResult:
        """The layout, yielded from the app's `compose` (link-bound widgets follow the app's)."""
        with Horizontal(id="topbar"):
            yield WhoAmI(id="who")
            yield StreamBadge(id="stream").data_bind(HubApp.link)
        yield LinkWhy(id="link-why").data_bind(HubApp.link)
        yield OfflineFlag(id="offline-flag")
        yield NotifyFlag(id="notify-flag")
        if self.broadcasts is not None:
            yield self.broadcasts
        yield AlertTable(self.now, id="alerts").data_bind(HubApp.link)
        yield AlertDetail(id="detail").data_bind(HubApp.compact)
        yield self.interview
        with Horizontal(id="bottom"):
            yield DeskPanel(id="presence")
            yield OnCallPanel(id="oncall").data_bind(HubApp.compact)
        yield HubFooter().data_bind(HubApp.compact)  # Textual's compact footer

    def show(self, *, history: bool, selected: UUID | None, live: bool) -> None:
        """Set each widget's state: `history` the day's alerts rather than the open ones,
        `selected` the alert under the cursor, `live` whether the stream is up."""
        app = self.app
        if not app.is_running or not app.query(WhoAmI):
            return  # the screen is being torn down: an event landing now has nothing to draw
        state = self.state
        app.query_one(WhoAmI).person = state.person_name(state.me)
        app.query_one(OfflineFlag).count = len(state.offline_desks())
        table = app.query_one(AlertTable)
        table.names = state.names()
        table.new = frozenset(state.new)
        table.history = history
        table.loaded = state.loaded
        table.alerts = tuple(
            state.history(midnight(self.now())) if history else state.open_alerts()
        )
        desks = app.query_one(DeskPanel)
        desks.desks, desks.sites = dict(state.desks), state.site_labels()
        desks.refused, desks.outside = state.refused, state.outside
        # Live only: while the stream is down, who can come now is not known.
        desks.availability = dict(state.availability) if live else {}
        app.query_one(OnCallPanel).cards = tuple(state.oncall.values())
        self.interview.sites = state.site_labels()
        if self.broadcasts is not None:
            self.broadcasts.offline = frozenset(d.id for d in state.desks.values() if not d.online)
        self.show_detail(selected)

    def show_detail(self, selected: UUID | None) -> None:
        alert = self.state.alerts.get(selected) if selected else None
        detail = self.app.query_one(AlertDetail)
        detail.alert, detail.loaded = alert, self.state.loaded
        detail.code = self.state.codes.get(alert.code) if alert else None
