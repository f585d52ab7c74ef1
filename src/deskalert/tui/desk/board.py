"""The desk's main screen: its layout, and its widgets' values set from `DeskState`.

The app decides; the board shows. `show()` sets every widget's values, `show_own()` only what
the agent's own alert changes, `tick()` what time moves; a widget redraws only if a value moved
(widgets.py). The board draws on the first screen of the stack, under any form or prompt, and
draws nothing before the screen is composed or after it is gone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget

from deskalert.i18n import language, t
from deskalert.models import SiteAvailability
from deskalert.text import strip_control as clean
from deskalert.tui.base import Clock, HubApp, LinkBadge
from deskalert.tui.desk import words
from deskalert.tui.desk.delivery import DeskDelivery
from deskalert.tui.desk.hotkeys import GlobalKeys
from deskalert.tui.desk.interview import InterviewLine
from deskalert.tui.desk.keys import DeskKeys
from deskalert.tui.desk.state import DeskState
from deskalert.tui.desk.widgets import (
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
from deskalert.tui.footer import HubFooter
from deskalert.tui.link import LinkKind
from deskalert.tui.note_form import NoteForm


class Board:
    """The desk screen of one app (module docstring)."""

    def __init__(
        self, app: App[Any], state: DeskState, delivery: DeskDelivery, keys: DeskKeys, clock: Clock
    ) -> None:
        self.app, self.state, self.delivery, self.keys, self.now = app, state, delivery, keys, clock

    def compose(
        self, interview: InterviewLine, global_keys: GlobalKeys, broadcasts: Widget | None = None
    ) -> ComposeResult:
        """The layout, yielded from the app's `compose` (the link badge is bound to the app's)."""
        with Horizontal(id="topbar"):
            yield DeskName(id="desk-name")
            yield LinkBadge(id="link").data_bind(HubApp.link)
            yield StatusCorner(id="corner")
        yield LinkAdvice(id="link-advice")
        yield UnsentWarning(id="warning")
        yield Banner(id="drill")
        yield Banner(id="note-offer")
        yield interview
        with VerticalScroll(id="body"):  # compact: the on-call and the codes docked (tcss)
            yield OnCallCard(id="oncall").data_bind(HubApp.compact)
            yield WhoCanCome(id="availability")
            yield StatusPanel(id="status").data_bind(HubApp.compact)
            yield ColleagueBanner(id="colleagues").data_bind(HubApp.compact)
            yield Repertoire(id="codes").data_bind(HubApp.compact)
        yield HubFooter().data_bind(HubApp.compact)  # Textual's compact footer
        yield global_keys  # shows nothing
        if broadcasts is not None:
            yield broadcasts  # shows nothing itself: its screens go above everything

    def titles(self) -> None:
        main = self.app.screen_stack[0]
        main.query_one("#oncall").border_title = t("oncall.title")
        main.query_one("#codes").border_title = t("codes.title")

    def _main(self) -> Screen[Any] | None:
        """The desk screen, or None: not yet, or no longer, drawn (an event landing at exit)."""
        app = self.app
        if not app.is_running or not app.screen_stack or not app.screen_stack[0].query(DeskName):
            return None
        return app.screen_stack[0]

    def show(self, availability: SiteAvailability | None, drill: str) -> None:
        """Set every widget's values; unchanged values redraw nothing. `availability`: the hub's
        live numbers; `drill`: the drill banner's text ("" when none)."""
        if (main := self._main()) is None:
            return
        state, keys = self.state, self.keys
        target = state.call_target()
        main.query_one(DeskName).desk_id = state.desk_id
        main.query_one(DeskName).desk = state.desk
        main.query_one(LinkAdvice).link = state.link
        main.query_one(LinkAdvice).target = target
        card = main.query_one(OnCallCard)
        card.oncall, card.saved_at = state.oncall, state.oncall_saved_at
        card.live = state.link.kind is LinkKind.UP
        who = main.query_one(WhoCanCome)
        who.numbers, who.target, who.live = availability, target, card.live
        repertoire = main.query_one(Repertoire)
        repertoire.codes, repertoire.known = tuple(keys.codes(state.codes)), state.codes_known
        banner = main.query_one(ColleagueBanner)
        banner.codes, banner.respond_key = tuple(state.codes), keys.action("respond")
        banner.answered = frozenset(state.answered)
        banner.alerts = tuple(state.colleague_alerts())
        banner.tick(self.now())
        main.query_one("#drill", Banner).message = drill
        self._show_notes(main)
        self.show_own()

    def _show_notes(self, main: Screen[Any]) -> None:
        """The offer of a note; not while a note form is open (it would take the form's
        rows, and its key types a letter there)."""
        waiting = [] if isinstance(self.app.screen, NoteForm) else self.delivery.notes_waiting()
        main.query_one("#note-offer", Banner).message = (
            t(
                "note.offer",
                label=clean(waiting[0].code_words(language() == "en")),
                time=words.clock_time(waiting[0].received_at)[:5],
                key=self.keys.action("note"),
                later=self.keys.action("later"),
            )
            if waiting
            else ""
        )

    def show_own(self) -> None:
        """The agent's own alert: the corner, the status panel, the unmissable warning."""
        if not self.app.is_running or not self.app.screen_stack:
            return
        now, state, main = self.now(), self.state, self.app.screen_stack[0]
        own = state.current_own(now)
        self.delivery.refresh_errors()
        unsent = tuple(replace(o) for o in state.unsent(now))
        shown = replace(own) if own else None
        corner = main.query_one(StatusCorner)
        corner.own, corner.oncall = shown, state.oncall
        panel = main.query_one(StatusPanel)
        panel.own, panel.code, panel.oncall = (
            shown,
            state.code(own.code) if own else None,
            state.oncall,
        )
        warning = main.query_one(UnsentWarning)
        warning.codes, warning.link = tuple(state.codes), state.link
        warning.target = state.call_target()
        warning.unsent = unsent
        main.query_one(LinkAdvice).hidden = bool(unsent)
        if isinstance(form := self.app.screen, NoteForm):  # the warning may have come or gone
            form.call_after_refresh(form.place)

    def tick(self) -> None:
        """Once a second: only what time changes."""
        if self.app.is_running and self.app.screen_stack:
            self.show_own()
            self.app.screen_stack[0].query_one(ColleagueBanner).tick(self.now())
