"""The desk's parts: each widget owns the state it shows, as reactive attributes.

The app sets them (`card.oncall = ...`); a widget redraws when, and only when, one of its values
changes (Textual compares old and new), and shows or hides itself. Values are immutable or
copies (`dataclasses.replace` of an `OwnAlert`), so the comparison sees every change.
Drawing is done by the pure functions of `words`.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive

from deskalert.i18n import t, tn
from deskalert.models import Alert, AlertCode, DeskPresence, OnCall, Person, SiteAvailability
from deskalert.text import strip_control, unbroken
from deskalert.tui.desk import words
from deskalert.tui.desk.state import OwnAlert
from deskalert.tui.link import LinkState
from deskalert.tui.parts import Part


class DeskName(Part):
    desk_id: reactive[str] = reactive("", layout=True)
    desk: reactive[DeskPresence | None] = reactive(None, layout=True)

    def draw(self) -> Text:
        return words.desk_name(self.desk_id, self.desk)


class StatusCorner(Part):
    """The discreet sign of the agent's own alert, top right."""

    own: reactive[OwnAlert | None] = reactive(None, layout=True)
    oncall: reactive[OnCall | None] = reactive(None)

    def draw(self) -> Text:
        return words.corner(self.own, self.oncall)


class LinkAdvice(Part):
    """While the link is down: why, in the person's words, and whom to call; red, and shown
    even under the unsent warning, for a refusal (a token, the site's networks)."""

    link: reactive[LinkState] = reactive(LinkState, layout=True)
    target: reactive[Person | None] = reactive(None, layout=True)
    hidden: reactive[bool] = reactive(False)  # the unmissable warning already says it

    def draw(self) -> Text:
        return words.link_advice(self.link, self.target)

    def shown(self) -> bool:
        return self.link.kind.is_down and (self.link.kind.is_refusal or not self.hidden)

    def watch_link(self, link: LinkState) -> None:
        self.set_class(link.kind.is_refusal, "-refused")
        self._changed()

    def watch_hidden(self) -> None:
        self._changed()


class UnsentWarning(Part):
    """The warning that cannot be missed: an alert not on the hub 2 s after the key, or refused."""

    unsent: reactive[tuple[OwnAlert, ...]] = reactive((), layout=True)
    codes: reactive[tuple[AlertCode, ...]] = reactive(())
    link: reactive[LinkState] = reactive(LinkState)
    target: reactive[Person | None] = reactive(None)

    def draw(self) -> Text:
        return words.warning(self.unsent, self.codes, self.link, self.target)

    def shown(self) -> bool:
        return bool(self.unsent)

    def watch_unsent(self) -> None:
        self._changed()


class Banner(Part):
    """One line that is there or not (drill, note offer): its text, empty when hidden."""

    message: reactive[str] = reactive("", layout=True)

    def draw(self) -> Text:
        return Text(self.message)

    def shown(self) -> bool:
        return bool(self.message)

    def watch_message(self) -> None:
        self._changed()


class OnCallCard(Part):
    """Whom to call: the on-call supervisor, the chain, marked as last known while not live."""

    oncall: reactive[OnCall | None] = reactive(None, layout=True)
    saved_at: reactive[datetime | None] = reactive(None)
    live: reactive[bool] = reactive(False, layout=True)
    compact: reactive[bool] = reactive(False, layout=True)  # the app's (HubApp.compact)

    def draw(self) -> Text:
        return words.oncall_card(self.oncall, self.saved_at, self.live, compact=self.compact)

    def watch_live(self, live: bool) -> None:
        self.set_class(not live, "-stale")


class WhoCanCome(Part):
    """Next to the on-call card: how many colleagues are online and whether a supervisor can
    answer; when nobody can come, a plain warning and the number to call. Shown only while
    the link is up (the numbers are the hub's, live; the link's advice says whom to call)."""

    numbers: reactive[SiteAvailability | None] = reactive(None, layout=True)
    target: reactive[Person | None] = reactive(None, layout=True)
    live: reactive[bool] = reactive(False)

    def draw(self) -> Text:
        return who_can_come(self.numbers, self.target) if self.numbers else Text("")

    def shown(self) -> bool:
        return self.live and self.numbers is not None

    def watch_numbers(self, numbers: SiteAvailability | None) -> None:
        self.set_class(numbers is not None and nobody_can_come(numbers), "-alone")
        self._changed()

    def watch_live(self) -> None:
        self._changed()


def colleagues_online(numbers: SiteAvailability) -> int:
    """Desks online but this one (counted by the hub while its stream is open)."""
    return max(0, numbers.desks_online - 1)


def nobody_can_come(numbers: SiteAvailability) -> bool:
    """No colleague online and no supervisor at a pane or page: nobody would see an alert
    come in; only a phone (the on-call supervisor's) would ring."""
    return colleagues_online(numbers) == 0 and not any(p.connected for p in numbers.supervisors)


def who_can_come(numbers: SiteAvailability, target: Person | None) -> Text:
    """ "2 collègues en ligne · encadrant joignable", or the warning with the number to call
    (the on-call card's: `target`)."""
    if nobody_can_come(numbers):
        if target is not None and target.phone:
            lines = (
                t("avail.alone"),
                t(
                    "avail.alone_call",
                    name=strip_control(target.name),
                    phone=unbroken(target.phone),
                ),
            )
        else:
            lines = (t("avail.alone_nobody"), t("avail.alone_no_number"))
        return Text(f"⚠ {lines[0]}\n{lines[1]}", style="bold")
    count = colleagues_online(numbers)
    colleagues = tn("avail.colleagues", count) if count else t("avail.no_colleague")
    supervisor = t("avail.supervisor") if numbers.supervisors else t("avail.no_supervisor")
    return Text(f"{colleagues} · {supervisor}")


class StatusPanel(Part):
    """The agent's own alert, step and protocol, for a code that is not discreet."""

    own: reactive[OwnAlert | None] = reactive(None, layout=True)
    code: reactive[AlertCode | None] = reactive(None, layout=True)
    oncall: reactive[OnCall | None] = reactive(None)
    compact: reactive[bool] = reactive(False, layout=True)

    def draw(self) -> Text:
        if self.own is None:
            return Text("")
        return words.status_panel(self.own, self.code, self.oncall, compact=self.compact)

    def shown(self) -> bool:
        return self.own is not None and self.code is not None and not self.code.discreet

    def watch_own(self) -> None:
        self._changed()

    def watch_code(self) -> None:
        self._changed()


class ColleagueBanner(Part):
    """Colleagues' open alerts on this site, with the key to answer "j'arrive"."""

    alerts: reactive[tuple[Alert, ...]] = reactive((), layout=True)
    codes: reactive[tuple[AlertCode, ...]] = reactive(())
    answered: reactive[frozenset[UUID]] = reactive(frozenset())
    respond_key: reactive[str] = reactive("")
    elapsed: reactive[tuple[int, ...]] = reactive(())  # words.elapsed_step, one per alert
    compact: reactive[bool] = reactive(False, layout=True)
    now: datetime | None = None

    def draw(self) -> Text:
        next_id = next((a.id for a in self.alerts if a.id not in self.answered), None)
        return words.colleagues(
            self.alerts,
            self.codes,
            self.answered,
            next_id,
            self.now or datetime.now().astimezone(),
            self.respond_key,
            compact=self.compact,
        )

    def shown(self) -> bool:
        return bool(self.alerts)

    def tick(self, now: datetime) -> None:
        """Elapsed times move: a redraw only when one of them says a new time (10 s steps
        under a minute, then minutes: `words.since`)."""
        self.now = now
        self.elapsed = tuple(words.elapsed_step(now - a.received_at) for a in self.alerts)

    def watch_alerts(self) -> None:
        # How many: in a small window the others are below, out of view until scrolled.
        count = len(self.alerts)
        self.border_title = tn("colleagues.title_n", count) if count > 1 else t("colleagues.title")
        self._changed()


class Repertoire(Part):
    """The team's codes with their keys."""

    codes: reactive[tuple[tuple[AlertCode, str], ...]] = reactive((), layout=True)
    known: reactive[bool] = reactive(False, layout=True)
    compact: reactive[bool] = reactive(False, layout=True)

    _width = 0  # the width the layout gives (content_region lags behind it while laid out)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._width = width
        return super().get_content_height(container, viewport, width)

    def on_resize(self) -> None:
        if self._width != self.content_region.width:
            self.refresh(layout=True)

    def draw(self) -> Text:
        width = self._width or self.content_region.width
        return words.repertoire(self.codes, self.known, compact=self.compact, width=width)


__all__ = [
    "Banner",
    "ColleagueBanner",
    "DeskName",
    "LinkAdvice",
    "OnCallCard",
    "Part",
    "Repertoire",
    "StatusCorner",
    "StatusPanel",
    "UnsentWarning",
    "WhoCanCome",
]
