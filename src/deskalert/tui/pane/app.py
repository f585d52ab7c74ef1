"""The supervisor pane: live alerts, one key for "j'arrive", escalation, presence and on-call.

The supervisor's screen is "the pane" in the code (`PaneApp`, `tui/pane/`); the command that
opens it is `deskalert supervise` (docs/architecture.md, "Screens").

Built on `HubApp` (tui/base.py), which follows the stream, keeps presence, owns the link state,
applies `[keys]` and is the one place worker failures land. This module adds what is the pane's
own: the events' meaning for a supervisor, the keys (their requests to the hub and the answers
told: `PaneRequests`, requests.py), and the refused tokens (read every 15 s: they come with no
event). Handlers update `PaneState` (state.py, no Textual), then
only set the widgets' reactive state (`_publish`): each widget (widgets.py, drawn by words.py)
draws itself, the alert table changes row by row, and nothing redraws on a timer but the
table's elapsed times. The snapshot and the workers' messages are in messages.py; the interview
timer is a widget that handles its own messages (`InterviewPanel`, interview.py).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from deskalert import sitetime
from deskalert.client.hub_words import logged
from deskalert.client.settings import ClientConfig
from deskalert.errors import DeskAlertError
from deskalert.i18n import N_, t
from deskalert.journal.store import Journal
from deskalert.models import (
    Alert,
    AlertEvent,
    AvailabilityEvent,
    BroadcastEvent,
    CheckEvent,
    EventType,
    NoteIn,
    OnCallEvent,
    Presence,
    PresenceEvent,
    SessionEvent,
)
from deskalert.tui.base import Clock, HubApp, local_now
from deskalert.tui.messages import HubEvent
from deskalert.tui.note_form import Keep, NoteForm, share_with_hub
from deskalert.tui.pane import words
from deskalert.tui.pane.board import Board
from deskalert.tui.pane.broadcast import act_on_broadcasts
from deskalert.tui.pane.features import PaneFeatures
from deskalert.tui.pane.messages import (
    Answered,
    PaneSnapshot,
    Refused,
    RefusedTokens,
    load_pane_snapshot,
    presence_or_desks,
)
from deskalert.tui.pane.notify_flag import NotifyFlag
from deskalert.tui.pane.requests import PaneRequests
from deskalert.tui.pane.screens import Details, Prompt
from deskalert.tui.pane.state import PaneState, midnight
from deskalert.tui.pane.widgets import (
    AlertTable,
)

DEBRIEF_DAYS = 31
REFUSED_EVERY_S = 15.0  # how often the refused tokens are read again (they come with no event)
# What the note form leaves in view (note_form.py): who the pane is and whether the stream holds.
FORM_KEEP = Keep(above=("#topbar", "#link-why"))


def until(value: str, now: datetime) -> datetime | None:
    """'18:30' -> today at 18:30 in the site's zone, or tomorrow if that time has passed."""
    try:
        hour, minute = (int(part) for part in value.strip().split(":"))
        moment = sitetime.at(now, hour, minute)
    except ValueError:
        return None
    return moment if moment > now else moment + timedelta(days=1)


class PaneApp(HubApp):
    CSS_PATH = "styles.tcss"
    # Textual declares it `ClassVar[...] | None`, which mypy reads as an instance variable.
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (20, "-tall")]  # type: ignore[misc]
    # The ids are the names config.toml [keys] remaps; descriptions are catalogue ids.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "respond", N_("pane.binding.respond"), id="respond"),
        Binding("r", "resolve", N_("pane.binding.resolve"), id="resolve"),
        Binding("x", "cancel_alert", N_("pane.binding.cancel"), id="cancel"),
        Binding("m", "broadcast('send')", N_("pane.binding.broadcast"), id="broadcast"),
        # then in the order they give way in a narrow footer: the last is cut first
        Binding("k", "check", N_("pane.binding.check"), id="check"),
        Binding("f", "note", N_("pane.binding.note"), id="note"),
        Binding("o", "oncall", N_("pane.binding.oncall"), id="oncall"),
        Binding("h", "history", N_("pane.binding.history"), id="history"),
        Binding("d", "debrief", N_("pane.binding.debrief"), id="debrief"),
        Binding("t", "broadcast('end')", N_("pane.binding.end_broadcast"), id="end_broadcast"),
    ]
    action_broadcast = act_on_broadcasts  # m sends one, t ends one (pane/broadcast.py)

    def __init__(
        self,
        config: ClientConfig,
        token: str,
        *,
        clock: Clock = local_now,
        journal: Journal | None = None,
    ) -> None:
        assert config.supervisor is not None
        super().__init__(config, token, clock=clock)
        self.journal = journal  # where this supervisor's note drafts are saved as typed
        self.state = PaneState(config.supervisor.id)
        self.showing_history = False
        self.selected: UUID | None = None
        # features.py: interview (with the hub's time: its deadlines count down), broadcasts
        self.hub_parts = PaneFeatures(self.client, self.hub_time.now)
        self.interview, self.broadcasts = self.hub_parts.interview, self.hub_parts.broadcasts
        self.board = Board(self, self.state, self.interview, clock, self.broadcasts)
        self.requests = PaneRequests(self, self.state)  # requests.py: the keys' asks to the hub
        self.title = t("pane.title")

    def compose(self) -> ComposeResult:
        yield from self.board.compose()

    def notify(self, message: str, *, markup: bool = False, **kwargs: Any) -> None:
        """Notifications carry desk labels and hub reasons: never read as Textual markup (a
        stray "[/x]" in a label would otherwise fail or restyle the message)."""
        super().notify(message, markup=markup, **kwargs)

    def on_mount(self) -> None:
        self.query_one("#presence").border_title = t("presence.title")
        self.query_one("#oncall").border_title = t("pane.oncall_title")
        self._publish()
        self.keep_running("refused", self._watch_refused_tokens, t("worker.refused"))

    # -- the hub ----------------------------------------------------------------------------

    async def load_snapshot(self) -> PaneSnapshot:
        snapshot = await load_pane_snapshot(self.client, self._midnight(), self.beat_hub)
        self.post_message(NotifyFlag.Read(snapshot.notify))
        return snapshot

    async def _watch_refused_tokens(self) -> None:
        """The tokens the hub refused lately and its notification backlog: read again every 15 s
        (no event carries them)."""
        while True:
            await asyncio.sleep(REFUSED_EVERY_S)
            try:
                self.post_message(RefusedTokens(await presence_or_desks(self.client)))
                self.post_message(NotifyFlag.Read(tuple((await self.client.health()).notify)))
            except DeskAlertError as exc:
                self.hub_failed(exc)  # the link says what is wrong; read again next time

    # -- keys -------------------------------------------------------------------------------

    def selected_alert(self) -> Alert | None:
        alert = self.state.alerts.get(self.selected) if self.selected else None
        if alert is None:
            self.notify(t("pane.notify.no_selection"), severity="warning")
        return alert

    def _looked_at(self, alert_id: UUID) -> None:
        if alert_id in self.state.new:
            self.state.new.discard(alert_id)
            self._publish()

    def action_respond(self) -> None:
        if alert := self.selected_alert():
            self._looked_at(alert.id)
            self.requests.send("respond", alert.id)

    def action_resolve(self) -> None:
        self._ask_and_close("resolve", N_("prompt.resolve"))

    def action_cancel_alert(self) -> None:
        self._ask_and_close("cancel", N_("prompt.cancel"))

    def _ask_and_close(self, what: str, question: str) -> None:
        """A one-line summary or reason, then the request; escape closes nothing."""
        if alert := self.selected_alert():
            self._looked_at(alert.id)
            prompt = Prompt(t(question, desk=words.clean(alert.desk_label)), t("prompt.hint"))
            self.push_screen(prompt, lambda text: self._close_with(what, alert.id, text))

    def _close_with(self, what: str, alert_id: UUID, text: str | None) -> None:
        if text is not None:
            self.requests.send(what, alert_id, text or None)

    def action_oncall(self) -> None:
        alert = self.state.alerts.get(self.selected) if self.selected else None
        sites = sorted(self.state.oncall)
        site = alert.site if alert else (sites[0] if sites else None)
        if site is None:
            return
        site_label = words.clean(self.state.site_labels().get(site, site))
        self.push_screen(
            Prompt(
                t("prompt.oncall", site=site_label),
                t("prompt.hint"),
                check=lambda v: None if until(v, self.now()) else t("prompt.bad_time"),
            ),
            lambda text: self._take_oncall(site, text),
        )

    def _take_oncall(self, site: str, text: str | None) -> None:
        moment = until(text or "", self.now())
        if moment is not None:
            self.requests.send("oncall", None, site=site, until=moment)

    def action_check(self) -> None:
        """Ask a desk "tout va bien ?" (the interview panel's)."""
        self.interview.ask(sorted(self.state.desks))

    def action_history(self) -> None:
        self.showing_history = not self.showing_history
        self._publish()

    def action_note(self) -> None:
        """The incident note of the selected alert, for a supervisor who handled it."""
        alert = self.selected_alert()
        if alert is not None and self.journal is None:
            self.notify(t("pane.notify.no_journal"), severity="warning")
        elif alert is not None and self.journal is not None:
            form = NoteForm(alert, self.journal, self.config.language, FORM_KEEP)
            self.push_screen(form)

    @on(NoteForm.Finished)
    def _note_finished(self, message: NoteForm.Finished) -> None:
        self.share_note(message.alert_id, message.note)

    @work(group="notes", exit_on_error=False)
    async def share_note(self, alert_id: UUID, note: NoteIn) -> None:
        await share_with_hub(self, self.client, self.journal, alert_id, note)

    @work(group="debrief", exclusive=True, exit_on_error=False)
    async def action_debrief(self) -> None:
        """The figures of the last 31 days (every desk's alerts and shared notes, the messages
        sent to the desks), as charts."""
        from deskalert.client.incidents import hub_incidents
        from deskalert.journal.debrief import report_text

        since = self._midnight() - timedelta(days=DEBRIEF_DAYS - 1)
        try:
            incidents = await hub_incidents(self.client, since)
            broadcasts = await self.client.broadcasts_sent(since, None)
        except DeskAlertError as exc:
            self.hub_failed(exc)
            self.notify(logged(exc, "debrief"), severity="error")
            return
        text = report_text(
            incidents,
            self.config.language,
            since,
            self.now(),
            color=True,
            width=60,
            broadcasts=broadcasts,
        )
        await self.push_screen(Details(Text.from_ansi(text)))

    @on(DataTable.RowSelected)
    def _open_details(self, event: DataTable.RowSelected) -> None:
        alert_id = UUID(str(event.row_key.value))
        self._looked_at(alert_id)
        self.show_details(alert_id)

    @work(group="details", exclusive=True, exit_on_error=False)
    async def show_details(self, alert_id: UUID) -> None:
        alert = self.state.alerts[alert_id]
        try:
            history = await self.client.history(alert_id)
        except DeskAlertError as exc:
            self.hub_failed(exc)
            self.notify(logged(exc, "history"), severity="error")
            history = []
        body = words.details(
            alert, self.state.codes.get(alert.code), history, self.state.names(), self.state.desks
        )
        await self.push_screen(Details(body))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.selected = UUID(str(event.row_key.value)) if event.row_key.value else None
        self._publish_detail()

    @on(AlertTable.Looked)
    def _looked(self, message: AlertTable.Looked) -> None:
        """The supervisor moved onto it: it no longer stands out."""
        self._looked_at(message.alert_id)

    # -- messages ---------------------------------------------------------------------------

    @on(PaneSnapshot)
    def _on_snapshot(self, message: PaneSnapshot) -> None:
        state = self.state
        state.codes = {c.code: c for c in message.codes}
        state.desks = {d.id: d for d in message.desks}
        state.oncall = {c.site: c for c in message.oncall}
        self._take_refusals(message.refused)
        state.availability = {a.site: a for a in message.availability}
        state.loaded = True
        fresh = [a for a in message.alerts if state.apply(a) and not a.state.is_closed]
        if fresh := [a for a in fresh if not a.responders]:
            state.new.update(a.id for a in fresh)
            self.bell()
        self._publish()
        self.hub_parts.load(self.state.site_labels())

    @on(HubEvent)
    def _on_event(self, message: HubEvent) -> None:
        match message.event:
            case AlertEvent(type=kind, data=alert):
                self._on_alert(kind, alert)
            case OnCallEvent(data=card):
                self.state.oncall[card.site] = card
            case PresenceEvent(type=kind, data=desk):
                held = self.state.desks.get(desk.id, desk)
                if kind is EventType.DESK_OFFLINE and held.online:
                    self.notify(
                        t("pane.notify.offline", desk=words.clean(desk.label)),
                        severity="error",
                        timeout=15,
                    )
                self.state.desks[desk.id] = desk
            case AvailabilityEvent(data=numbers):
                self.state.availability[numbers.site] = numbers
            case SessionEvent() | CheckEvent() | BroadcastEvent():  # the features' own
                self.hub_parts.take(message.event)
        self._publish()

    def _on_alert(self, kind: EventType, alert: Alert) -> None:
        is_new = self.state.apply(alert)
        if kind is EventType.ALERT_RAISED and is_new:
            self.state.new.add(alert.id)
            self.bell()
        elif kind is EventType.ALERT_ESCALATED and self.state.escalated_to_me(alert):
            self.bell()

    @on(RefusedTokens)
    def _on_refused_tokens(self, message: RefusedTokens) -> None:
        self._take_refusals(message.refused)
        self._publish()

    def _take_refusals(self, presence: Presence) -> None:
        self.state.refused = tuple(presence.refused_tokens)
        self.state.outside = tuple(presence.refused_desks)

    @on(NotifyFlag.Read)
    def _on_notify_backlog(self, message: NotifyFlag.Read) -> None:
        self.query_one(NotifyFlag).backlog = message.backlog

    @on(Answered)
    def _on_answered(self, message: Answered) -> None:
        self.requests.answered(message)
        self._publish()

    @on(Refused)
    def _on_refused(self, message: Refused) -> None:
        self.requests.refused(message)

    # -- state to widgets -------------------------------------------------------------------

    def _midnight(self) -> datetime:
        return midnight(self.now())

    def _publish(self) -> None:
        """Set each widget's state from `PaneState` (board.py)."""
        self.board.show(
            history=self.showing_history, selected=self.selected, live=self.link.up is True
        )

    def watch_link(self) -> None:
        if self.is_running and self.screen_stack:
            self._publish()

    def _publish_detail(self) -> None:
        self.board.show_detail(self.selected)
