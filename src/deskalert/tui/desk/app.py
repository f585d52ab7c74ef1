"""The desk app: the supervisor on call, the link, and one key to call for help.

Built on `HubApp` (tui/base.py), which follows the hub, keeps presence, holds the link state and
catches every worker failure. The wing around it, each part with its own docstring:

- `delivery.py`, `DeskDelivery` (no Textual): the decisions about the agent's own alerts (queue,
  adopt, send again, cancel, journal, the caches); this module runs what it returns as workers;
- `state.py`, `DeskState` (no Textual): what the desk knows;
- `board.py`, `Board`: the layout, and the widgets' values set from the state (`_sync`); the
  widgets (`widgets.py`, drawn by `words.py`) redraw themselves when a value changes;
- `keys.py`: the fixed keys and the code slots `[keys]` remaps, and the warnings about them;
- `asks.py`, `DeskAsks`: the requests besides delivery (j'arrive, cancel, a shared note) and
  how their answers are told; this module's handlers hand the answers on;
- features as widgets that handle their own messages: the interview timer (`interview.py`,
  `InterviewLine`, with its screens in `screens.py`), the global keys (`hotkeys.py`,
  `GlobalKeys`); the journal screen (`journal.py`) and the note form (tui/note_form.py).

A 1 s tick only moves what depends on time: the 2 s not-transmitted warning, the colleagues'
elapsed minutes, a finished alert leaving the corner.

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
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar
from uuid import UUID

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from deskalert.client.catchup import catch_up
from deskalert.client.outbox import Outbox
from deskalert.client.settings import ClientConfig
from deskalert.i18n import N_, t, tn
from deskalert.journal.store import Journal, OutboxEntry
from deskalert.models import (
    AvailabilityEvent,
    BroadcastEvent,
    CheckEvent,
    SessionEvent,
    SiteAvailability,
)
from deskalert.tui.base import Clock, HubApp, local_now
from deskalert.tui.desk import words
from deskalert.tui.desk.asks import DeskAsks
from deskalert.tui.desk.board import Board
from deskalert.tui.desk.delivery import DeskDelivery, Withdrawal
from deskalert.tui.desk.features import DeskFeatures
from deskalert.tui.desk.hotkeys import GlobalKeys
from deskalert.tui.desk.journal import JournalScreen
from deskalert.tui.desk.keys import FIXED_KEYS, MAX_CODES, DeskKeys, slot
from deskalert.tui.desk.messages import (
    ActionDone,
    ActionFailed,
    DeliveryDone,
    SnapshotLoaded,
    load_desk_snapshot,
)
from deskalert.tui.desk.quit import AGAIN_S, QuitGuard
from deskalert.tui.desk.state import NOT_TRANSMITTED_AFTER, DeskState, Step
from deskalert.tui.link import LinkKind, LinkState
from deskalert.tui.messages import HubEvent
from deskalert.tui.note_form import Keep, NoteForm

__all__ = ["DeskApp"]

DRILL_ARMED_S = 15.0
SAME_ALERT_NOTICE_S = 4.0  # "déjà transmise": a press that repeats a fresh alert
ADOPT_EVERY_S = 3.0  # how often the journal is read for alerts queued by another process
# What the note form leaves in view (note_form.py): the link, the own alert's step, the
# warnings and who is on call above it; the code keys below it while there is room.
FORM_KEEP = Keep(above=("#topbar", "#link-advice", "#warning", "#oncall"), below=("#codes",))


class DeskApp(HubApp):
    CSS_PATH = "styles.tcss"
    # priority: works from any screen, even over a text field (the note form)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            FIXED_KEYS["respond"], "respond", N_("binding.respond"), id="respond", priority=True
        ),
        Binding(
            FIXED_KEYS["cancel"], "cancel_own", N_("binding.cancel"), id="cancel", priority=True
        ),
        Binding(FIXED_KEYS["drill"], "drill", N_("binding.drill"), id="drill", priority=True),
        Binding(FIXED_KEYS["dismiss"], "dismiss", "", id="dismiss", show=False),
        Binding(FIXED_KEYS["note"], "open_note", N_("binding.note"), id="note", show=False),
        Binding(FIXED_KEYS["later"], "note_later", "", id="later", show=False),
        Binding(FIXED_KEYS["journal"], "journal", N_("binding.journal"), id="journal"),
        Binding(FIXED_KEYS["interview"], "interview", N_("binding.interview"), id="interview"),
        *(slot(index) for index in range(MAX_CODES)),
    ]

    def __init__(
        self,
        config: ClientConfig,
        token: str,
        journal: Journal,
        *,
        drill_session: bool = False,
        clock: Clock = local_now,
    ) -> None:
        super().__init__(config, token, clock=clock)
        assert config.desk is not None
        self.journal = journal
        self.outbox = Outbox(journal, self.client)
        self.state = DeskState(config.desk.id)
        self.delivery = DeskDelivery(journal, self.state, clock)
        self.keys = DeskKeys(config)
        self.board = Board(self, self.state, self.delivery, self.keys, clock)
        # features.py; the interview counts down to the hub's deadlines with the hub's time
        self.hub_parts = DeskFeatures(self.client, config.desk, self.hub_time.now, journal)
        self.interview = self.hub_parts.interview
        self.global_keys = GlobalKeys(
            config.hotkeys, journal.path, self.state, self.action_send, clock
        )
        self.drill_session = drill_session
        self.drill_armed = False
        self.asks = DeskAsks(self, self.state, self.delivery, journal, self.now)  # asks.py
        self.title = t("desk.title")
        self.quit_guard = QuitGuard()
        self.site_availability: SiteAvailability | None = None  # the hub's, live only: not cached
        self.delivery.load_cache()

    # -- layout (board.py) -----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield from self.board.compose(self.interview, self.global_keys, self.hub_parts.broadcasts)

    def on_mount(self) -> None:
        """Runs before the base's (which starts the workers and applies the keymap)."""
        self.board.titles()
        self._sync()
        self.set_interval(1.0, self.tick)
        self.global_keys.start()
        self.journal.purge(self.now() - timedelta(days=self.config.retention_days))
        if pending := self.adopt_pending():
            self.notify(tn("notify.queued_at_start", len(pending)))
        self.set_interval(ADOPT_EVERY_S, self._adopt_later)

    # -- keys -----------------------------------------------------------------------------

    def keymap(self) -> dict[str, str]:
        return {**super().keymap(), **self.keys.slots(self.state.codes)}

    def apply_keymap(self) -> None:
        super().apply_keymap()
        if self.state.codes_known:  # each warning once (keys.py)
            for warning, markup in self.keys.warnings(self.state.codes):
                self.notify(warning, severity="warning", timeout=15, markup=markup)

    def action_send_slot(self, index: int) -> None:
        if index < len(self.state.codes):
            self.action_send(self.state.codes[index].code)

    def action_send(self, code: str) -> None:
        """A new alert, or a short notice when the press repeats a fresh one (`same_alert`)."""
        press = self.delivery.press(code, test=self.drill_session or self.drill_armed)
        self.drill_armed = False
        if press.entry is not None:
            self.deliver(press.entry)
            self.set_timer(NOT_TRANSMITTED_AFTER.total_seconds() + 0.05, self.tick)
        elif press.same is not None:  # a double press: already on its way under its id;
            sent = press.same.step is not Step.QUEUED  # no code named (discretion)
            self.notify(
                t("notify.same_alert_sent" if sent else "notify.same_alert_queued"),
                timeout=SAME_ALERT_NOTICE_S,
            )
        self._sync()

    def adopt_pending(self) -> list[OutboxEntry]:
        """Deliver the queued alerts this desk does not track yet (`DeskDelivery.adopt`)."""
        adopted = self.delivery.adopt()
        for entry in adopted:
            self.deliver(entry)
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
        match self.delivery.withdraw():
            case Withdrawal.NOTHING, _:
                self.notify(t("notify.nothing_to_cancel"))
            case Withdrawal.WITHDRAWN, alert_id:
                for worker in self.workers:
                    if worker.name == f"deliver:{alert_id}":
                        worker.cancel()
                self.notify(t("notify.cancelled"))
            case Withdrawal.ASK_HUB, UUID() as alert_id:
                self.cancel_on_hub(alert_id)
        self._sync()

    def action_respond(self) -> None:
        alert = self.state.next_to_answer()
        if alert is None:
            self.notify(t("notify.nobody_to_answer"))
            return
        self.state.answered.add(alert.id)
        self.asks.ask("answer", alert.id)
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

    def action_interview(self) -> None:
        self.interview.toggle()

    def action_journal(self) -> None:
        if not isinstance(self.screen, JournalScreen):
            self.push_screen(JournalScreen(self.journal, self.config.language, now=self.now))

    @on(JournalScreen.ShareRequested)
    def _share_from_journal(self, message: JournalScreen.ShareRequested) -> None:
        self.asks.share_note(message.alert_id, message.note)

    def action_note_later(self) -> None:
        for alert in self.delivery.notes_waiting():
            self.journal.postpone_note(alert.id)
        self._sync()

    def action_open_note(self) -> None:
        """The incident note of the latest resolved alert still waiting for one."""
        pending = self.delivery.notes_waiting()
        if pending:
            language = self.config.language
            form = NoteForm(pending[0], self.journal, language, FORM_KEEP)
            self.push_screen(form, lambda _: self._sync())
            self._sync()

    @on(NoteForm.Finished)
    def _note_finished(self, message: NoteForm.Finished) -> None:
        if message.share:
            self.asks.share_note(message.alert_id, message.note)
        else:
            self.notify(t("form.finished"))
        self._sync()

    async def action_quit(self) -> None:
        """ctrl+q asks first while an own alert is open (quit.py)."""
        if (warning := self.quit_guard.warning(self.state.current_own(self.now()))) is None:
            await super().action_quit()
        else:
            self.notify(warning, title=t("quit.own_title"), severity="warning", timeout=AGAIN_S)

    def action_dismiss(self) -> None:
        if self.state.dismiss_refusals():
            self._sync()

    # -- workers --------------------------------------------------------------------------

    async def load_snapshot(self) -> SnapshotLoaded:
        await catch_up(self.journal, self.client)  # raised by send/hotkeys, closed meanwhile
        return await load_desk_snapshot(self.client, self.state.desk_id, self.beat_hub)

    def deliver(self, entry: OutboxEntry) -> None:
        """One worker per alert, named after it so that a cancel can stop it; restarted with
        backoff if anything but the hub's answer stops it, until the hub has it or refuses it."""
        self.keep_running(
            f"deliver:{entry.id}",
            lambda: self._deliver(entry),
            t("worker.deliver"),
            until_done=True,
        )

    async def _deliver(self, entry: OutboxEntry) -> None:
        """Until the hub has it or refuses it."""
        result = await self.outbox.deliver(entry, timeout=None)
        self.post_message(
            DeliveryDone(
                alert_id=entry.id, delivery=result.status, alert=result.alert, error=result.reason
            )
        )

    def cancel_on_hub(self, alert_id: UUID) -> None:
        self.asks.ask("cancel", alert_id)

    # -- messages -------------------------------------------------------------------------

    @on(SnapshotLoaded)
    def _on_snapshot(self, message: SnapshotLoaded) -> None:
        again = self.delivery.take_snapshot(
            message.codes, message.oncall, message.desk, message.alerts
        )
        for entry in again:
            self.deliver(entry)
        if again:
            self.set_timer(NOT_TRANSMITTED_AFTER.total_seconds() + 0.05, self.tick)
        if message.availability is not None:
            self.site_availability = message.availability
        self.apply_keymap()
        self._after_change()
        self.hub_parts.load()

    def watch_link(self, link: LinkState) -> None:
        self.state.link = link
        if link.kind is LinkKind.UP:
            self._adopt_later()
        self._sync()

    @on(HubEvent)
    def _on_event(self, message: HubEvent) -> None:
        match message.event:
            case AvailabilityEvent(data=numbers):
                self.site_availability = numbers
            case SessionEvent() | CheckEvent() | BroadcastEvent():  # the features' own
                self.hub_parts.take(message.event)
            case event:
                self.delivery.take_event(event)
        self._after_change()

    @on(DeliveryDone)
    def _on_delivery(self, message: DeliveryDone) -> None:
        refusal = self.delivery.delivered(
            message.alert_id, message.delivery, message.alert, message.error
        )
        if message.alert is not None:
            self.global_keys.stored(message.alert)
        if refusal is not None:  # the link, in red
            self.hub_failed(refusal)
        self._after_change()

    @on(ActionDone)
    def _on_action_done(self, message: ActionDone) -> None:
        self.asks.done(message)
        self._sync()

    @on(ActionFailed)
    def _on_action_failed(self, message: ActionFailed) -> None:
        self.asks.failed(message)
        self._sync()

    def _after_change(self) -> None:
        """Journal each own alert's newest copy; cancel on the hub one withdrawn in flight."""
        for alert_id in self.delivery.record():
            self.cancel_on_hub(alert_id)
        self._sync()

    # -- setting the widgets' values (board.py) --------------------------------------------

    def tick(self) -> None:
        """Once a second: only what time changes (the widgets redraw only if a value moved)."""
        self.board.tick()

    def _sync(self) -> None:
        """Set every widget's values from the state; unchanged values redraw nothing."""
        drill = (
            t("drill.session")
            if self.drill_session
            else t("drill.banner", key=words.key_label(self.keys.action("drill")))
        )
        self.board.show(
            self.site_availability, drill if self.drill_session or self.drill_armed else ""
        )
