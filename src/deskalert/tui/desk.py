"""The desk app: the supervisor on call, the link, and one key to call for help.

Built on `HubApp` (tui/base.py), which follows the hub, keeps presence, holds the link state and
catches every worker failure. This module only keeps `DeskState` (tui/state.py) and sets the
widgets' values from it (`_sync`); the widgets (tui/widgets.py) redraw themselves when a value
changes. A 1 s tick only moves what depends on time: the 2 s not-transmitted warning, the
colleagues' elapsed minutes, a finished alert leaving the corner.

Alerts queued in the journal by another process (`deskalert send`, `deskalert hotkeys`) while
the screen is open are adopted (`adopt_pending`): every few seconds and when the link comes up,
each queued entry the desk does not track yet becomes an own alert in flight, delivered by the
outbox as if its key had been pressed here.

A code key writes the alert to the journal on the spot, in the key handler, before any network
call and before anything is drawn: a few milliseconds of fsync are the price of never losing it.

The same key pressed again is the same alert only while that alert is fresh (state.py,
`REPRESS_SAME_ALERT`): still in flight, or stored by the hub less than 10 s ago and not yet
answered; the agent gets a short notice ("déjà transmise"). Otherwise (answered, or older) it
is a new alert with a new id, through the journal and outbox like any press, and it becomes the
alert the corner follows: a panicked double press raises one alert, but a new incident after a
supervisor said "j'arrive" is never swallowed by the old one. A drill press is apart from a
real one.

Code keys: the repertoire comes from the hub at run time, and Textual binds keys per class. So
`BINDINGS` holds `MAX_CODES` code slots (`code.0` ... ) on keys no terminal sends, and the keymap
(`set_keymap`) gives slot i the keys of the i-th code: the hub's key with its ctrl alternative,
or the `[keys]` line naming the code. No private Textual API is touched.

Global keys (`[hotkeys]`, client/hotkeys): a long-lived worker listens to the desktop or a device
and posts `GlobalKey`; its handler is the F-key's action, so the corner and the 2 s warning
follow the alert the same way, plus the bell and the terminal brought forward at 2 s.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import ClassVar
from uuid import UUID

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message

from deskalert.client.hotkeys import display_available, feedback, listen, lock_path
from deskalert.client.outbox import Outbox, outside_site_network
from deskalert.client.settings import ClientConfig
from deskalert.errors import (
    OUTSIDE_SITE_NETWORK,
    DeskAlertError,
    Forbidden,
    NotFound,
    Unauthorized,
)
from deskalert.i18n import N_, t, tn
from deskalert.journal.store import Delivery, Journal, OutboxEntry
from deskalert.models import (
    Alert,
    AlertCode,
    AlertEvent,
    AvailabilityEvent,
    DeskPresence,
    NoteIn,
    OnCall,
    OnCallEvent,
    PresenceEvent,
    SiteAvailability,
)
from deskalert.tui import views
from deskalert.tui.base import Clock, HubApp, HubFooter, LinkBadge, local_now, normal_keys
from deskalert.tui.base import with_ctrl_alternative as with_ctrl
from deskalert.tui.interview import InterviewDesk
from deskalert.tui.journal_screen import JournalScreen
from deskalert.tui.link import LinkKind, LinkState
from deskalert.tui.messages import (
    ActionDone,
    ActionFailed,
    DeliveryDone,
    HubEvent,
    SnapshotLoaded,
)
from deskalert.tui.note_form import NoteForm, share_with_hub
from deskalert.tui.state import NOT_TRANSMITTED_AFTER, DeskState, OwnAlert, Step
from deskalert.tui.widgets import (
    Banner,
    ColleagueBanner,
    DeskName,
    LinkAdvice,
    OnCallCard,
    Repertoire,
    StatusCorner,
    StatusPanel,
    UnsentWarning,
    WhoCanCome,
)

__all__ = ["Clock", "DeskApp", "local_now"]  # Clock and local_now: the pane imports them here

DRILL_ARMED_S = 15.0
SAME_ALERT_NOTICE_S = 4.0  # "déjà transmise": a press that repeats a fresh alert
ADOPT_EVERY_S = 3.0  # how often the journal is read for alerts queued by another process
MAX_CODES = 12
# An own alert the hub no longer has is sent again only if raised this recently: a desk left
# open for days must not raise again an alert the hub purged (retention) long after it closed.
RESEND_LOST_WITHIN = timedelta(hours=12)
FIXED_KEYS = {"respond": "f8,ctrl+o", "drill": "f9,ctrl+e", "cancel": "f10,ctrl+x",
              "dismiss": "escape", "note": "n", "later": "p", "journal": "j", "interview": "i"}


def _slot(index: int) -> Binding:
    return Binding(f"deskalert-code-slot-{index}", f"send_slot({index})", "", show=False,
                   priority=True, id=f"code.{index}")


class DeskApp(InterviewDesk, HubApp):
    CSS_PATH = "desk.tcss"
    # priority: works from any screen, even over a text field (the note form)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(FIXED_KEYS["respond"], "respond", N_("binding.respond"), id="respond",
                priority=True),
        Binding(FIXED_KEYS["cancel"], "cancel_own", N_("binding.cancel"), id="cancel",
                priority=True),
        Binding(FIXED_KEYS["drill"], "drill", N_("binding.drill"), id="drill", priority=True),
        Binding(FIXED_KEYS["dismiss"], "dismiss", "", id="dismiss", show=False),
        Binding(FIXED_KEYS["note"], "open_note", N_("binding.note"), id="note", show=False),
        Binding(FIXED_KEYS["later"], "note_later", "", id="later", show=False),
        Binding(FIXED_KEYS["journal"], "journal", N_("binding.journal"), id="journal"),
        Binding(FIXED_KEYS["interview"], "interview", N_("binding.interview"), id="interview"),
        *(_slot(index) for index in range(MAX_CODES)),
    ]

    def __init__(self, config: ClientConfig, token: str, journal: Journal, *,
                 drill_session: bool = False, clock: Clock = local_now) -> None:
        super().__init__(config, token, clock=clock)
        assert config.desk is not None
        self.journal = journal
        self.outbox = Outbox(journal, self.client)
        self.state = DeskState(config.desk.id)
        self.drill_session = drill_session
        self.drill_armed = False
        self.title = t("desk.title")
        self._recorded: dict[UUID, datetime] = {}
        self._warned_keys = False
        self._from_global_key: set[UUID] = set()
        self._warned_global_keys = False
        self.site_availability: SiteAvailability | None = None  # the hub's, live only: not cached
        self._load_cache()

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield DeskName(id="desk-name")
            yield LinkBadge(id="link").data_bind(HubApp.link)
            yield StatusCorner(id="corner")
        yield LinkAdvice(id="link-advice")
        yield UnsentWarning(id="warning")
        yield Banner(id="drill")
        yield Banner(id="note-offer")
        yield Banner(id="session")
        with VerticalScroll(id="body"):
            yield OnCallCard(id="oncall")
            yield WhoCanCome(id="availability")
            yield StatusPanel(id="status")
            yield ColleagueBanner(id="colleagues")
            yield Repertoire(id="codes")
        yield HubFooter()

    def on_mount(self) -> None:
        """Runs before the base's (which starts the workers and applies the keymap)."""
        self.query_one("#oncall").border_title = t("oncall.title")
        self.query_one("#codes").border_title = t("codes.title")
        self.query_one("#colleagues").border_title = t("colleagues.title")
        self._sync()
        self.set_interval(1.0, self.tick)
        self._start_hotkeys()
        self.journal.purge(self.now() - timedelta(days=self.config.retention_days))
        if pending := self.adopt_pending():
            self.notify(tn("notify.queued_at_start", len(pending)))
        self.set_interval(ADOPT_EVERY_S, self._adopt_later)

    # -- keys -----------------------------------------------------------------------------

    def code_keys(self) -> list[tuple[AlertCode, str]]:
        """Each code with its keys: `[keys]` naming the code, or the hub's key + ctrl alternative."""
        return [(code, with_ctrl(self.config.keys.get(code.code, code.key)))
                for code in self.state.codes[:MAX_CODES]]

    def action_keys(self, name: str) -> str:
        return normal_keys(self.config.keys.get(name, FIXED_KEYS[name]))

    def keymap(self) -> dict[str, str]:
        slots = {f"code.{index}": keys for index, (_code, keys) in enumerate(self.code_keys())}
        return {**super().keymap(), **slots}

    def apply_keymap(self) -> None:
        super().apply_keymap()
        unknown = set(self.config.keys) - {c.code for c in self.state.codes} - set(FIXED_KEYS)
        if unknown and self.state.codes_known and not self._warned_keys:
            self._warned_keys = True
            self.notify(t("notify.unknown_keys", names=", ".join(sorted(unknown))),
                        severity="warning", timeout=15)
        global_keys = set(self.config.hotkeys.combinations) if self.config.hotkeys else set()
        unknown_global = global_keys - {c.code for c in self.state.codes}
        if unknown_global and self.state.codes_known and not self._warned_global_keys:
            self._warned_global_keys = True
            self.notify(t("notify.unknown_hotkeys", names=", ".join(sorted(unknown_global))),
                        severity="warning", timeout=15, markup=False)  # "[hotkeys]" is text

    def action_send_slot(self, index: int) -> None:
        if index < len(self.state.codes):
            self.action_send(self.state.codes[index].code)

    def action_send(self, code: str) -> None:
        """A new alert, or a short notice when the press repeats a fresh one (`same_alert`)."""
        now = self.now()
        test = self.drill_session or self.drill_armed
        self.drill_armed = False
        same = self.state.same_alert(code, test, now)
        if same is None:
            entry = self.journal.enqueue(code, test=test)
            self._track_and_deliver(entry, now)
            self.set_timer(NOT_TRANSMITTED_AFTER.total_seconds() + 0.05, self.tick)
        else:  # a double press: already on its way under its id; no code named (discretion)
            sent = same.step is not Step.QUEUED
            self.notify(t("notify.same_alert_sent" if sent else "notify.same_alert_queued"),
                        timeout=SAME_ALERT_NOTICE_S)
        self._sync()

    def _track_and_deliver(self, entry: OutboxEntry, now: datetime | None = None) -> None:
        queued_at = now or entry.created_at
        self.state.track(OwnAlert(id=entry.id, code=entry.code, test=entry.test, queued_at=queued_at))
        self.deliver(entry)

    def adopt_pending(self) -> list[OutboxEntry]:
        """Take on the journal's queued alerts this desk does not track yet: left by an earlier
        run, or queued by `deskalert send` / `deskalert hotkeys` while this screen is open.

        Each becomes an own alert in flight, delivered through the outbox under its id; if the
        other process is still sending it, the hub stores it once (a resend of the same id is
        answered with the stored copy). The desk's own alerts are tracked in the key handler,
        in the same step as they are queued, so they are never taken twice.
        """
        adopted = [entry for entry in self.journal.pending() if entry.id not in self.state.own]
        for entry in adopted:
            self._track_and_deliver(entry)
        if adopted:
            self._sync()
        return adopted

    def _adopt_later(self) -> None:
        """Every few seconds and when the link comes up: alerts queued outside this screen."""
        if not self.is_running:
            return
        if adopted := self.adopt_pending():
            self.notify(tn("notify.adopted", len(adopted)))

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
        self._sync()

    def action_respond(self) -> None:
        alert = self.state.next_to_answer()
        if alert is None:
            self.notify(t("notify.nobody_to_answer"))
            return
        self.state.answered.add(alert.id)
        self.answer(alert.id)
        self._sync()

    def action_drill(self) -> None:
        if self.drill_session:
            return
        self.drill_armed = not self.drill_armed
        if self.drill_armed:
            self.set_timer(DRILL_ARMED_S, self._disarm_drill)
        self._sync()

    def _disarm_drill(self) -> None:
        self.drill_armed = False
        self._sync()

    def action_journal(self) -> None:
        if not isinstance(self.screen, JournalScreen):
            self.push_screen(JournalScreen(self.journal, self.config.language, now=self.now))

    @on(JournalScreen.ShareRequested)
    def _share_from_journal(self, message: JournalScreen.ShareRequested) -> None:
        self.share_note(message.alert_id, message.note)

    def action_note_later(self) -> None:
        for alert in self.notes_waiting():
            self.journal.postpone_note(alert.id)
        self._sync()

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
            self.push_screen(NoteForm(pending[0], self.journal, self.config.language))

    @on(NoteForm.Finished)
    def _note_finished(self, message: NoteForm.Finished) -> None:
        if message.share:
            self.share_note(message.alert_id, message.note)
        else:
            self.notify(t("form.finished"))
        self._sync()

    def action_dismiss(self) -> None:
        if self.state.dismiss_refusals():
            self._sync()

    # -- global keys (client/hotkeys): a combination pressed anywhere is the F-key's action ---

    def _start_hotkeys(self) -> None:
        hotkeys = self.config.hotkeys
        if hotkeys is None:
            return
        if display_available(hotkeys):
            self.keep_running("hotkeys", self._listen_hotkeys, t("worker.hotkeys"))
        else:  # the agent must not count on a key that does nothing here
            self.notify(t("notify.hotkeys_unavailable"), severity="warning", timeout=15,
                        markup=False)

    async def _listen_hotkeys(self) -> None:
        assert self.config.hotkeys is not None
        await listen(self.config.hotkeys, lambda code: self.post_message(self.GlobalKey(code)),
                     lock=lock_path(self.journal.path))

    @dataclass
    class GlobalKey(Message):
        """A `[hotkeys]` combination was pressed somewhere on the desktop."""

        code: str

    @on(GlobalKey)
    def _global_key(self, message: GlobalKey) -> None:
        """Raise as the F-key does (the corner follows it); 2 s later, if the hub does not have
        it yet, the bell and the terminal brought forward, to the warning with whom to call."""
        code, before = message.code, set(self.state.own)
        self.action_send(code)
        self._from_global_key |= set(self.state.own) - before
        self.set_timer(NOT_TRANSMITTED_AFTER.total_seconds() + 0.1,
                       lambda: self._global_key_late(code))

    def _global_key_late(self, code: str) -> None:
        if any(own.code == code and own.step is Step.QUEUED
               for own in self.state.unsent(self.now())):
            self.bell()
            self.run_worker(feedback.bring_terminal_forward(), group="feedback",
                            exit_on_error=False)

    # -- workers --------------------------------------------------------------------------

    async def load_snapshot(self) -> SnapshotLoaded:
        health = await self.client.health()  # first: events after it are replayed
        beat = await self.client.heartbeat()
        codes = await self.client.codes()
        oncall = await self.client.oncall()
        desks = await self.client.desks()
        alerts = await self.client.alerts(state="open")
        availability = await self._availability_or_none()
        me = next((d for d in desks if d.id == self.state.desk_id), None)
        return SnapshotLoaded(codes=codes, oncall=oncall[0] if oncall else None, desk=me,
                              alerts=alerts, heartbeat_s=beat.heartbeat_s,
                              last_event_id=health.last_event_id or 0, availability=availability)

    async def _availability_or_none(self) -> SiteAvailability | None:
        """Who can come now; a hub from before /v1/availability has no answer (the stream's
        opening brings the numbers anyway)."""
        try:
            return next(iter(await self.client.availability()), None)
        except NotFound:
            return None

    def deliver(self, entry: OutboxEntry) -> None:
        """One worker per alert, named after it so that a cancel can stop it; restarted with
        backoff if anything but the hub's answer stops it, until the hub has it or refuses it."""
        self.keep_running(f"deliver:{entry.id}", lambda: self._deliver(entry),
                          t("worker.deliver"), until_done=True)

    async def _deliver(self, entry: OutboxEntry) -> None:
        """Until the hub has it or refuses it."""
        result = await self.outbox.deliver(entry, timeout=None)
        self.post_message(DeliveryDone(alert_id=entry.id, delivery=result.status,
                                       alert=result.alert, error=result.reason))

    @work(group="actions", exit_on_error=False)
    async def answer(self, alert_id: UUID) -> None:
        try:
            self.post_message(ActionDone("answer", await self.client.acknowledge(alert_id)))
        except DeskAlertError as exc:
            self.hub_failed(exc)
            self.post_message(ActionFailed("answer", alert_id, str(exc)))

    @work(group="actions", exit_on_error=False)
    async def cancel_on_hub(self, alert_id: UUID) -> None:
        try:
            self.post_message(ActionDone("cancel", await self.client.cancel(alert_id)))
        except DeskAlertError as exc:
            self.hub_failed(exc)
            self.post_message(ActionFailed("cancel", alert_id, str(exc)))

    @work(group="notes", exit_on_error=False)
    async def share_note(self, alert_id: UUID, note: NoteIn) -> None:
        result = await share_with_hub(self, self.client, self.journal, alert_id, note)
        if result.shared and isinstance(self.screen, JournalScreen):
            self.screen.reload()

    # -- messages -------------------------------------------------------------------------

    @on(SnapshotLoaded)
    def _on_snapshot(self, message: SnapshotLoaded) -> None:
        now = self.now()
        self.state.codes, self.state.codes_known = message.codes, True
        self.journal.save("codes", message.codes)
        self._set_oncall(message.oncall)
        if message.desk is not None:
            self.state.desk = message.desk
            self.journal.save("desk", message.desk)
        self.state.replace_open(message.alerts, now)
        self._send_again_what_the_hub_lost(message.alerts)
        if message.availability is not None:
            self.site_availability = message.availability
        self.apply_keymap()
        self._after_change()
        self.load_interview()

    def _send_again_what_the_hub_lost(self, open_alerts: list[Alert]) -> None:
        """An own alert the desk holds as stored and still open, which the hub's fresh list of
        open alerts does not have, is sent again under its id: the hub answers 200 with its copy
        if it was closed meanwhile (the desk learns it), or stores it again (201) if it lost it,
        e.g. restored from a copy older than the alert. Without this, the desk went on showing
        "transmise" for an alert no supervisor could see."""
        open_ids, now = {a.id for a in open_alerts}, self.now()
        again = 0
        for own in self.state.own.values():
            if (own.alert is None or own.step.is_final or own.cancel_requested
                    or own.id in open_ids or now - own.alert.received_at > RESEND_LOST_WITHIN):
                continue
            entry = self.journal.requeue(own.id)
            if entry is None:
                continue
            own.alert, own.delivery = None, Delivery.QUEUED
            self.deliver(entry)
            again += 1
        if again:
            self.set_timer(NOT_TRANSMITTED_AFTER.total_seconds() + 0.05, self.tick)

    def watch_link(self, link: LinkState) -> None:
        self.state.link = link
        if link.kind is LinkKind.UP:
            self._adopt_later()
        self._sync()

    @on(HubEvent)
    def _on_event(self, message: HubEvent) -> None:
        match message.event:
            case AlertEvent(data=alert):
                self.state.apply(alert, self.now())
            case OnCallEvent(data=card):
                if self.state.desk is None or card.site == self.state.desk.site:
                    self._set_oncall(card)
            case PresenceEvent(data=desk) if desk.id == self.state.desk_id:
                self.state.desk = desk
            case AvailabilityEvent(data=numbers):
                self.site_availability = numbers
        self._after_change()

    @on(DeliveryDone)
    def _on_delivery(self, message: DeliveryDone) -> None:
        if message.alert is not None:
            self.state.apply(message.alert, self.now())
            if message.alert_id in self._from_global_key:
                self.run_worker(feedback.stored(message.alert), group="feedback",
                                exit_on_error=False)
        elif message.delivery is Delivery.REFUSED:
            error = message.error or "?"
            self.state.refuse(message.alert_id, error, self.now())
            if error.startswith(Unauthorized.code):
                self.hub_failed(Unauthorized(error))
            elif (detail := outside_site_network(error)) is not None:  # the link, in red
                self.hub_failed(Forbidden(detail, code=OUTSIDE_SITE_NETWORK))
        self._after_change()

    @on(ActionDone)
    def _on_action_done(self, message: ActionDone) -> None:
        self.state.apply(message.alert, self.now())
        if message.kind == "answer":
            self.notify(t("notify.answered", desk=views.clean(message.alert.desk_label)))
        else:
            self.notify(t("notify.cancelled"))
        self._sync()

    @on(ActionFailed)
    def _on_action_failed(self, message: ActionFailed) -> None:
        reason = views.clean(message.reason)
        if message.kind == "answer":
            self.state.answered.discard(message.alert_id)
            self.notify(t("notify.answer_failed", reason=reason), severity="error", timeout=10)
        else:
            own = self.state.own.get(message.alert_id)
            if own is not None:
                own.cancel_requested = own.cancel_sent = False
            self.notify(t("notify.cancel_refused", reason=reason), severity="error", timeout=10)
        self._sync()

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
        self._sync()

    def _set_oncall(self, card: OnCall | None) -> None:
        self.state.oncall, self.state.oncall_saved_at = card, self.now()
        if card is not None:
            self.journal.save("oncall", card)

    def _load_cache(self) -> None:
        """What the desk knew last time: shown at once, marked as last known until the hub answers.

        A cache that no longer reads (written by another version) is ignored, not fatal."""
        if codes := self.journal.load_as("codes", list[AlertCode]):
            self.state.codes, self.state.codes_known = codes[0], True
        if oncall := self.journal.load_as("oncall", OnCall):
            self.state.oncall, self.state.oncall_saved_at = oncall
        if desk := self.journal.load_as("desk", DeskPresence):
            self.state.desk = desk[0]

    # -- setting the widgets' values -------------------------------------------------------

    def tick(self) -> None:
        """Once a second: only what time changes (the widgets redraw only if a value moved)."""
        if self.is_running and self.screen_stack:
            self._sync_own()
            self.screen_stack[0].query_one(ColleagueBanner).tick(self.now())

    def _sync(self) -> None:
        """Set every widget's values from the state; unchanged values redraw nothing."""
        if not self.is_running or not self.screen_stack \
                or not self.screen_stack[0].query(DeskName):
            return  # not yet, or no longer, drawn: an event landing at exit draws nothing
        state, main = self.state, self.screen_stack[0]
        target = state.call_target()
        main.query_one(DeskName).desk_id = state.desk_id
        main.query_one(DeskName).desk = state.desk
        main.query_one(LinkAdvice).link = state.link
        main.query_one(LinkAdvice).target = target
        card = main.query_one(OnCallCard)
        card.oncall, card.saved_at = state.oncall, state.oncall_saved_at
        card.live = state.link.kind is LinkKind.UP
        who = main.query_one(WhoCanCome)
        who.numbers, who.target, who.live = self.site_availability, target, card.live
        codes = tuple(state.codes)
        repertoire = main.query_one(Repertoire)
        repertoire.codes, repertoire.known = tuple(self.code_keys()), state.codes_known
        banner = main.query_one(ColleagueBanner)
        banner.codes, banner.respond_key = codes, self.action_keys("respond")
        banner.answered = frozenset(state.answered)
        banner.alerts = tuple(state.colleague_alerts())
        banner.tick(self.now())
        drill = (t("drill.session") if self.drill_session else
                 t("drill.banner", key=views.key_label(self.action_keys("drill"))))
        main.query_one("#drill", Banner).message = (
            drill if self.drill_session or self.drill_armed else "")
        self._sync_notes()
        self._sync_own()

    def _sync_notes(self) -> None:
        waiting, main = self.notes_waiting(), self.screen_stack[0]
        main.query_one("#note-offer", Banner).message = t(
            "note.offer", label=views.clean(waiting[0].code_label),
            time=views.clock_time(waiting[0].received_at)[:5],
            key=self.action_keys("note"), later=self.action_keys("later"),
        ) if waiting else ""

    def _sync_own(self) -> None:
        """The agent's own alert: the corner, the status panel, the unmissable warning."""
        now, state, main = self.now(), self.state, self.screen_stack[0]
        own = state.current_own(now)
        for queued in state.unsent(now):
            if queued.step is Step.QUEUED and (stored := self.journal.get(queued.id)):
                queued.error = stored.last_error
        unsent = tuple(replace(o) for o in state.unsent(now))
        shown = replace(own) if own else None
        corner = main.query_one(StatusCorner)
        corner.own, corner.oncall = shown, state.oncall
        panel = main.query_one(StatusPanel)
        panel.own, panel.code, panel.oncall = shown, state.code(own.code) if own else None, \
            state.oncall
        warning = main.query_one(UnsentWarning)
        warning.codes, warning.link = tuple(state.codes), state.link
        warning.target = state.call_target()
        warning.unsent = unsent
        main.query_one(LinkAdvice).hidden = bool(unsent)
