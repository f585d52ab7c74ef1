"""How the pane's site panels read: the desks' presence and who can come, the on-call, the
interview sessions and checks; pure functions to Rich text, under the same rules as the alerts'
words (words.py): every word from the catalogue, every hub or desk text through `clean`, never
parsed as markup. Times go through `words.clock_time`, the one place the pane writes a clock
time (the snapshot tests mask it there).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text

from deskalert.i18n import t, tn
from deskalert.models import (
    Check,
    DeskPresence,
    InterviewSession,
    OnCall,
    RefusedDesk,
    RefusedToken,
    SiteAvailability,
)
from deskalert.sitetime import local
from deskalert.text import KEEP, unbroken
from deskalert.tui.pane import words
from deskalert.tui.pane.words import clean, minutes_seconds

# -- desks and on-call --------------------------------------------------------------------------


def presence(
    desks: Mapping[str, DeskPresence],
    sites: Mapping[str, str],
    refused: tuple[RefusedToken, ...],
    availability: Mapping[str, SiteAvailability] | None = None,
    outside: tuple[RefusedDesk, ...] = (),
) -> Text:
    """Desks per site, online or since when not, under who can come there now; then the
    tokens the hub refused lately and the desks refused from outside their site's networks."""
    text = Text()
    for index, site in enumerate(sorted({d.site for d in desks.values()})):
        text.append(("\n" if index else "") + clean(sites.get(site, site)) + "\n", style="bold")
        if availability and (numbers := availability.get(site)) is not None:
            text.append_text(who_can_come(numbers))
        for desk in sorted((d for d in desks.values() if d.site == site), key=lambda d: d.id):
            name = clean(desk.label)
            if desk.online:
                text.append(f"  ● {name}  {t('presence.online')}\n", style="green")
            elif desk.last_seen is None:
                text.append(f"  ○ {name}  {t('presence.never')}\n", style="dim")
            else:
                since = t("presence.offline", time=words.clock_time(desk.last_seen))
                text.append(f"  ○ {name}  {since}\n", style="bold red")
    for token in refused:
        text.append(
            "\n"
            + t(
                "presence.refused",
                prefix=clean(token.token_sha256_prefix),
                address=clean(token.address),
                time=words.clock_time(token.last_at),
            ),
            style="bold red",
        )
        text.append("\n  " + tn("presence.refused_times", token.count), style="red")
        if token.known_as:
            text.append(" · " + t("presence.refused_known", who=clean(token.known_as)), style="dim")
    for attempt in outside:
        text.append(
            "\n"
            + t(
                "presence.outside",
                desk=clean(attempt.desk_label),
                address=clean(attempt.address),
                time=words.clock_time(attempt.last_at),
            ),
            style="bold red",
        )
        text.append("\n  " + tn("presence.refused_times", attempt.count), style="red")
        if attempt.alerts:
            text.append(" · " + tn("presence.outside_alerts", attempt.alerts), style="bold red")
        text.append(" · " + clean(attempt.last_request), style="dim")
    return text


def who_can_come(numbers: SiteAvailability) -> Text:
    """One line under a site's name: desks online, and who can answer (or a warning)."""
    line = Text("  " + tn("avail.pane.desks", numbers.desks_online, total=numbers.desks) + " · ")
    names = [
        clean(p.name) if p.connected else t("avail.pane.phone", name=clean(p.name))
        for p in numbers.supervisors
    ]
    if names:
        line.append(t("avail.pane.supervisors", names=", ".join(names)))
    else:
        line.append("⚠ " + t("avail.pane.nobody"), style="bold red")
    return line + "\n"


def oncall(cards: tuple[OnCall, ...], *, brief: bool = False) -> Text:
    """Who is on call at each site, with the number; unless `brief` (a compact pane: one line a
    site), the chain after them, an override's end, a calendar's event, a blank line between."""
    text = Text()
    for index, card in enumerate(sorted(cards, key=lambda c: c.site)):
        text.append(
            ("\n" if index else "") + t("pane.oncall_site", site=clean(card.site_label)),
            style="bold",
        )
        if card.supervisor is None:
            text.append(t("pane.oncall_nobody"), style="yellow")
        else:
            text.append(clean(card.supervisor.name), style="bold")
            if card.supervisor.phone:  # never broken in two (tui/parts.py)
                text.append(f" ☎{KEEP}{unbroken(card.supervisor.phone)}")
        if brief:
            continue
        if card.chain:
            chain = " → ".join(clean(p.name) for p in card.chain)
            text.append(f"  → {chain} → {t('everyone')}", style="dim")
        if card.source == "override" and card.until:
            until = local(card.until).strftime("%H:%M")
            text.append("\n  " + t("pane.oncall_override", time=until), style="italic")
        if card.source == "calendar" and card.calendar_event:
            text.append(
                "\n  " + t("pane.oncall_calendar", event=clean(card.calendar_event)), style="italic"
            )
        if card.warning:  # a calendar that could not be used: the slots answer meanwhile
            text.append(
                "\n  ⚠ " + t("pane.oncall_warning", warning=clean(card.warning)),
                style="bold yellow",
            )
        text.append("\n")
    return text


# -- interview sessions and checks --------------------------------------------------------------


def sessions(
    running: tuple[InterviewSession, ...],
    checks: tuple[Check, ...],
    sites: Mapping[str, str],
    now: datetime | None,
) -> Text:
    """Running interview sessions per site with the time left, and the checks waiting."""
    text = Text()
    for index, site in enumerate(sorted({s.site for s in running} | {c.site for c in checks})):
        text.append(("\n" if index else "") + clean(sites.get(site, site)) + "\n", style="bold")
        for session in (s for s in running if s.site == site):
            values = {
                "desk": clean(session.desk_label),
                "room": clean(session.room) or "-",
                "started": words.clock_time(session.started_at)[:5],
            }
            if now is None or session.due_at > now:
                left = minutes_seconds(session.due_at - now) if now else "?"
                text.append("  " + t("pane.session.running", left=left, **values) + "\n")
            else:
                text.append("  " + t("pane.session.checking", **values) + "\n", style="yellow")
        for check in (c for c in checks if c.site == site):
            left = minutes_seconds(check.deadline - now) if now else "?"
            text.append(
                "  " + t("pane.check.pending", desk=clean(check.desk_label), left=left) + "\n",
                style="bold yellow",
            )
    return text
