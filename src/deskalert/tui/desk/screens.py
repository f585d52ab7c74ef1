"""The desk's interview screens: the small session form, and the "Tout va bien ?" prompt.

The prompt is meant to read as nothing alarming to a visitor who sees the screen: a small
neutral box, no colour of alarm, the same "Merci" after a real "oui" and after the duress key
(`[desk] duress_key`), which looks like an answer and raises a discreet alert on the hub.
The interview feature that opens them and sends the answers is `InterviewLine` (interview.py).

Where the prompt goes: the agent may face an agitated person, in a corner of the screen (60 x 16
beside the main application). The prompt must be seen, and must never hide the way to call for
help for the up to 60 s it stays: it sits on the right, as low as it fits without covering any
row of the top bar (link, own alert's step), the link and not-transmitted warnings, the on-call
line, the code keys or the footer (`KEEP`); next it avoids the agent's own alert and a
colleague's (`RATHER_KEEP`), which give way first when there is no room, then the quiet lines
(who else is online, the session line).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Spacing
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label

from deskalert.i18n import N_, t
from deskalert.models import Check, CheckAnswer, CheckKind
from deskalert.tui.base import Clock

THANKS_S = 2.0
# A key pressed this soon after the prompt appears was meant for what was on screen before
# (an Enter typed in a form): it does not answer.
GRACE_S = 0.8
# What the "Tout va bien ?" prompt must not cover on the desk screen, then what it rather would
# not (module docstring): selectors of board.py's layout.
KEEP = ("#topbar", "#link-advice", "#warning", "#oncall", "#codes", "HubFooter")
RATHER_KEEP = ("#status", "#colleagues")
PROMPT_RIGHT = 2


@dataclass
class SessionRequest:
    room: str
    minutes: float


class SessionForm(ModalScreen[SessionRequest | None]):
    """Room and expected minutes; Enter starts, Escape gives up."""

    DEFAULT_CSS = """
    SessionForm { align: center middle; }
    SessionForm > Vertical { width: 60; height: auto; border: round $primary;
                             background: $surface; padding: 1 2; }
    SessionForm Horizontal { height: auto; }
    SessionForm Horizontal > Label { width: 12; padding: 1 0; }
    SessionForm Input { width: 1fr; }
    SessionForm #session-error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "give_up", show=False)]

    def __init__(self, room: str = "", minutes: float = 30) -> None:
        super().__init__()
        self.room, self.minutes = room, minutes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("session.form.title"))
            with Horizontal():
                yield Label(t("session.form.room"))
                yield Input(self.room, id="room", max_length=60)
            with Horizontal():
                yield Label(t("session.form.minutes"))
                yield Input(f"{self.minutes:g}", id="minutes", max_length=5, type="number")
            yield Label("", id="session-error")
            yield Label(t("session.form.hint"))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        text = self.query_one("#minutes", Input).value.strip().replace(",", ".")
        try:
            minutes = float(text)
        except ValueError:
            minutes = 0
        if not 0 < minutes <= 480:
            self.query_one("#session-error", Label).update(t("session.form.bad_minutes"))
            return
        self.dismiss(SessionRequest(self.query_one("#room", Input).value.strip(), minutes))

    def action_give_up(self) -> None:
        self.dismiss(None)


class CheckPrompt(ModalScreen[CheckAnswer | None]):
    """ "Tout va bien ? Entrée = oui", a countdown, then "Merci" whatever the answer.

    Enter answers "oui"; `duress_key` answers duress; "v" answers "venez" to a supervisor's
    check. The answer goes to `reply_to` as `CheckPrompt.Answered` (the interview feature sends
    it); the prompt closes itself after the thanks, or when the hub says the check is over
    (`close()`).
    """

    DEFAULT_CSS = """
    CheckPrompt { align: right top; background: $background 0%; }
    CheckPrompt > Vertical { width: 44; height: auto; border: round $panel-lighten-2;
                             background: $surface; padding: 0 1; margin: 0 2 0 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "answer('ok')", show=False)]

    def __init__(
        self, check: Check, duress_key: str | None, clock: Clock, reply_to: MessagePump
    ) -> None:
        super().__init__()
        self.check, self.duress_key, self.clock = check, duress_key, clock
        self.reply_to = reply_to
        self.answered: CheckAnswer | None = None
        self.closing = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(t("check.prompt.question"), id="check-question")
            yield Label(self._hint(), id="check-hint")

    def on_mount(self) -> None:
        self.shown_at = time.monotonic()
        self.set_interval(1.0, self._tick)
        self._place()
        self.call_after_refresh(self._place)  # its own height known

    def on_resize(self) -> None:
        self._place()

    def _place(self) -> None:
        """On the right, as low as it fits without covering what must stay (module docstring);
        again each second: a colleague's alert may have come meanwhile."""
        if not self.app.screen_stack or not self.is_mounted:
            return
        box = self.query_one(Vertical)
        height = box.outer_size.height or 4  # before its first layout: its 4 lines
        main = self.app.screen_stack[0]
        keep = _rows(main, KEEP)
        top = lowest_free_row(height, self.size.height, [keep | _rows(main, RATHER_KEEP), keep])
        if box.styles.margin.top != top:
            box.styles.margin = Spacing(top, PROMPT_RIGHT, 0, 0)

    def _hint(self) -> str:
        left = max(0, int((self.check.deadline - self.clock()).total_seconds()))
        key = (
            N_("check.prompt.hint_supervisor")
            if self.check.kind is CheckKind.SUPERVISOR
            else N_("check.prompt.hint")
        )
        return t(key, seconds=left)

    def _tick(self) -> None:
        if self.answered is None:
            self.query_one("#check-hint", Label).update(self._hint())
        self._place()

    def on_key(self, event: events.Key) -> None:
        if self.answered is not None or self._too_soon():
            return
        if self.duress_key and event.key == self.duress_key:
            event.stop()
            self.action_answer(CheckAnswer.DURESS.value)
        elif event.key == "v" and self.check.kind is CheckKind.SUPERVISOR:
            event.stop()
            self.action_answer(CheckAnswer.VENEZ.value)

    def _too_soon(self) -> bool:
        return time.monotonic() - getattr(self, "shown_at", 0.0) < GRACE_S

    def action_answer(self, answer: str) -> None:
        if self.answered is not None or self._too_soon():
            return
        self.answered = CheckAnswer(answer)
        self.query_one("#check-question", Label).update(t("check.prompt.thanks"))
        self.query_one("#check-hint", Label).update("")
        self.reply_to.post_message(self.Answered(self.check, self.answered))
        self.set_timer(THANKS_S, self.close)

    def close(self) -> None:
        """Closed on top; under another screen (a supervisors' message), when it comes back on
        top: `dismiss` pops the top screen whichever screen it is called on."""
        if self is self.app.screen:  # not `is_current`: also true under a modal screen
            self.dismiss(self.answered)
        elif self in self.app.screen_stack:
            self.closing = True

    def on_screen_resume(self) -> None:
        if self.closing:
            self.dismiss(self.answered)

    @dataclass
    class Answered(Message):
        check: Check
        answer: CheckAnswer


def _rows(screen: Screen[object], selectors: tuple[str, ...]) -> frozenset[int]:
    """The screen rows that the widgets of `selectors` show on (none for one hidden)."""
    rows: set[int] = set()
    for selector in selectors:
        for widget in screen.query(selector):
            region = widget.region
            rows.update(range(max(region.y, 0), min(region.bottom, screen.size.height)))
    return frozenset(rows)


def lowest_free_row(height: int, screen_height: int, tiers: list[frozenset[int]]) -> int:
    """The top row of the lowest box of `height` rows that covers none of a tier's rows, the
    first tier that leaves room; with none, the lowest that leaves the last tier's last rows
    (the code keys and the footer) in view."""
    lowest = max(screen_height - height, 0)
    for rows in tiers:
        for top in range(lowest, -1, -1):
            if rows.isdisjoint(range(top, top + height)):
                return top
    bottom = [r for r in sorted(tiers[-1]) if r >= screen_height // 2] if tiers else []
    return max((bottom[0] if bottom else screen_height) - height, 0)
