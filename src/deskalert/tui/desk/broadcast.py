"""The desk's part of broadcasts: a supervisor's message shown above everything, and one key
to say "lu".

`BroadcastWatch` (shows nothing itself) handles the whole feature: after each snapshot it reads
the current broadcasts of the desk's site (a desk that was offline gets those still current),
takes the hub's broadcast events (the app forwards them as `HubEvent`), opens one
`BroadcastScreen` per broadcast this desk has not read, and sends the "lu" until the hub has it.
An ended broadcast shows as ended on its open screen, or as a notice if it was read already.
The words are the catalogue's; the kind's label, protocol and a template's text are the
roster's, in English when the agent's language is English and the roster gives them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Label, Static

from deskalert.client.api import HubClient
from deskalert.errors import DeskAlertError, HubUnreachable, ServerError, StoreUnavailable
from deskalert.i18n import N_, language, t, tn
from deskalert.journal.store import Journal
from deskalert.models import Broadcast, BroadcastEvent, BroadcastState
from deskalert.sitetime import local
from deskalert.tui.base import run_on_app
from deskalert.tui.messages import HubEvent, refusal

# A letter, not an F-key: no ctrl alternative (ctrl+l is F7's, a code key with priority).
READ_KEYS = "l,L"
CLOSE_AFTER_READ_S = 1.5
RESEND_EVERY_S = 2.0


def in_language(broadcast: Broadcast) -> tuple[str, str, str]:
    """(label, text, protocol) in the agent's language where the roster gives it."""
    return broadcast.words(language() == "en")


def local_time(broadcast: Broadcast, at: str = "sent_at") -> str:
    moment = getattr(broadcast, at)
    return local(moment).strftime("%H:%M") if moment is not None else ""  # the site's zone


class BroadcastScreen(ModalScreen[None]):
    """One broadcast, above everything: its kind's look, text and protocol, and "l = lu"."""

    DEFAULT_CSS = """
    BroadcastScreen { align: center middle; background: $background 60%; }
    BroadcastScreen > Vertical { width: 90%; max-width: 76; height: auto; max-height: 90%;
                                 border: heavy $warning; background: $surface; padding: 0 1; }
    BroadcastScreen.look-danger > Vertical { border: heavy $error; }
    BroadcastScreen.look-clear > Vertical { border: heavy $success; }
    BroadcastScreen.look-info > Vertical { border: heavy $primary; }
    BroadcastScreen #broadcast-kind { text-style: bold; width: 100%; background: $warning;
                                      color: $text; padding: 0 1; }
    BroadcastScreen.look-danger #broadcast-kind { background: $error; }
    BroadcastScreen.look-clear #broadcast-kind { background: $success; }
    BroadcastScreen.look-info #broadcast-kind { background: $primary; }
    BroadcastScreen.-covered { background: $background 0%; }
    BroadcastScreen.-covered > Vertical { display: none; }
    BroadcastScreen.look-ended > Vertical { border: heavy $panel-lighten-2; }
    BroadcastScreen.look-ended #broadcast-kind { background: $panel-lighten-2; }
    BroadcastScreen.look-ended #broadcast-protocol { display: none; }
    BroadcastScreen #broadcast-text { text-style: bold; margin: 1 0 0 0; }
    BroadcastScreen #broadcast-protocol { margin: 1 0 0 0; }
    BroadcastScreen #broadcast-from { color: $text-muted; margin: 1 0 0 0; }
    BroadcastScreen #broadcast-more { text-style: bold; color: $warning; margin: 1 0 0 0; }
    BroadcastScreen #broadcast-hint { text-style: bold reverse; margin: 1 0 0 0; width: 100%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(READ_KEYS, "read", N_("binding.broadcast_read"), id="broadcast_read"),
        Binding("escape", "close_ended", show=False),
    ]

    @dataclass
    class Read(Message):
        broadcast: Broadcast

    def __init__(self, broadcast: Broadcast, reply_to: MessagePump) -> None:
        super().__init__(classes=_look(broadcast))
        self.broadcast, self.reply_to = broadcast, reply_to
        self.read = False
        self.closing = False  # closed while under another: goes when it comes back on top

    def compose(self) -> ComposeResult:
        _, text, protocol = in_language(self.broadcast)
        with Vertical():
            yield Label(self._kind(), id="broadcast-kind", markup=False)  # roster text
            yield Static(text, id="broadcast-text", markup=False)
            yield Static(
                t("broadcast.protocol", protocol=protocol) if protocol else "",
                id="broadcast-protocol",
                markup=False,
            )
            yield Label(
                t(
                    "broadcast.from",
                    name=self.broadcast.sender_name,
                    time=local_time(self.broadcast),
                ),
                id="broadcast-from",
                markup=False,
            )
            yield Label("", id="broadcast-more", markup=False)
            yield Label(self._hint(), id="broadcast-hint", markup=False)

    def on_mount(self) -> None:
        recount(self.app)

    def waiting_below(self, count: int, covered: bool) -> None:
        """How many other messages wait under this one (each shown once this one is closed);
        `covered`: under another, its box hidden (a shorter box on top let this one's
        "Appuyez sur L" read as the other's), and the desk seen through, its keys in view."""
        self.set_class(covered, "-covered")
        for more in self.query("#broadcast-more").results(Label):  # none before it is composed
            more.update(tn("broadcast.more", count) if count else "")
            more.display = count > 0

    def on_screen_resume(self) -> None:
        if self.closing:
            self.dismiss(None)
        else:
            recount(self.app)

    def _kind(self) -> str:
        """The heading: the kind, or once ended that it ended (its look and "what to do" go:
        a lockdown that is over must not still read as one)."""
        label, _, _ = in_language(self.broadcast)
        if self.broadcast.state is BroadcastState.ENDED:
            return t(
                "broadcast.kind_ended", label=label, time=local_time(self.broadcast, "ended_at")
            )
        return t("broadcast.kind", label=label)

    def _hint(self) -> str:
        if self.broadcast.state is BroadcastState.ENDED:
            return t("broadcast.ended")
        return t("broadcast.read_done") if self.read else t("broadcast.read_hint")

    def action_read(self) -> None:
        """ "Lu" (sent by the watch), then the screen closes; once ended, it just closes."""
        if self.broadcast.state is BroadcastState.ENDED:
            self.close()
            return
        if self.read:
            return
        self.read = True
        self.reply_to.post_message(self.Read(self.broadcast))
        self.query_one("#broadcast-hint", Label).update(self._hint())
        self.set_timer(CLOSE_AFTER_READ_S, self.close)

    def action_close_ended(self) -> None:
        if self.broadcast.state is BroadcastState.ENDED:
            self.close()

    def ended(self, broadcast: Broadcast) -> None:
        """The hub ended it: said on the screen, which a key then closes."""
        self.broadcast = broadcast
        self.set_classes(_look(broadcast))
        recount(self.app)  # its "-covered" class again
        self.query_one("#broadcast-kind", Label).update(self._kind())
        self.query_one("#broadcast-hint", Label).update(self._hint())

    def close(self) -> None:
        """Closed on top; under another, when it comes back on top (`dismiss` pops the top
        screen whichever screen it is called on: it would close the message above)."""
        if self is self.app.screen:
            self.dismiss(None)
        elif self in self.app.screen_stack and not self.closing:
            self.closing = True
            recount(self.app)


def recount(app: App[object]) -> None:
    """Each broadcast screen says how many others, still to close, wait under it; all but the
    top one are covered."""
    screens = [s for s in app.screen_stack if isinstance(s, BroadcastScreen)]
    waiting = 0
    for place, screen in enumerate(screens):
        screen.waiting_below(waiting, covered=place < len(screens) - 1)
        waiting += not screen.closing


def _look(broadcast: Broadcast) -> str:
    return "look-ended" if broadcast.state is BroadcastState.ENDED else f"look-{broadcast.look}"


class BroadcastWatch(Widget):
    """This desk's broadcasts, the feature behind `BroadcastScreen` (module docstring)."""

    DEFAULT_CSS = "BroadcastWatch { display: none; }"

    @dataclass
    class Seen(Message):
        broadcast: Broadcast

    def __init__(
        self,
        client: HubClient,
        desk_id: str,
        journal: Journal | None = None,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.client, self.desk_id, self.journal = client, desk_id, journal
        self.known: dict[UUID, Broadcast] = {}

    def screens(self) -> dict[UUID, BroadcastScreen]:
        return {s.broadcast.id: s for s in self.app.screen_stack if isinstance(s, BroadcastScreen)}

    def load(self) -> None:
        """After each snapshot: the broadcasts of this desk's site still current."""
        run_on_app(self, self._load(), group="broadcast-load", exclusive=True)

    async def _load(self) -> None:
        try:
            current = await self.client.broadcasts()
        except DeskAlertError:
            return  # the follower shows the link; the next snapshot tries again
        for broadcast in current:
            self.post_message(self.Seen(broadcast))

    @on(HubEvent)
    def _hub_event(self, message: HubEvent) -> None:
        message.stop()
        if isinstance(message.event, BroadcastEvent):
            self.post_message(self.Seen(message.event.data))

    @on(Seen)
    def _seen(self, message: Seen) -> None:
        broadcast, screens = message.broadcast, self.screens()
        if not any(d.id == self.desk_id for d in broadcast.desks):
            return
        before = self.known.get(broadcast.id)
        if before is not None and broadcast.updated_at < before.updated_at:
            return  # a list read before the events that came meanwhile: nothing new
        self.known[broadcast.id] = broadcast
        if self.journal is not None:  # in the desk's journal and its debrief (export)
            self.journal.record_broadcast(broadcast)
        screen = screens.get(broadcast.id)
        if broadcast.state is BroadcastState.ENDED:
            if screen is not None:
                screen.ended(broadcast)
            elif before is not None and before.state is BroadcastState.CURRENT:
                label, text, _ = in_language(broadcast)
                self.notify(t("broadcast.ended_notice", label=label, text=text), timeout=60)
        elif broadcast.read_by(self.desk_id) is None and screen is None:
            self.app.push_screen(BroadcastScreen(broadcast, self))
        elif broadcast.read_by(self.desk_id) is not None and screen is not None:
            screen.close()  # read elsewhere (this desk's other screen)

    @on(BroadcastScreen.Read)
    def _read(self, message: BroadcastScreen.Read) -> None:
        message.stop()
        if message.broadcast.state is BroadcastState.CURRENT:
            run_on_app(self, self._send_read(message.broadcast.id), group="broadcast")

    async def _send_read(self, broadcast_id: UUID) -> None:
        """Sent until the hub has it (stored once however often it is sent)."""
        while True:
            try:
                await self.client.read_broadcast(broadcast_id)
                return
            except (HubUnreachable, ServerError, StoreUnavailable):
                await asyncio.sleep(RESEND_EVERY_S)
            except DeskAlertError as exc:  # refused: nothing to retry
                if (change := refusal(exc)) is not None:
                    self.post_message(change)
                self.notify(t("broadcast.read_failed", reason=str(exc)), severity="error")
                return


__all__ = ["BroadcastScreen", "BroadcastWatch"]
