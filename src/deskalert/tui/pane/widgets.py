"""The pane's widgets: each owns the reactive state it shows and draws it; the app only sets it.

The boxes are `Part`s (tui/parts.py, shared with the desk): drawn from their reactive values
by `draw()`, shown or hidden by `shown()`, read by tests through `text`.

`AlertTable` changes by row key (`add_row(key=...)`, `update_cell`, `remove_row`), never by
clearing and refilling, so the cursor, the scroll position and the supervisor's eye stay where
they were; its own 1 s tick moves the elapsed times and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from deskalert.i18n import N_, t, tn
from deskalert.keypress import key_press
from deskalert.models import (
    Alert,
    AlertCode,
    Check,
    DeskPresence,
    InterviewSession,
    OnCall,
    RefusedDesk,
    RefusedToken,
    SiteAvailability,
)
from deskalert.tui.base import LinkBadge
from deskalert.tui.link import LinkKind, LinkState, link_detail, link_reason
from deskalert.tui.pane import columns, site_words, words
from deskalert.tui.parts import Part


class WhoAmI(Part):
    """The supervisor this pane acts as."""

    person: reactive[str] = reactive("")

    def draw(self) -> Text:
        return Text(words.clean(self.person), style="bold")


class StreamBadge(LinkBadge):
    """The link as the pane words it: the stream live, or broken since a time; a refused token
    keeps the base's own red words (it does not clear by itself)."""

    UP_TEXT: ClassVar[str] = N_("pane.live")
    VIA_TEXT: ClassVar[str] = N_("pane.live_via")

    def render_link(self, link: LinkState) -> Text:
        if link.kind.is_down and link.kind is not LinkKind.TOKEN_REFUSED:
            since = words.clock_time(link.since) if link.since else "?"
            return Text(f"● {t('pane.broken', time=since)}", style="bold red")
        return super().render_link(link)


class LinkWhy(Part):
    """Under the top bar while the link is down: why, named as what it is (unreachable, timeout,
    refused token, a proxy's page or a hub of another version, a hub error)."""

    link: reactive[LinkState] = reactive(LinkState, layout=True)

    def shown(self) -> bool:
        return self.link.kind.is_down

    def watch_link(self, link: LinkState) -> None:
        self.set_class(link.kind is LinkKind.TOKEN_REFUSED, "-token-refused")
        self._changed()

    def draw(self) -> Text:
        text = Text(words.clean(link_reason(self.link)), style="bold")
        if detail := link_detail(self.link):
            text.append("\n" + detail, style="dim")
        if self.link.kind is LinkKind.TOKEN_REFUSED:
            text.append("\n" + t("pane.token_refused_hint"))
        return text


class AlertDetail(Part):
    """The selected alert: where, code, key press and reception, message, summary, protocol."""

    alert: reactive[Alert | None] = reactive(None, layout=True)
    code: reactive[AlertCode | None] = reactive(None, layout=True)
    loaded: reactive[bool] = reactive(False)  # the hub's list came at least once
    compact: reactive[bool] = reactive(False, layout=True)  # the app's: the protocol gives way

    def draw(self) -> Text:
        if self.alert is None:
            return Text(t("pane.none" if self.loaded else "pane.none_unknown"), style="dim")
        return words.summary(self.alert, None if self.compact else self.code)


class DeskPanel(Part):
    """Desks per site under who can come there now, online or since when not; the tokens the
    hub refused lately and the desks refused from outside their site's networks."""

    desks: reactive[dict[str, DeskPresence]] = reactive(dict, layout=True)
    sites: reactive[dict[str, str]] = reactive(dict, layout=True)
    refused: reactive[tuple[RefusedToken, ...]] = reactive(tuple, layout=True)
    availability: reactive[dict[str, SiteAvailability]] = reactive(dict, layout=True)
    outside: reactive[tuple[RefusedDesk, ...]] = reactive(tuple, layout=True)

    def draw(self) -> Text:
        return site_words.presence(
            self.desks, self.sites, self.refused, self.availability, self.outside
        )


class OnCallPanel(Part):
    cards: reactive[tuple[OnCall, ...]] = reactive(tuple, layout=True)
    # The app's: one line a site, who and the number (the chain and notes give way; key o).
    compact: reactive[bool] = reactive(False, layout=True)

    def draw(self) -> Text:
        return site_words.oncall(self.cards, brief=self.compact)


class OfflineFlag(Part):
    """Shown only while a desk that was online has gone silent: its agent cannot call."""

    count: reactive[int] = reactive(0, layout=True)

    def shown(self) -> bool:
        return self.count > 0

    def watch_count(self) -> None:
        self._changed()

    def draw(self) -> Text:
        return Text(tn("presence.flag", self.count))


class AlertTable(DataTable[words.Cell]):
    """Open alerts (or the day's history), most urgent first; rows kept by alert id.

    The app sets `alerts`, `new`, `names`, `loaded` and `history` (`link` is bound to the app's);
    the table works out which rows to add, change or remove. Moving the cursor by hand is looking
    at the alert it lands on (`Looked`); the table moving it itself (a row removed) is not.
    Its columns fit the width it has and what they hold (`columns.fit`, on every resize and
    whenever the widest content of a column changes): at 80 columns the state and the responders
    stay readable while the location and the code label give way; wider, spare room goes to the
    columns whose content is cut, the escalation's target first.
    """

    alerts: reactive[tuple[Alert, ...]] = reactive(tuple)
    new: reactive[frozenset[UUID]] = reactive(frozenset)
    names: reactive[dict[str, str]] = reactive(dict)  # supervisor id -> name, for escalations
    link: reactive[LinkState] = reactive(LinkState)  # down: the rows are the last known list
    loaded: reactive[bool] = reactive(False)  # the hub's list came at least once
    history: reactive[bool] = reactive(False)

    @dataclass
    class Looked(Message):
        alert_id: UUID

    TITLES: ClassVar[dict[str, str]] = {
        "history": N_("pane.history_title"),
        "open": N_("pane.open_title"),
        "stale": N_("pane.stale_title"),
        "unknown": N_("pane.unknown_title"),
    }

    def __init__(self, clock: Callable[[], datetime], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.clock = clock
        self._cells: dict[str, dict[str, words.Cell]] = {}  # what each row shows, by column
        self._shown: dict[str, Alert] = {}
        self._order: dict[str, tuple[Any, ...]] = {}
        self._sync_pending = False
        self._wanted: dict[str, int] = {}  # the widest content of each column, as last fitted

    def on_mount(self) -> None:
        for key in columns.KEYS:
            width = columns.BEST[key]
            self.add_column(words.column_title(key, width), key=key, width=width)
        self.set_interval(1.0, self.tick)
        self._retitle()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Column widths (and titles, long or short) for the width the table has now.

        Textual's DataTable (8.2) has no public way to resize a column: after setting
        `Column.width` this takes the two steps its own `watch_cell_padding` takes (measure
        again, drop the rendered cells), so that the new widths show at once.
        """
        room = self.scrollable_content_region.width - 2 * self.cell_padding * len(self.columns)
        self._wanted = self._content_widths()
        widths = columns.fit(room, mark=words.mark_width(), wanted=self._wanted)
        for key, column in self.columns.items():
            column.width = widths[str(key.value)]
            column.label = words.column_title(str(key.value), column.width)
        self._require_update_dimensions = True
        self._clear_caches()
        self.refresh()

    def _content_widths(self) -> dict[str, int]:
        return {
            key: max((words.widest(cells[key]) for cells in self._cells.values()), default=0)
            for key in columns.KEYS
        }

    def _refit_if_content_changed(self) -> None:
        if self.columns and self._content_widths() != self._wanted:
            self._fit()

    # -- state in, rows out ---------------------------------------------------------------

    def watch_alerts(self) -> None:
        self._schedule_sync()

    def watch_new(self) -> None:
        self._schedule_sync()

    def watch_names(self) -> None:
        self._schedule_sync()

    def watch_history(self) -> None:
        self._schedule_sync()

    def watch_loaded(self) -> None:
        self._retitle()

    def watch_link(self, link: LinkState) -> None:
        self.set_class(link.kind.is_down, "-stale")
        self._retitle()

    def _schedule_sync(self) -> None:
        """Several attributes set together make one pass over the rows."""
        if not self._sync_pending:
            self._sync_pending = True
            self.call_later(self._sync)

    def _sync(self) -> None:
        self._sync_pending = False
        wanted = {str(a.id): a for a in self.alerts}
        for key in [k for k in self._cells if k not in wanted]:
            self.remove_row(key)
            del self._cells[key], self._order[key]
        self._shown = wanted
        now = self.clock()
        for key, alert in wanted.items():
            cells = {
                "mark": words.mark_cell(alert, alert.id in self.new),
                "elapsed": words.elapsed_cell(alert, now),
                **words.alert_cells(alert, self.names),
            }
            self._order[key] = self._sort_key(alert)
            if key not in self._cells:
                self.add_row(*(cells[k] for k in columns.KEYS), key=key, height=2)
                self._cells[key] = cells
            else:
                self._update(key, cells)
        self._reorder()
        self._refit_if_content_changed()
        self._retitle()

    def _sort_key(self, alert: Alert) -> tuple[Any, ...]:
        start = key_press(alert).start
        if self.history:  # newest first
            return (-start.timestamp(),)
        return (alert.priority, start.timestamp())

    def _update(self, key: str, cells: Mapping[str, words.Cell]) -> None:
        held = self._cells[key]
        for column, value in cells.items():
            if held.get(column) != value:
                self.update_cell(key, column, value, update_width=True)
                held[column] = value

    def _reorder(self) -> None:
        """Rows in urgency order, the cursor staying on the alert it was on.

        `DataTable.sort` hands its key function cell values, not row keys: each row's own mark
        cell (one object per row) stands for its row.
        """
        current = [str(row.key.value) for row in self.ordered_rows]
        if current == sorted(current, key=self._order.__getitem__):
            return
        selected = self.selected_id()
        order = {id(self.get_cell(key, "mark")): self._order[key] for key in current}
        self.sort("mark", key=lambda mark: order[id(mark)])
        if selected is not None:
            self.move_cursor(row=self.get_row_index(str(selected)), animate=False)

    def tick(self) -> None:
        """Once a second: the elapsed times, and only those."""
        now = self.clock()
        for key, alert in self._shown.items():
            self._update(key, {"elapsed": words.elapsed_cell(alert, now)})
        self._refit_if_content_changed()

    def _retitle(self) -> None:
        mode = (
            "history"
            if self.history
            else "open"
            if not self.link.kind.is_down
            else "stale"
            if self.loaded
            else "unknown"
        )
        self.border_title = t(self.TITLES[mode], count=len(self.alerts))

    # -- looking --------------------------------------------------------------------------

    def selected_id(self) -> UUID | None:
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return UUID(str(row_key.value))

    def _looked(self) -> None:
        if (alert_id := self.selected_id()) is not None:
            self.post_message(self.Looked(alert_id))

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        self._looked()

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self._looked()


class SessionPanel(Part):
    """Interview sessions per site with the time left, and the "tout va bien ?" checks waiting
    for an answer; hidden while there are none. `now` is set by the app's tick."""

    sessions: reactive[tuple[InterviewSession, ...]] = reactive(tuple, layout=True)
    checks: reactive[tuple[Check, ...]] = reactive(tuple, layout=True)
    sites: reactive[dict[str, str]] = reactive(dict)
    now: reactive[datetime | None] = reactive(None)

    def shown(self) -> bool:
        return bool(self.sessions or self.checks)

    def watch_sessions(self) -> None:
        self._changed()

    def watch_checks(self) -> None:
        self._changed()

    def draw(self) -> Text:
        return site_words.sessions(self.sessions, self.checks, self.sites, self.now)
