"""The supervisor pane: live alerts, one key for "j'arrive", escalation, presence and on-call.

One worker loads the hub's picture and follows its events (`snapshot_then_events`); one keeps
the supervisor's presence; each key's request runs in its own worker. Workers post messages;
handlers update `PaneState`; `refresh_view` draws it, once a second so elapsed times tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import ClassVar
from uuid import UUID

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from deskalert.client.api import HubClient
from deskalert.client.follower import snapshot_then_events
from deskalert.client.settings import ClientConfig
from deskalert.errors import DeskAlertError
from deskalert.i18n import N_, Language, set_language, t, tn
from deskalert.labels import FAMILIES, label
from deskalert.journal.store import Journal
from deskalert.models import Alert, AlertCode, DeskPresence, Event, EventType, NoteIn, OnCall
from deskalert.tui.desk import Clock, local_now
from deskalert.tui.messages import HubEvent, LinkChanged, relay
from deskalert.tui.note_form import NoteForm, share_with_hub
from deskalert.tui.supervise_state import PaneState
from deskalert.tui.views import clock_time


@dataclass
class PaneSnapshot(Message):
    codes: list[AlertCode]
    alerts: list[Alert]
    desks: list[DeskPresence]
    oncall: list[OnCall]
    heartbeat_s: float
    last_event_id: int


@dataclass
class Answered(Message):
    """The hub took a key's request (j'arrive, resolve, cancel, on-call)."""

    what: str
    alert: Alert | None = None
    oncall: OnCall | None = None


@dataclass
class Refused(Message):
    reason: str


class Prompt(ModalScreen[str | None]):
    """One line of text, or None on escape; `check` returns an error to show next to the field."""

    DEFAULT_CSS = """
    Prompt { align: center middle; }
    Prompt > Vertical { width: 80; height: auto; border: thick $accent; background: $surface;
                        padding: 1 2; }
    Prompt #error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", show=False)]

    def __init__(self, question: str, hint: str, *, check: object = None) -> None:
        super().__init__()
        self.question, self.hint, self.check = question, hint, check

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question)
            yield Input(id="answer", max_length=280)
            yield Label("", id="error")
            yield Label(self.hint)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if callable(self.check) and (error := self.check(event.value)):
            self.query_one("#error", Label).update(error)
            return
        self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class Details(ModalScreen[None]):
    """An alert with its whole event history and times."""

    DEFAULT_CSS = """
    Details { align: center middle; }
    Details > VerticalScroll { width: 90%; height: 80%; border: thick $accent;
                               background: $surface; padding: 1 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", show=False)]

    def __init__(self, body: Text) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.body, id="details")


COLUMNS = (("desk", 26), ("code", 24), ("elapsed", 6), ("state", 26), ("responders", None))
PANE_KEYS = {"respond": "a", "resolve": "r", "cancel": "x", "oncall": "o", "history": "h",
             "debrief": "d", "note": "f"}
PANE_ACTIONS = {"respond": "respond", "resolve": "resolve", "cancel": "cancel_alert",
                "oncall": "oncall", "history": "history", "debrief": "debrief", "note": "note"}
DEBRIEF_DAYS = 31


class AlertTable(DataTable[Text]):
    """The alerts table; moving the cursor by hand is looking at the alert it lands on.

    Rebuilding the table also moves the cursor, so only these key actions count as looking.
    """

    @dataclass
    class Looked(Message):
        alert_id: UUID

    def _looked(self) -> None:
        if self.row_count:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
            self.post_message(self.Looked(UUID(str(row_key.value))))

    def action_cursor_up(self) -> None:
        super().action_cursor_up()
        self._looked()

    def action_cursor_down(self) -> None:
        super().action_cursor_down()
        self._looked()


class SupervisorApp(App[None]):
    CSS_PATH = "supervise.tcss"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, config: ClientConfig, token: str, *, clock: Clock = local_now,
                 journal: Journal | None = None) -> None:
        super().__init__()
        self.journal = journal  # where this supervisor's note drafts are saved as typed
        assert config.supervisor is not None
        self.config, self.lang, self.token = config, config.language, token
        set_language(self.lang)
        self.client = HubClient(config.hub_url, token)
        self.state = PaneState(config.supervisor.id)
        self.now = clock
        self.showing_history = False
        self.selected: UUID | None = None
        self.title = t("pane.title")

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(id="who")
            yield Static(id="stream")
        yield Static(id="offline-flag")
        yield AlertTable(id="alerts", cursor_type="row", zebra_stripes=True)
        yield Static(id="detail")
        with Horizontal(id="bottom"):
            yield Static(id="presence")
            yield Static(id="oncall")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#alerts", DataTable)
        table.add_column("", key="mark", width=10)
        for key, width in COLUMNS:
            table.add_column(label("col", key), key=key, width=width)
        self.query_one("#presence").border_title = t("presence.title")
        self.query_one("#oncall").border_title = t("pane.oncall_title")
        self._install_bindings()
        self.refresh_view()
        self.set_interval(1.0, self.refresh_view)
        self.follow_hub()
        self.keep_presence()

    async def on_unmount(self) -> None:
        await self.client.aclose()

    def _install_bindings(self) -> None:
        """Default keys a, r, x, o, h, each remappable in config.toml [keys] (enter: details)."""
        table = self._bindings.key_to_bindings
        for name, action in PANE_ACTIONS.items():
            keys = self.config.keys.get(name, PANE_KEYS[name]).lower().replace(" ", "")
            for key in keys.split(","):
                table[key] = [Binding(key, action, label("pane.binding", name),
                                      id=f"pane.{name}")]
        self.refresh_bindings()

    # -- workers --------------------------------------------------------------------------

    @work(group="link", exclusive=True)
    async def follow_hub(self) -> None:
        await relay(snapshot_then_events(self._load, self.config.hub_url, self.token), self)

    async def _load(self) -> PaneSnapshot:
        health = await self.client.health()
        beat = await self.client.heartbeat()
        open_alerts = await self.client.alerts(state="open")
        today = await self.client.alerts_since(self._midnight())
        return PaneSnapshot(codes=await self.client.codes(), alerts=today + open_alerts,
                            desks=await self.client.desks(), oncall=await self.client.oncall(),
                            heartbeat_s=beat.heartbeat_s, last_event_id=health.last_event_id)

    @work(group="presence", exclusive=True)
    async def keep_presence(self) -> None:
        await self.client.heartbeat_forever()

    @work(group="actions")
    async def request(self, what: str, alert_id: UUID | None, text: str | None = None,
                      site: str | None = None, until: datetime | None = None) -> None:
        try:
            if what == "respond" and alert_id:
                self.post_message(Answered(what, alert=await self.client.acknowledge(alert_id)))
            elif what == "resolve" and alert_id:
                self.post_message(Answered(what, alert=await self.client.resolve(alert_id, text)))
            elif what == "cancel" and alert_id:
                self.post_message(Answered(what, alert=await self.client.cancel(alert_id, text)))
            elif what == "oncall" and site and until:
                self.post_message(Answered(what, oncall=await self.client.take_oncall(site, until)))
        except DeskAlertError as exc:
            self.post_message(Refused(str(exc)))

    # -- keys -----------------------------------------------------------------------------

    def selected_alert(self) -> Alert | None:
        alert = self.state.alerts.get(self.selected) if self.selected else None
        if alert is None:
            self.notify(t("pane.notify.no_selection"), severity="warning")
        return alert

    def action_respond(self) -> None:
        if alert := self.selected_alert():
            self.state.new.discard(alert.id)
            self.request("respond", alert.id)

    def action_resolve(self) -> None:
        if alert := self.selected_alert():
            self.state.new.discard(alert.id)
            question = t("prompt.resolve", desk=alert.desk_label)
            self.push_screen(Prompt(question, t("prompt.hint")),
                             lambda text: self._close_with("resolve", alert.id, text))

    def action_cancel_alert(self) -> None:
        if alert := self.selected_alert():
            self.state.new.discard(alert.id)
            question = t("prompt.cancel", desk=alert.desk_label)
            self.push_screen(Prompt(question, t("prompt.hint")),
                             lambda text: self._close_with("cancel", alert.id, text))

    def _close_with(self, what: str, alert_id: UUID, text: str | None) -> None:
        if text is not None:
            self.request(what, alert_id, text or None)

    def action_oncall(self) -> None:
        alert = self.state.alerts.get(self.selected) if self.selected else None
        sites = sorted(self.state.oncall)
        site = alert.site if alert else (sites[0] if sites else None)
        if site is None:
            return
        label = self.state.oncall[site].site_label if site in self.state.oncall else site
        self.push_screen(
            Prompt(t("prompt.oncall", site=label), t("prompt.hint"),
                   check=lambda v: None if self._until(v) else t("prompt.bad_time")),
            lambda text: self._take_oncall(site, text),
        )

    def _take_oncall(self, site: str, text: str | None) -> None:
        until = self._until(text or "")
        if until is not None:
            self.request("oncall", None, site=site, until=until)

    def _until(self, value: str) -> datetime | None:
        """'18:30' -> today at 18:30 local, or tomorrow if that time has passed."""
        try:
            hour, minute = (int(part) for part in value.strip().split(":"))
            moment = datetime.combine(self.now().date(), time(hour, minute)).astimezone()
        except ValueError:
            return None
        return moment if moment > self.now() else moment + timedelta(days=1)

    def action_history(self) -> None:
        self.showing_history = not self.showing_history
        self.refresh_view()

    def action_note(self) -> None:
        """The incident note of the selected alert, for a supervisor who handled it."""
        alert = self.selected_alert()
        if alert is not None and self.journal is not None:
            self.push_screen(NoteForm(alert, self.journal, self.lang))

    @on(NoteForm.Finished)
    def _note_finished(self, message: NoteForm.Finished) -> None:
        self.share_note(message.alert_id, message.note)

    @work(group="notes")
    async def share_note(self, alert_id: UUID, note: NoteIn) -> None:
        await share_with_hub(self, self.client, self.journal, alert_id, note)

    @work(group="debrief", exclusive=True)
    async def action_debrief(self) -> None:
        """The figures of the last 31 days (every desk's alerts and shared notes), as charts."""
        from deskalert.client.incidents import hub_incidents
        from deskalert.journal.debrief import report_text

        since = self._midnight() - timedelta(days=DEBRIEF_DAYS - 1)
        try:
            incidents = await hub_incidents(self.client, since)
        except DeskAlertError as exc:
            self.notify(str(exc), severity="error")
            return
        text = report_text(incidents, self.lang, since, self.now(), color=True, width=60)
        await self.push_screen(Details(Text.from_ansi(text)))

    @on(DataTable.RowSelected)
    def _open_details(self, event: DataTable.RowSelected) -> None:
        alert_id = UUID(str(event.row_key.value))
        self.state.new.discard(alert_id)
        self.show_details(alert_id)

    @work(group="details", exclusive=True)
    async def show_details(self, alert_id: UUID) -> None:
        alert = self.state.alerts[alert_id]
        try:
            history = await self.client.history(alert_id)
        except DeskAlertError as exc:
            self.notify(str(exc), severity="error")
            history = []
        await self.push_screen(Details(self._details(alert, history)))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.selected = UUID(str(event.row_key.value)) if event.row_key.value else None
        self._show_selected()

    @on(AlertTable.Looked)
    def _looked(self, message: AlertTable.Looked) -> None:
        """The supervisor moved onto it: it no longer stands out."""
        if message.alert_id in self.state.new:
            self.state.new.discard(message.alert_id)
            self.refresh_view()

    # -- messages -------------------------------------------------------------------------

    @on(PaneSnapshot)
    def _on_snapshot(self, message: PaneSnapshot) -> None:
        state = self.state
        state.codes = {c.code: c for c in message.codes}
        state.desks = {d.id: d for d in message.desks}
        state.oncall = {c.site: c for c in message.oncall}
        fresh = [a for a in message.alerts if state.apply(a) and not a.state.is_closed]
        if fresh := [a for a in fresh if not a.responders]:
            state.new.update(a.id for a in fresh)
            self.bell()
        self.refresh_view()

    @on(LinkChanged)
    def _on_stream(self, message: LinkChanged) -> None:
        if message.up:
            self.state.live, self.state.broken_since = True, None
        else:
            if self.state.live is not False:
                self.state.broken_since = self.now()
            self.state.live, self.state.broken_reason = False, message.reason
        self.refresh_view()

    @on(HubEvent)
    def _on_event(self, message: HubEvent) -> None:
        event, state = message.event, self.state
        if event.type.value.startswith("alert."):
            alert = Alert.model_validate(event.data)
            is_new = state.apply(alert)
            if event.type is EventType.ALERT_RAISED and is_new:
                state.new.add(alert.id)
                self.bell()
            elif event.type is EventType.ALERT_ESCALATED and state.escalated_to_me(alert):
                self.bell()
        elif event.type is EventType.ONCALL_CHANGED:
            card = OnCall.model_validate(event.data)
            state.oncall[card.site] = card
        else:
            desk = DeskPresence.model_validate(event.data)
            if event.type is EventType.DESK_OFFLINE and state.desks.get(desk.id, desk).online:
                self.notify(t("pane.notify.offline", desk=desk.label),
                            severity="error", timeout=15)
            state.desks[desk.id] = desk
        self.refresh_view()

    @on(Answered)
    def _on_answered(self, message: Answered) -> None:
        if message.alert is not None:
            self.state.apply(message.alert)
            what = label("pane.binding", message.what)
            self.notify(t("pane.notify.done", what=what, desk=message.alert.desk_label))
        if message.oncall is not None:
            card = message.oncall
            self.state.oncall[card.site] = card
            name = card.supervisor.name if card.supervisor else "?"
            until = card.until.astimezone().strftime("%H:%M") if card.until else "?"
            self.notify(t("pane.notify.oncall", site=card.site_label, name=name,
                          time=until))
        self.refresh_view()

    @on(Refused)
    def _on_refused(self, message: Refused) -> None:
        self.notify(t("pane.notify.failed", reason=message.reason), severity="error",
                    timeout=10)

    # -- drawing --------------------------------------------------------------------------

    def _midnight(self) -> datetime:
        return datetime.combine(self.now().date(), time()).astimezone()

    def refresh_view(self) -> None:
        """Redraw from the state; a tick that lands while the app tears down draws nothing."""
        try:
            self._draw()
        except NoMatches:
            pass

    def _draw(self) -> None:
        state, lang = self.state, self.lang
        who = state.person_name(state.me)
        self.query_one("#who", Static).update(Text(who, style="bold"))
        self.query_one("#stream", Static).update(self._stream_text())
        offline = state.offline_desks()
        flag = self.query_one("#offline-flag", Static)
        flag.update(tn("presence.flag", len(offline)))
        flag.display = bool(offline)
        self._fill_table()
        self.query_one("#presence", Static).update(presence_text(state, lang))
        self.query_one("#oncall", Static).update(oncall_text(state, lang))
        self._show_selected()

    def _show_selected(self) -> None:
        alert = self.state.alerts.get(self.selected) if self.selected else None
        detail = self.query_one("#detail", Static)
        detail.update(self._summary(alert) if alert else Text(t("pane.none"),
                                                                style="dim"))

    def _stream_text(self) -> Text:
        state = self.state
        if state.live is None:
            return Text(f"○ {t('pane.connecting')}", style="dim")
        if state.live:
            return Text(f"● {t('pane.live')}", style="green")
        since = clock_time(state.broken_since) if state.broken_since else "?"
        return Text(f"● {t('pane.broken', time=since)}", style="bold red")

    def _fill_table(self) -> None:
        table = self.query_one("#alerts", AlertTable)
        rows = (self.state.history(self._midnight()) if self.showing_history
                else self.state.open_alerts())
        table.clear()
        for alert in rows:
            table.add_row(*self._row(alert), key=str(alert.id), height=2)
        if self.selected is not None and str(self.selected) in {str(a.id) for a in rows}:
            table.move_cursor(row=table.get_row_index(str(self.selected)), animate=False)
        elif rows and self.selected is not None:
            self.selected = None
        key = (N_("pane.history_title") if self.showing_history else
               N_("pane.open_title") if self.state.live is not False else N_("pane.stale_title"))
        table.border_title = t(key, count=len(rows))
        table.set_class(self.state.live is False, "-stale")

    def _row(self, alert: Alert) -> list[Text]:
        now = self.now()
        if alert.id in self.state.new:
            mark = Text(f"● {t('state.new')}", style="bold white on red")
        elif alert.escalation_level > 0 and not alert.state.is_closed:
            mark = Text(f"⇧ {alert.escalation_level}", style="bold black on yellow")
        else:
            mark = Text("")
        desk = Text(alert.desk_label, style="bold")
        desk.append(f"\n{alert.location}", style="dim")
        code = Text(alert.code_label)
        if alert.test:
            code.append(f"\n{t('drill.word')}", style="bold magenta")
        end = alert.closed_at or now
        seconds = max(0, int((end - alert.received_at).total_seconds()))
        state = Text(label("state", alert.state))
        state.append("\n" + (t("level.none") if alert.escalation_level == 0 else
                             t("level.to", level=alert.escalation_level,
                               who=self._who(alert.escalated_to or ""))),
                     style="bold yellow" if alert.escalation_level else "dim")
        responders = "\n".join(f"{r.name} {clock_time(r.at)}" for r in alert.responders)
        return [mark, desk, code, Text(f"{seconds // 60}:{seconds % 60:02d}"), state,
                Text(responders or "—")]

    def _who(self, supervisor_id: str) -> str:
        return t("everyone.short") if supervisor_id == "everyone" else \
            self.state.person_name(supervisor_id)

    def _summary(self, alert: Alert) -> Text:
        text = Text(f"{alert.desk_label}", style="bold")
        if alert.location:
            text.append(f" · {alert.location}")
        text.append(f" · {alert.code_label} · {t('detail.received', time=clock_time(alert.received_at))}")
        if alert.test:
            text.append(f" · {t('drill.word')}", style="bold magenta")
        code = self.state.codes.get(alert.code)
        if code and code.protocol:
            text.append(f"\n{code.protocol}", style="italic")
        if alert.message:
            text.append("\n" + t("detail.message", text=alert.message))
        if alert.summary:
            text.append("\n" + t("detail.summary", text=alert.summary))
        return text

    def _details(self, alert: Alert, history: list[Event]) -> Text:
        text = self._summary(alert)
        text.append(f"\n\n{t('detail.history')}\n", style="bold underline")
        for event in history:
            text.append(f"{clock_time(event.at)}  ", style="bold")
            text.append(self._event_line(event) + "\n")
        text.append(f"\n{t('detail.close')}", style="dim")
        return text

    def _event_line(self, event: Event) -> str:
        alert = Alert.model_validate(event.data)
        key = FAMILIES["event"][event.type.value]
        if event.type is EventType.ALERT_RAISED:
            return t(key, desk=alert.desk_label)
        if event.type is EventType.ALERT_ACKNOWLEDGED:
            return t(key, names=", ".join(r.name for r in alert.responders))
        if event.type is EventType.ALERT_ESCALATED:
            return t(key, level=alert.escalation_level,
                     who=self._who(alert.escalated_to or ""))
        closer = alert.closed_by or "?"
        name = self.state.desks[closer].label if closer in self.state.desks else self._who(closer)
        line = t(key, who=name)
        return f"{line} : {alert.summary}" if alert.summary else line


def presence_text(state: PaneState, lang: Language) -> Text:
    text = Text()
    sites = sorted({d.site for d in state.desks.values()})
    for index, site in enumerate(sites):
        label = state.oncall[site].site_label if site in state.oncall else site
        text.append(("\n" if index else "") + label + "\n", style="bold")
        for desk in sorted((d for d in state.desks.values() if d.site == site), key=lambda d: d.id):
            if desk.online:
                text.append(f"  ● {desk.label}  {t('presence.online')}\n", style="green")
            elif desk.last_seen is None:
                text.append(f"  ○ {desk.label}  {t('presence.never')}\n", style="dim")
            else:
                since = t("presence.offline", time=clock_time(desk.last_seen))
                text.append(f"  ○ {desk.label}  {since}\n", style="bold red")
    return text


def oncall_text(state: PaneState, lang: Language) -> Text:
    text = Text()
    for index, card in enumerate(sorted(state.oncall.values(), key=lambda c: c.site)):
        text.append(("\n" if index else "") + card.site_label + " : ", style="bold")
        if card.supervisor is None:
            text.append(t("pane.oncall_nobody"), style="yellow")
        else:
            text.append(card.supervisor.name, style="bold")
            if card.supervisor.phone:
                text.append(f" ☎ {card.supervisor.phone}")
        if card.chain:
            text.append("  → " + " → ".join(p.name for p in card.chain) + " → "
                        + t("everyone"), style="dim")
        if card.source == "override" and card.until:
            until = card.until.astimezone().strftime("%H:%M")
            text.append("\n  " + t("pane.oncall_override", time=until), style="italic")
        text.append("\n")
    return text
