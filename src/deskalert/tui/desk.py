"""The desk app: the supervisor on call, the link, and one key to call for help.

Workers do the network: one follows the hub (a snapshot, then the event stream), one keeps the
desk's presence, one per alert delivers it through the outbox. They post messages; the handlers
below update `DeskState`, and `refresh_view` draws it.

A code key writes the alert to the journal on the spot, in the key handler, before any network
call and before anything is drawn: a few milliseconds of fsync are the price of never losing it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Footer, Static

from deskalert.client.api import HubClient
from deskalert.client.follower import snapshot_then_events
from deskalert.client.outbox import Outbox
from deskalert.client.settings import ClientConfig
from deskalert.errors import DeskAlertError
from deskalert.i18n import set_language, t, tn
from deskalert.journal.store import Delivery, Journal, OutboxEntry
from deskalert.models import Alert, AlertCode, DeskPresence, EventType, NoteIn, OnCall
from deskalert.tui import views
from deskalert.tui.journal_screen import JournalScreen
from deskalert.tui.messages import (
    ActionDone,
    ActionFailed,
    DeliveryDone,
    HubEvent,
    LinkChanged,
    SnapshotLoaded,
    relay,
)
from deskalert.tui.note_form import NoteForm, share_with_hub
from deskalert.tui.state import NOT_TRANSMITTED_AFTER, DeskState, OwnAlert, Step

# Some terminals and tmux setups eat F-keys: each F-key of a code also gets a ctrl alternative.
CTRL_ALTERNATIVES = {
    "f1": "ctrl+f", "f2": "ctrl+r", "f3": "ctrl+t", "f4": "ctrl+y", "f5": "ctrl+u",
    "f6": "ctrl+g", "f7": "ctrl+l", "f11": "ctrl+n", "f12": "ctrl+k",
}
DEFAULT_KEYS = {"respond": "f8,ctrl+o", "drill": "f9,ctrl+e", "cancel": "f10,ctrl+x",
                "dismiss": "escape", "note": "n", "later": "p", "journal": "j"}
DRILL_ARMED_S = 15.0

Clock = Callable[[], datetime]


def local_now() -> datetime:
    return datetime.now().astimezone()


class DeskApp(App[None]):
    CSS_PATH = "desk.tcss"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, config: ClientConfig, token: str, journal: Journal, *,
                 drill_session: bool = False, clock: Clock = local_now) -> None:
        super().__init__()
        assert config.desk is not None
        self.config = config
        self.lang = config.language
        set_language(self.lang)
        self.token = token
        self.journal = journal
        self.client = HubClient(config.hub_url, token)
        self.outbox = Outbox(journal, self.client)
        self.state = DeskState(config.desk.id)
        self.drill_session = drill_session
        self.drill_armed = False
        self.now = clock
        self.title = t("desk.title")
        self._recorded: dict[UUID, datetime] = {}
        self._shown: dict[str, tuple[object, bool]] = {}  # what each part shows now
        self._load_cache()

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(id="desk-name")
            yield Static(id="link")
            yield Static(id="corner")
        yield Static(id="link-advice")
        yield Static(id="warning")
        yield Static(id="drill")
        yield Static(id="note-offer")
        with VerticalScroll(id="body"):
            yield Static(id="oncall")
            yield Static(id="status")
            yield Static(id="colleagues")
            yield Static(id="codes")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#oncall").border_title = t("oncall.title")
        self.query_one("#codes").border_title = t("codes.title")
        self.query_one("#colleagues").border_title = t("colleagues.title")
        self._install_bindings()
        self.refresh_view()
        self.set_interval(1.0, self.refresh_view)
        self.follow_hub()
        self.keep_presence()
        self.journal.purge(self.now() - timedelta(days=self.config.retention_days))
        pending = self.journal.pending()
        for entry in pending:
            self._track_and_deliver(entry)
        if pending:
            self.notify(tn("notify.queued_at_start", len(pending)))

    async def on_unmount(self) -> None:
        await self.client.aclose()

    # -- keys -----------------------------------------------------------------------------

    def code_keys(self) -> list[tuple[AlertCode, str]]:
        """Each code with its keys: the hub's default or config [keys], plus a ctrl alternative."""
        result = []
        for code in self.state.codes:
            keys = self.config.keys.get(code.code, code.key).lower().replace(" ", "")
            if "," not in keys and keys in CTRL_ALTERNATIVES:
                keys = f"{keys},{CTRL_ALTERNATIVES[keys]}"
            result.append((code, keys))
        return result

    def action_keys(self, action: str) -> str:
        return self.config.keys.get(action, DEFAULT_KEYS[action]).lower().replace(" ", "")

    def _install_bindings(self) -> None:
        """Priority bindings, so a key sends from whatever has focus; rebuilt when codes change.

        Textual binds keys per class (`BINDINGS`); the repertoire comes from the hub at run time,
        so this edits the app's own `BindingsMap`, as `App.bind` does, adding ids and priority.
        """
        fixed = [  # the last field: priority (works from any screen, even over a text field)
            ("respond", "respond", t("binding.respond"), True, True),
            ("cancel", "cancel_own", t("binding.cancel"), True, True),
            ("drill", "drill", t("binding.drill"), True, True),
            ("dismiss", "dismiss", "", False, False),
            ("note", "open_note", t("binding.note"), False, False),
            ("later", "note_later", "", False, False),
            ("journal", "journal", t("binding.journal"), True, False),
        ]
        wanted = [(self.action_keys(name), action, label, show, f"desk.{name}", priority)
                  for name, action, label, show, priority in fixed]
        wanted += [(keys, f"send('{code.code}')", code.label, False, f"code.{code.code}", True)
                   for code, keys in self.code_keys()]
        table = self._bindings.key_to_bindings
        for key in list(table):
            table[key] = [b for b in table[key] if not (b.id or "").startswith(("desk.", "code."))]
            if not table[key]:
                del table[key]
        for keys, action, label, show, binding_id, priority in wanted:
            for key in keys.split(","):
                if key in table:
                    self.notify(f"{key}: {binding_id} / {table[key][0].id or table[key][0].action}",
                                severity="warning")
                    continue
                table[key] = [Binding(key, action, label, show=show, priority=priority,
                                      id=binding_id, key_display=views.key_label(key))]
        self.refresh_bindings()
        unknown = set(self.config.keys) - {c.code for c in self.state.codes} - set(DEFAULT_KEYS)
        if unknown and self.state.codes_known:
            self.notify(t("notify.unknown_keys", names=", ".join(sorted(unknown))),
                        severity="warning", timeout=15)

    def action_send(self, code: str) -> None:
        now = self.now()
        test = self.drill_session or self.drill_armed
        self.drill_armed = False
        live = [o for o in self.state.own.values()
                if o.code == code and o.test == test and not o.step.is_final
                and not o.cancel_requested]
        if live:  # pressed again: it is already on its way, under the same id
            self.refresh_view()
            return
        entry = self.journal.enqueue(code, test=test)
        self._track_and_deliver(entry, now)
        self.set_timer(NOT_TRANSMITTED_AFTER.total_seconds() + 0.05, self.refresh_view)
        self.refresh_view()

    def _track_and_deliver(self, entry: OutboxEntry, now: datetime | None = None) -> None:
        queued_at = now or entry.created_at
        self.state.track(OwnAlert(id=entry.id, code=entry.code, test=entry.test, queued_at=queued_at))
        self.deliver(entry)

    def action_cancel_own(self) -> None:
        own = self.state.current_own(self.now())
        if own is None or own.step.is_final or own.cancel_requested:
            self.notify(t("notify.nothing_to_cancel"))
            return
        own.cancel_requested = True
        if own.step is Step.QUEUED and self.journal.mark_cancelled(own.id):
            for worker in self.workers:
                if worker.name == f"deliver:{own.id}":
                    worker.cancel()
            own.delivery, own.final_since = Delivery.CANCELLED, self.now()
            self.notify(t("notify.cancelled"))
        elif own.alert is not None:
            own.cancel_sent = True
            self.cancel_on_hub(own.id)
        self.refresh_view()

    def action_respond(self) -> None:
        alert = self.state.next_to_answer()
        if alert is None:
            self.notify(t("notify.nobody_to_answer"))
            return
        self.state.answered.add(alert.id)
        self.answer(alert.id)
        self.refresh_view()

    def action_drill(self) -> None:
        if self.drill_session:
            return
        self.drill_armed = not self.drill_armed
        if self.drill_armed:
            self.set_timer(DRILL_ARMED_S, self._disarm_drill)
        self.refresh_view()

    def _disarm_drill(self) -> None:
        self.drill_armed = False
        self.refresh_view()

    def action_journal(self) -> None:
        if not isinstance(self.screen, JournalScreen):
            self.push_screen(JournalScreen(self.journal, self.lang, now=self.now))

    @on(JournalScreen.ShareRequested)
    def _share_from_journal(self, message: JournalScreen.ShareRequested) -> None:
        self.share_note(message.alert_id, message.note)

    def action_note_later(self) -> None:
        for alert in self.notes_waiting():
            self.journal.postpone_note(alert.id)
        self.refresh_view()

    def notes_waiting(self) -> list[Alert]:
        """Own real alerts resolved in the last day whose note is neither done nor put off.

        Read from the journal, so the offer survives a restart; older ones wait in the journal.
        """
        recent = self.journal.incidents(self.now() - timedelta(days=1))
        return [
            incident.alert for incident in recent
            if incident.alert.state == "resolved" and not incident.alert.test
            and not (incident.record and (incident.record.finished or incident.record.postponed))
        ]

    def action_open_note(self) -> None:
        """The incident note of the latest resolved alert still waiting for one."""
        pending = self.notes_waiting()
        if pending:
            self.push_screen(NoteForm(pending[0], self.journal, self.lang))

    @on(NoteForm.Finished)
    def _note_finished(self, message: NoteForm.Finished) -> None:
        if message.share:
            self.share_note(message.alert_id, message.note)
        else:
            self.notify(t("form.finished"))
        self.refresh_view()

    @work(group="notes")
    async def share_note(self, alert_id: UUID, note: NoteIn) -> None:
        result = await share_with_hub(self, self.client, self.journal, alert_id, note)
        if result.shared and isinstance(self.screen, JournalScreen):
            self.screen.reload()

    def action_dismiss(self) -> None:
        if self.state.dismiss_refusals():
            self.refresh_view()

    # -- workers --------------------------------------------------------------------------

    @work(group="link", exclusive=True)
    async def follow_hub(self) -> None:
        """Load the hub's picture, then follow its events for as long as the app runs."""
        await relay(snapshot_then_events(self._load_snapshot, self.config.hub_url, self.token),
                    self)

    async def _load_snapshot(self) -> SnapshotLoaded:
        health = await self.client.health()  # first: events after it are replayed
        beat = await self.client.heartbeat()
        codes = await self.client.codes()
        oncall = await self.client.oncall()
        desks = await self.client.desks()
        alerts = await self.client.alerts(state="open")
        me = next((d for d in desks if d.id == self.state.desk_id), None)
        return SnapshotLoaded(codes=codes, oncall=oncall[0] if oncall else None, desk=me,
                              alerts=alerts, heartbeat_s=beat.heartbeat_s,
                              last_event_id=health.last_event_id)

    @work(group="presence", exclusive=True)
    async def keep_presence(self) -> None:
        await self.client.heartbeat_forever()

    def deliver(self, entry: OutboxEntry) -> None:
        """One worker per alert, named after it so that a cancel can stop it."""
        self.run_worker(self._deliver(entry), name=f"deliver:{entry.id}", group="outbox")

    async def _deliver(self, entry: OutboxEntry) -> None:
        """Until the hub has it or refuses it."""
        result = await self.outbox.deliver(entry, timeout=None)
        self.post_message(DeliveryDone(alert_id=entry.id, delivery=result.status,
                                       alert=result.alert, error=result.reason))

    @work(group="actions")
    async def answer(self, alert_id: UUID) -> None:
        try:
            self.post_message(ActionDone("answer", await self.client.acknowledge(alert_id)))
        except DeskAlertError as exc:
            self.post_message(ActionFailed("answer", alert_id, str(exc)))

    @work(group="actions")
    async def cancel_on_hub(self, alert_id: UUID) -> None:
        try:
            self.post_message(ActionDone("cancel", await self.client.cancel(alert_id)))
        except DeskAlertError as exc:
            self.post_message(ActionFailed("cancel", alert_id, str(exc)))

    # -- messages -------------------------------------------------------------------------

    @on(SnapshotLoaded)
    def _on_snapshot(self, message: SnapshotLoaded) -> None:
        now = self.now()
        self.state.codes, self.state.codes_known = message.codes, True
        self.journal.save("codes", [c.model_dump(mode="json") for c in message.codes])
        self._set_oncall(message.oncall)
        if message.desk is not None:
            self.state.desk = message.desk
            self.journal.save("desk", message.desk.model_dump(mode="json"))
        self.state.replace_open(message.alerts, now)
        self._install_bindings()
        self._after_change()

    @on(LinkChanged)
    def _on_link(self, message: LinkChanged) -> None:
        if message.up:
            self.state.link_up, self.state.link_since, self.state.link_reason = True, None, ""
        else:
            if self.state.link_up is not False:
                self.state.link_since = self.now()
            self.state.link_up, self.state.link_reason = False, message.reason
        self.refresh_view()

    @on(HubEvent)
    def _on_event(self, message: HubEvent) -> None:
        event = message.event
        if event.type.value.startswith("alert."):
            self.state.apply(Alert.model_validate(event.data), self.now())
        elif event.type is EventType.ONCALL_CHANGED:
            card = OnCall.model_validate(event.data)
            if self.state.desk is None or card.site == self.state.desk.site:
                self._set_oncall(card)
        elif event.data.get("id") == self.state.desk_id:
            self.state.desk = DeskPresence.model_validate(event.data)
        self._after_change()

    @on(DeliveryDone)
    def _on_delivery(self, message: DeliveryDone) -> None:
        if message.alert is not None:
            self.state.apply(message.alert, self.now())
        elif message.delivery is Delivery.REFUSED:
            self.state.refuse(message.alert_id, message.error or "?", self.now())
        self._after_change()

    @on(ActionDone)
    def _on_action_done(self, message: ActionDone) -> None:
        self.state.apply(message.alert, self.now())
        if message.kind == "answer":
            self.notify(t("notify.answered", desk=message.alert.desk_label))
        else:
            self.notify(t("notify.cancelled"))
        self.refresh_view()

    @on(ActionFailed)
    def _on_action_failed(self, message: ActionFailed) -> None:
        if message.kind == "answer":
            self.state.answered.discard(message.alert_id)
            self.notify(t("notify.answer_failed", reason=message.reason),
                        severity="error", timeout=10)
        else:
            own = self.state.own.get(message.alert_id)
            if own is not None:
                own.cancel_requested = own.cancel_sent = False
            self.notify(t("notify.cancel_refused", reason=message.reason),
                        severity="error", timeout=10)
        self.refresh_view()

    def _after_change(self) -> None:
        """Journal each own alert's newest copy; cancel on the hub one withdrawn in flight."""
        for own in self.state.own.values():
            if own.alert is not None and self._recorded.get(own.id) != own.alert.updated_at:
                self.journal.record_alert(own.alert)
                self._recorded[own.id] = own.alert.updated_at
            if own.cancel_requested and not own.cancel_sent and own.alert is not None \
                    and not own.alert.state.is_closed:
                own.cancel_sent = True
                self.cancel_on_hub(own.id)
        self.refresh_view()

    def _set_oncall(self, card: OnCall | None) -> None:
        self.state.oncall, self.state.oncall_saved_at = card, self.now()
        if card is not None:
            self.journal.save("oncall", card.model_dump(mode="json"))

    def _load_cache(self) -> None:
        """What the desk knew last time: shown at once, marked as last known until the hub answers."""
        if cached := self.journal.load("codes"):
            self.state.codes = [AlertCode.model_validate(c) for c in cached[0]]
            self.state.codes_known = True
        if cached := self.journal.load("oncall"):
            self.state.oncall = OnCall.model_validate(cached[0])
            self.state.oncall_saved_at = cached[1]
        if cached := self.journal.load("desk"):
            self.state.desk = DeskPresence.model_validate(cached[0])

    # -- drawing --------------------------------------------------------------------------

    def refresh_view(self) -> None:
        """Redraw from the state; a tick that lands while the app tears down draws nothing."""
        try:
            self._draw()
        except NoMatches:
            pass

    def _draw(self) -> None:
        now, state, lang = self.now(), self.state, self.lang
        own = state.current_own(now)
        unsent = state.unsent(now)
        for queued in unsent:
            if queued.step is Step.QUEUED and (stored := self.journal.get(queued.id)):
                queued.error = stored.last_error
        self._show("#desk-name", views.desk_name(state))
        self._show("#link", views.link(state, lang))
        self._show("#corner", views.corner(own, state, lang))
        self._show("#link-advice", views.link_advice(state, lang),
                   visible=state.link_up is False and not unsent)
        self._show("#warning", views.warning(unsent, state, lang) if unsent else "",
                   visible=bool(unsent))
        drill_text = (t("drill.session") if self.drill_session else
                      t("drill.banner", key=views.key_label(self.action_keys("drill"))))
        self._show("#drill", drill_text, visible=self.drill_session or self.drill_armed)
        waiting = self.notes_waiting()
        self._show("#note-offer", t("note.offer", label=waiting[0].code_label,
                                    time=views.clock_time(waiting[0].received_at)[:5],
                                    key=self.action_keys("note"), later=self.action_keys("later"))
                   if waiting else "", visible=bool(waiting))
        self._show("#oncall", views.oncall_card(state, lang, live=state.link_up is True))
        code = state.code(own.code) if own else None
        discreet = code.discreet if code else True
        self._show("#status", views.status_panel(own, code, state, lang) if own else "",
                   visible=own is not None and not discreet)
        self._show("#colleagues", views.colleagues(state, lang, now, self.action_keys("respond")),
                   visible=bool(state.colleagues))
        self._show("#codes", views.repertoire(self.code_keys(), lang, state.codes_known))
        self.query_one("#oncall").set_class(state.link_up is False, "-stale")

    def _show(self, selector: str, content: object, *, visible: bool = True) -> None:
        """Update a part of the screen, only if it changed: an update costs a layout pass, and
        the once-a-second tick otherwise kept an idle desk at 0.8 % of a core (bench 4)."""
        if self._shown.get(selector) == (content, visible):
            return
        widget = self.query_one(selector, Static)
        widget.update(content)  # type: ignore[arg-type]
        widget.display = visible
        self._shown[selector] = (content, visible)
