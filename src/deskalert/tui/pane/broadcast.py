"""The pane's part of broadcasts, as one widget: the current messages to the desks with who has
read them (and when) and who has not, live; sending one; ending one.

`BroadcastPanel` draws the current broadcasts of the supervisor's sites (hidden while there are
none) and handles the feature itself: it loads them after each snapshot (`load()`), follows
their events (the app forwards them as `HubEvent`), asks what to send (`compose_message()`, the
app's "m": a template's number or a text, then its kind, then the sites) and which to end
(`end()`, the app's "t"). The desks that have not read one after the roster's delay are named
in capitals once the hub says so (`broadcast.unread`). Requests run as the app's workers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.reactive import reactive

from deskalert.client.api import HubClient
from deskalert.errors import DeskAlertError
from deskalert.i18n import language, t
from deskalert.models import (
    Broadcast,
    BroadcastCatalog,
    BroadcastEvent,
    BroadcastIn,
    BroadcastState,
)
from deskalert.sitetime import local
from deskalert.tui.base import run_on_app
from deskalert.tui.messages import HubEvent, refusal
from deskalert.tui.pane import words
from deskalert.tui.pane.screens import Prompt
from deskalert.tui.parts import Part

LOOK_STYLE = {
    "warning": "bold black on dark_orange",
    "danger": "bold white on red",
    "clear": "bold black on green",
    "info": "bold white on blue",
}


def _hhmm(moment: datetime | None) -> str:
    return local(moment).strftime("%H:%M") if moment is not None else ""  # the site's zone


def draw_broadcast(broadcast: Broadcast, offline: frozenset[str] = frozenset()) -> Text:
    """Three lines: kind, time and text; who read it and when; who has not (named once the
    delay has passed), each desk `offline` said so: it gets the message when it comes back,
    it did not leave it unread on its screen."""
    label, text, _ = broadcast.words(language() == "en")
    line = Text()
    line.append(f" {words.clean(label)} ", style=LOOK_STYLE.get(broadcast.look, "bold"))
    line.append(f" {_hhmm(broadcast.sent_at)} · {words.clean(text)}\n")
    labels = {d.id: words.clean(d.label) for d in broadcast.desks}
    read = ", ".join(f"{labels.get(r.desk, r.desk)} {_hhmm(r.at)}" for r in broadcast.reads)
    line.append(
        "  "
        + t(
            "pane.broadcast.reads",
            count=len(broadcast.reads),
            total=len(broadcast.desks),
            names=read or "-",
        )
        + "\n"
    )
    unread = ", ".join(
        t("pane.broadcast.offline", name=labels[d.id]) if d.id in offline else labels[d.id]
        for d in broadcast.unread()
    )
    if unread and broadcast.unread_named_at is not None:
        line.append(
            "  "
            + t(
                "pane.broadcast.unread_named", seconds=f"{broadcast.unread_after_s:g}", names=unread
            )
            + "\n",
            style="bold red",
        )
    elif unread:
        line.append("  " + t("pane.broadcast.unread", names=unread) + "\n", style="dim")
    return line


def ended_notice(broadcast: Broadcast) -> str:
    """ "Fin du message Confinement par Ana Sup à 10:02 : <text>": who ended it, and when."""
    label, text, _ = broadcast.words(language() == "en")
    return t(
        "pane.notify.broadcast_ended",
        label=words.clean(label),
        name=words.clean(broadcast.ended_by_name or broadcast.ended_by or "-"),
        time=_hhmm(broadcast.ended_at),
        text=words.clean(text),
    )


@dataclass
class Draft:
    """What the supervisor chose so far in the send questions."""

    template: str | None = None
    kind: str | None = None
    text: str | None = None
    sites: list[str] = field(default_factory=list)


class BroadcastPanel(Part):
    """Current broadcasts and their read receipts, kept from the hub (module docstring)."""

    DEFAULT_CSS = (
        "BroadcastPanel { height: auto; max-height: 12; border: round $warning; padding: 0 1; }"
    )
    current: reactive[tuple[Broadcast, ...]] = reactive(tuple, layout=True)
    offline: reactive[frozenset[str]] = reactive(frozenset, layout=True)  # desk ids, from the app

    def __init__(self, client: HubClient, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.client = client
        self.kept: dict[uuid.UUID, Broadcast] = {}
        self._loading: list[list[Broadcast]] = []  # the events during each load under way
        self.catalog: BroadcastCatalog | None = None
        self.sites: dict[str, str] = {}

    def shown(self) -> bool:
        return bool(self.current)

    def watch_current(self) -> None:
        self._changed()

    def watch_offline(self) -> None:
        self._changed()

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = t("pane.broadcasts_title")

    def draw(self) -> Text:
        text = Text()
        for broadcast in reversed(self.current):  # newest first: a compact pane cuts the end
            text.append_text(draw_broadcast(broadcast, self.offline))
        text.rstrip()
        return text

    # -- following the hub ------------------------------------------------------------------

    def load(self) -> None:
        """After each snapshot: the current broadcasts, and the roster's kinds and templates."""
        run_on_app(self, self._load(), group="broadcasts", exclusive=True)

    async def _load(self) -> None:
        """The list read replaces what was kept, then the events that came while it was read
        are applied again: the list may be older than they are (a broadcast sent, read or
        ended meanwhile is not lost nor brought back)."""
        arrived: list[Broadcast] = []
        self._loading.append(arrived)
        try:
            current, self.catalog = (
                await self.client.broadcasts(),
                await self.client.broadcast_catalog(),
            )
        except DeskAlertError:
            return  # the link badge says it; the next snapshot tries again
        finally:
            self._loading.remove(arrived)
        self.kept = {b.id: b for b in current}
        for broadcast in arrived:
            _take(self.kept, broadcast)
        self._publish()

    @on(HubEvent)
    def _hub_event(self, message: HubEvent) -> None:
        message.stop()
        if not isinstance(message.event, BroadcastEvent):
            return
        broadcast = message.event.data
        for arrived in self._loading:
            arrived.append(broadcast)
        before = _take(self.kept, broadcast)
        if broadcast.state is BroadcastState.ENDED and before is not None:
            self.notify(ended_notice(broadcast), markup=False)
        self._publish()

    def _publish(self) -> None:
        if self.is_running:
            self.current = tuple(sorted(self.kept.values(), key=lambda b: b.sent_at))

    # -- sending and ending ------------------------------------------------------------------

    def compose_message(self) -> None:
        """ "m": a template's number or a text; a text then asks for its kind; then the sites."""
        if self.catalog is None:
            self.notify(t("pane.notify.broadcast_not_loaded"), severity="warning")
            return
        english = language() == "en"
        kinds = {
            k.id: k.label_en if english and k.label_en else k.label for k in self.catalog.kinds
        }
        texts = [
            tpl.text_en if english and tpl.text_en else tpl.text for tpl in self.catalog.templates
        ]
        templates = "\n".join(  # with its kind: what desks show as its title, and its colour
            f"{i}. {kinds.get(tpl.kind, tpl.kind)} · {text}"
            for i, (tpl, text) in enumerate(zip(self.catalog.templates, texts, strict=True), 1)
        )
        self.app.push_screen(
            Prompt(t("prompt.broadcast_text", templates=templates), t("prompt.hint")),
            self._text_chosen,
        )

    def _text_chosen(self, answer: str | None) -> None:
        if not answer or self.catalog is None:
            return
        templates = self.catalog.templates
        if answer.isdigit() and 1 <= int(answer) <= len(templates):
            self._ask_sites(Draft(template=templates[int(answer) - 1].id))
            return
        english = language() == "en"
        kinds = "\n".join(
            f"{i}. {k.label_en if english and k.label_en else k.label}"
            for i, k in enumerate(self.catalog.kinds, 1)
        )
        count = len(self.catalog.kinds)
        self.app.push_screen(
            Prompt(
                t("prompt.broadcast_kind", kinds=kinds),
                t("prompt.hint"),
                check=lambda v: (
                    None
                    if v.strip().isdigit() and 1 <= int(v) <= count
                    else t("prompt.broadcast_number", count=count)
                ),
            ),
            lambda kind: self._kind_chosen(answer, kind),
        )

    def _kind_chosen(self, text: str, kind: str | None) -> None:
        if kind and self.catalog is not None:
            self._ask_sites(Draft(kind=self.catalog.kinds[int(kind) - 1].id, text=text))

    def _ask_sites(self, draft: Draft) -> None:
        known = list(self.sites)
        self.app.push_screen(
            Prompt(
                t("prompt.broadcast_sites", sites=", ".join(known)),
                t("prompt.hint"),
                check=lambda v: _unknown_sites(v, known),
            ),
            lambda sites: self._send(draft, sites),
        )

    def _send(self, draft: Draft, sites: str | None) -> None:
        if sites is None:
            return
        draft.sites = _split(sites) or list(self.sites)
        body = BroadcastIn(
            id=uuid.uuid4(),
            template=draft.template,
            kind=draft.kind,
            text=draft.text,
            sites=draft.sites,
        )
        run_on_app(self, self._request(body), group="broadcast-send")

    def end(self) -> None:
        """ "t": end one of the current broadcasts (its number, if there are several)."""
        current = list(self.current)
        if not current:
            self.notify(t("pane.notify.broadcast_none"))
            return
        listing = "\n".join(
            f"{i}. {b.label} · {words.clean(b.text)}" for i, b in enumerate(current, 1)
        )
        self.app.push_screen(
            Prompt(
                t("prompt.broadcast_end", current=listing),
                t("prompt.hint"),
                check=lambda v: (
                    None
                    if v.strip().isdigit() and 1 <= int(v) <= len(current)
                    else t("prompt.broadcast_number", count=len(current))
                ),
            ),
            lambda n: self._end_chosen(current, n),
        )

    def _end_chosen(self, current: list[Broadcast], number: str | None) -> None:
        if number:
            run_on_app(self, self._request(current[int(number) - 1].id), group="broadcast-end")

    async def _request(self, what: BroadcastIn | uuid.UUID) -> None:
        try:
            if isinstance(what, BroadcastIn):
                sent = await self.client.send_broadcast(what)
                self.notify(t("pane.notify.broadcast_sent", count=len(sent.desks)))
            else:
                await self.client.end_broadcast(what)
        except DeskAlertError as exc:
            if (change := refusal(exc)) is not None:
                self.post_message(change)
            self.notify(
                t("pane.notify.broadcast_failed", reason=words.clean(str(exc))),
                severity="error",
                timeout=10,
                markup=False,
            )


def act_on_broadcasts(app: Any, what: str) -> None:
    """The pane's action for "m" (`send`: a new broadcast) and "t" (`end`: end one)."""
    panel = app.query_one(BroadcastPanel)
    if what == "send":
        panel.compose_message()
    else:
        panel.end()


def _take(kept: dict[uuid.UUID, Broadcast], broadcast: Broadcast) -> Broadcast | None:
    """A broadcast's new state into `kept` (an ended one leaves it); the state it replaced."""
    before = kept.pop(broadcast.id, None)
    if broadcast.state is BroadcastState.CURRENT:
        kept[broadcast.id] = _newer(before, broadcast)
    return before


def _newer(before: Broadcast | None, after: Broadcast) -> Broadcast:
    """The later of two states of one broadcast (events of several sites may cross a load)."""
    return after if before is None or after.updated_at >= before.updated_at else before


def _split(value: str) -> list[str]:
    return [s.strip() for s in value.split(",") if s.strip()]


def _unknown_sites(value: str, known: list[str]) -> str | None:
    unknown = [s for s in _split(value) if s not in known]
    return t("prompt.broadcast_sites_unknown", sites=", ".join(known)) if unknown else None
