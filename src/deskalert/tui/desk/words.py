"""How the desk's parts read on screen: pure functions from plain data to Rich text.

Every word comes from the catalogue (`deskalert.i18n`); every text that came from the hub or a
desk (names, phones, places, code labels, protocols, reasons) goes through `strip_control`
(`clean`) and is appended as plain text, never parsed as markup.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.cells import cell_len
from rich.text import Text

from deskalert.client.hub_words import said_reason
from deskalert.client.outbox import outside_site_network
from deskalert.i18n import language, t
from deskalert.labels import label
from deskalert.models import Alert, AlertCode, DeskPresence, OnCall, Person
from deskalert.sitetime import local
from deskalert.text import fitting_columns, unbroken
from deskalert.text import strip_control as clean
from deskalert.tui.base import key_label
from deskalert.tui.desk.state import OwnAlert, Step
from deskalert.tui.link import LinkKind, LinkState, link_detail, link_reason

__all__ = ["clock_time", "key_label"]  # clock_time is also the pane's


def clock_time(moment: datetime) -> str:
    return local(moment).strftime("%H:%M:%S") if moment.tzinfo else moment.strftime("%H:%M:%S")


JUST_NOW_S = 10  # "à l'instant" only this long; then "il y a 10 s", "il y a 20 s"...
SECONDS_STEP = 10


def elapsed_step(elapsed: timedelta) -> int:
    """The elapsed time as the banner says it, in seconds: 0 (just now), then tens of seconds
    under a minute, then whole minutes; the banner redraws only when this changes."""
    seconds = max(0, int(elapsed.total_seconds()))
    if seconds < 60:
        return 0 if seconds < JUST_NOW_S else seconds - seconds % SECONDS_STEP
    return seconds - seconds % 60


def since(elapsed: timedelta) -> str:
    """ "à l'instant" under 10 s, "il y a 40 s" under a minute, then "depuis 3 min": never a
    rounding that says less time has passed than has."""
    step = elapsed_step(elapsed)
    if step == 0:
        return t("colleague.since_now")
    if step < 60:
        return t("colleague.since_s", seconds=step)
    return t("colleague.since_min", minutes=step // 60)


def desk_name(desk_id: str, desk: DeskPresence | None) -> Text:
    if desk is None:
        return Text(clean(desk_id), style="bold")
    text = Text(clean(desk.label), style="bold")
    if desk.location:
        text.append(f" · {clean(desk.location)}", style="dim")
    return text


def link_advice(link: LinkState, target: Person | None) -> Text:
    """The line under the top bar while the link is down: why, and whom to call meanwhile."""
    if link.kind is LinkKind.OUTSIDE_NETWORK:
        return outside_network_advice(link.detail, target)
    if link.kind is LinkKind.TOKEN_REFUSED:
        call = (
            t("token.call", name=clean(target.name), phone=unbroken(target.phone))
            if target and target.phone
            else t("token.call_anyone")
        )
        text = Text(call, style="bold")
        text.append("\n" + t("token.admin"), style="italic")
        return text
    why = link_reason(link)
    later = (
        t("link.lost_call", name=clean(target.name), phone=unbroken(target.phone))
        if target and target.phone
        else t("link.lost_nocall")
    )
    text = Text(f"{why}. {later}" if why else later)
    if detail := link_detail(link):
        text.append("\n" + detail, style="dim")
    return text


def outside_network_advice(detail: str, target: Person | None) -> Text:
    """A desk the hub refuses where it calls from: not an outage, nothing leaves until the IT
    team fixes the site's networks or the desk's address; the phone meanwhile, the hub's words."""
    call = (
        t("network.call", name=clean(target.name), phone=unbroken(target.phone))
        if target and target.phone
        else t("network.call_anyone")
    )
    text = Text(call, style="bold")
    if detail:
        text.append("\n" + t("network.detail", detail=clean(detail)))
    text.append("\n" + t("network.admin"), style="italic")
    return text


def refusal(error: str) -> str:
    """A refused alert's reason ("code: detail", the outbox's) in the agent's words, chosen by
    the hub's code (client/hub_words.py); the detail is the administrator's (`warning`)."""
    if outside_site_network(error) is not None:
        return t("refusal.outside_network")
    return said_reason(error)


def reason(error: str) -> str:
    """An outbox failure in the agent's words; the hub's own refusals as the hub worded them."""
    if "unreachable" in error:
        return t("reason.unreachable")
    if "silent" in error or "in time" in error:
        return t("reason.silent")
    if "store_unavailable" in error or "cannot write" in error:
        return t("reason.store")
    return said_reason(error)


def step_text(own: OwnAlert, oncall: OnCall | None) -> str:
    step = own.step
    if step is Step.ACKNOWLEDGED:
        assert own.alert is not None
        return t("step.acknowledged", names=", ".join(clean(r.name) for r in own.alert.responders))
    if step is Step.REFUSED:
        return t("step.refused", reason=refusal(own.error or "?"))
    if step is Step.TRANSMITTED and own.alert is not None and own.alert.escalation_level > 0:
        who = own.alert.escalated_to or ""
        person = _person_by_id(oncall, who)
        name = person.name if person else (t("everyone") if who == "everyone" else who)
        return t("step.escalated", who=clean(name))
    return label("step", step.value)


def _person_by_id(oncall: OnCall | None, person_id: str) -> Person | None:
    if oncall is None:
        return None
    people = ([oncall.supervisor] if oncall.supervisor else []) + oncall.chain
    return next((p for p in people if p.id == person_id), None)


def corner(own: OwnAlert | None, oncall: OnCall | None) -> Text:
    """The small sign in the corner: enough for the agent, nothing for the person in front."""
    if own is None:
        return Text("")
    marks = {
        Step.QUEUED: "…",
        Step.TRANSMITTED: "·",
        Step.ACKNOWLEDGED: "✓",
        Step.RESOLVED: "○",
        Step.CANCELLED: "○",
        Step.REFUSED: "!",
    }
    drill = f"{t('drill.word')} " if own.test else ""
    # refused: the word only; the reason is in the warning below (the top bar has 80 columns)
    step = t("step.refused_short") if own.step is Step.REFUSED else step_text(own, oncall)
    return Text(f"{marks[own.step]} {drill}{step}", style="dim")


def oncall_card(
    card: OnCall | None, saved_at: datetime | None, live: bool, *, compact: bool = False
) -> Text:
    """Whom to call. Compact (a small window): the name and number on one line after the card's
    title (its frame is gone); the office, the end of the duty and the chain give way."""
    if card is None:
        return Text(t("oncall.unknown"), style="italic")
    text = Text(f"{t('oncall.title_short')} " if compact else "", style="dim")
    if card.supervisor is None:
        text.append(t("oncall.none"), style="bold")
    else:
        _person(text, card.supervisor, compact=compact)
        if card.until is not None and not compact:
            until = local(card.until).strftime("%H:%M")
            text.append(f"  ({t('oncall.until', time=until)})")
    if card.chain and not compact:
        names = ", ".join(
            f"{clean(p.name)} ({unbroken(p.phone)})" if p.phone else clean(p.name)
            for p in card.chain
        )
        text.append("\n" + t("oncall.next", names=names), style="dim")
    if not live and saved_at is not None:
        saved = local(saved_at).strftime("%d/%m %H:%M")
        text.append(f"\n{t('oncall.stale', time=saved)}", style="italic yellow")
    return text


def _person(text: Text, person: Person, *, compact: bool = False) -> None:
    text.append(clean(person.name), style="bold")
    if person.phone:
        text.append(
            f" {phone(person.phone)}" if compact else f"   {phone(person.phone)}", style="bold"
        )
    if person.location and not compact:
        text.append(f"\n{clean(person.location)}")


def phone(number: str) -> str:
    """ "☎ 04 72 00 00 03", never broken across two lines (tui/parts.py, `unbroken`)."""
    return unbroken(f"☎ {number}")


def code_label(code: AlertCode | None, fallback: str) -> str:
    """The code's label in the desk's language (the French where the roster has no English)."""
    return clean(code.words(language() == "en")[0] if code else fallback)


def code_protocol(code: AlertCode | None) -> str:
    """The code's protocol in the desk's language; "" without a code or a protocol."""
    return clean(code.words(language() == "en")[1]) if code else ""


def status_panel(
    own: OwnAlert, code: AlertCode | None, oncall: OnCall | None, *, compact: bool = False
) -> Text:
    """The own alert's code and step, then its protocol (which gives way when compact)."""
    text = Text(t("status.title", label=code_label(code, own.code)), style="bold")
    if own.test:
        text.append(f"  [{t('drill.word')}]", style="bold magenta")
    text.append(
        f"\n{step_text(own, oncall)}", style="bold green" if own.step is Step.ACKNOWLEDGED else ""
    )
    if (protocol := code_protocol(code)) and not compact:
        text.append(f"\n{protocol}", style="dim")
    return text


def warning(
    unsent: tuple[OwnAlert, ...],
    codes: tuple[AlertCode, ...],
    link: LinkState,
    target: Person | None,
) -> Text:
    """The warning that cannot be missed: which alert did not reach the hub, why, whom to call."""
    refused = any(o.step is Step.REFUSED for o in unsent)
    title = t("warning.refused_title" if refused else "warning.title")
    text = Text(f"⚠  {title}  ⚠", style="bold")
    for own in unsent:
        name = code_label(next((c for c in codes if c.code == own.code), None), own.code)
        if own.test:
            name = f"{name} [{t('drill.word')}]"
        if own.step is Step.REFUSED:
            text.append("\n" + t("warning.refused", label=name, reason=refusal(own.error or "?")))
            if outside_site_network(own.error) is None:  # else the link's advice says it
                text.append(
                    "\n" + t("hubsays.details", detail=clean(own.error or "?")), style="dim"
                )
        else:
            why = link_reason(link) if link.kind.is_down else reason(own.error or "unreachable")
            text.append("\n" + t("warning.retrying", label=name, reason=why))
    call = (
        t("warning.call", name=clean(target.name), phone=unbroken(target.phone))
        if target and target.phone
        else t("warning.call_anyone")
    )
    text.append(f"\n{call}", style="bold")
    return text


def colleagues(
    alerts: tuple[Alert, ...],
    codes: tuple[AlertCode, ...],
    answered: frozenset[object],
    next_id: object,
    now: datetime,
    respond_key: str,
    *,
    compact: bool = False,
) -> Text:
    """Each colleague's alert; compact, without the blank line between them and the protocol."""
    text = Text()
    for index, alert in enumerate(alerts):
        if index:
            text.append("\n" if compact else "\n\n")
        code = next((c for c in codes if c.code == alert.code), None)
        _colleague(text, alert, None if compact else code, now)
        if alert.id in answered:
            text.append(f"  · {t('colleague.answered')}", style="green")
        elif alert.id == next_id:
            text.append(f"  · {t('colleague.answer', key=key_label(respond_key))}", style="bold")
    return text


def _colleague(text: Text, alert: Alert, code: AlertCode | None, now: datetime) -> None:
    text.append(
        t(
            "colleague.title",
            desk=clean(alert.desk_label),
            label=clean(alert.code_words(language() == "en")),
        ),
        style="bold",
    )
    if alert.test:
        text.append(f"  [{t('drill.word')}]", style="bold magenta")
    text.append(f"  {since(now - alert.received_at)}", style="dim")
    if alert.location:
        text.append(f"\n{clean(alert.location)}")
    if alert.message:
        text.append("\n" + t("colleague.message", text=clean(alert.message)), style="italic")
    if protocol := code_protocol(code):
        text.append(f"\n{protocol}", style="italic")
    names = ", ".join(clean(r.name) for r in alert.responders)
    text.append("\n" + (t("colleague.responders", names=names) if names else t("colleague.nobody")))


def repertoire(
    codes: tuple[tuple[AlertCode, str], ...], known: bool, *, compact: bool = False, width: int = 0
) -> Text:
    """The codes with their keys, one a line; compact, in columns (`packed`)."""
    if compact:
        return packed(codes, known, width)
    text = Text()
    for index, (code, keys) in enumerate(codes):
        if index:
            text.append("\n")
        text.append(f"{key_label(keys):<14}", style="bold")
        text.append(code_label(code, code.code))
        if code.discreet:
            text.append(f"  ({t('codes.discreet')})", style="dim")
    if not known:
        text.append(f"\n{t('codes.stale')}", style="italic yellow")
    return text


def code_columns(sizes: list[int], width: int) -> tuple[list[int], int]:
    """The columns' widths and the cells between them: every entry whole with two cells
    between columns, else one; else columns of equal width (at most 26) that cut."""
    for gap in (2, 1):
        cells = fitting_columns(sizes, width, gap=gap) if width else []
        if cells:
            return cells, gap
    widest = min(max(sizes, default=1), 26)
    columns = max(1, min(len(sizes), (width + 2) // (widest + 2))) if width else 1
    return [(width + 2) // columns - 2 if width else max(sizes, default=1)] * columns, 2


def packed(codes: tuple[tuple[AlertCode, str], ...], known: bool, width: int) -> Text:
    """The codes in as many columns as `width` holds, each "F2/ctrl+r Renfort" whole (two
    columns at 60 cells for the demo's codes; two cells between columns, or one if that is what
    it takes); when they cannot all be whole in two columns or more, columns of equal width
    with a long label cut with "…". "(discrète)" gives way."""
    entries = [(key_label(keys, "/"), code_label(code, code.code)) for code, keys in codes]
    sizes = [cell_len(f"{k} {name}") for k, name in entries]
    cells, gap = code_columns(sizes, width)
    text = Text()
    for index, (keys, name) in enumerate(entries):
        column = index % len(cells)
        text.append("\n" if index and column == 0 else " " * gap if index else "")
        entry = Text(keys + " ", style="bold").append(name)
        entry.truncate(cells[column], overflow="ellipsis", pad=column < len(cells) - 1)
        text.append_text(entry)
    if not known:
        text.append(f"\n{t('codes.stale')}", style="italic yellow")
    return text
