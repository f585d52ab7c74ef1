"""How the pane's data reads: pure functions from alerts, desks and on-call cards to Rich text.

Every word comes from the catalogue; every name or free text that came from the hub or a desk goes
through `clean` (control characters and escape sequences stripped, `deskalert.text`) and is
appended as plain text, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

from deskalert.i18n import t, tn
from deskalert.keypress import KeyPress, key_press, span
from deskalert.labels import FAMILIES, label
from deskalert.models import (
    Alert,
    AlertCode,
    Check,
    DeskPresence,
    Event,
    EventType,
    InterviewSession,
    NotifyOutcome,
    OnCall,
    PrincipalKind,
    RefusedDesk,
    RefusedToken,
    SiteAvailability,
)
from deskalert.sitetime import local
from deskalert.text import KEEP, strip_control, unbroken


def clean(text: str | None, *, lines: bool = False) -> str:
    """Hub or desk text made safe to draw; `lines` keeps line breaks (a protocol)."""
    return strip_control(text or "", keep_newlines=lines)


def clock_time(moment: datetime) -> str:
    return local(moment).strftime("%H:%M:%S")


def minutes_seconds(value: timedelta) -> str:
    seconds = max(0, int(value.total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


def who(supervisor_id: str, names: Mapping[str, str]) -> str:
    return (
        t("everyone.short")
        if supervisor_id == "everyone"
        else clean(names.get(supervisor_id, supervisor_id))
    )


# -- the alerts table ---------------------------------------------------------------------------


@dataclass
class Fit:
    """A cell said in several forms, widest first, line by line: each line is drawn in its first
    form that fits the column (a responder with the time, then without, then "Martine D."; "●
    NOUVELLE", then "●"); the first `joint` forms are chosen for all lines at once (the times:
    on every line or on none). A line still too wide is cut with "…" at the column's edge rather
    than wrapped onto a third line the 2-line row does not have, and its last `keep` characters
    ("+2") are never cut."""

    lines: tuple[tuple[Text, ...], ...]
    keep: tuple[int, ...] = ()
    joint: int = 0

    @classmethod
    def of(cls, *forms: Text, keep: tuple[int, ...] = (), joint: int = 0) -> Fit:
        """A cell from whole forms (each a Text of one or more lines), widest first."""
        split = [form.split("\n") for form in forms]
        count = max(len(lines) for lines in split)
        return cls(
            tuple(tuple(lines[n] for lines in split if n < len(lines)) for n in range(count)),
            keep,
            joint,
        )

    def __str__(self) -> str:
        return "\n".join(forms[0].plain for forms in self.lines)

    def form(self, width: int) -> Text:
        """The cell as drawn in `width` cells."""
        first = [
            next(
                (i for i, line in enumerate(forms) if cell_len(line.plain) <= width), len(forms) - 1
            )
            for forms in self.lines
        ]
        joint = max(min(index, self.joint) for index in first)
        drawn = [
            fitted(
                forms[min(max(joint, index), len(forms) - 1)],
                width,
                self.keep[n] if n < len(self.keep) else 0,
            )
            for n, (forms, index) in enumerate(zip(self.lines, first, strict=True))
        ]
        return cut(Text("\n").join(drawn))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.form(options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(
            max(cell_len(forms[-1].plain) for forms in self.lines),
            max(cell_len(forms[0].plain) for forms in self.lines),
        )


def fitted(line: Text, width: int, keep: int) -> Text:
    """A line cut to `width` with "…", its last `keep` characters kept whole."""
    if keep <= 0 or cell_len(line.plain) <= width:
        return line.copy()
    head, tail = line[: len(line) - keep], line[len(line) - keep :]
    head.truncate(max(1, width - cell_len(tail.plain)), overflow="ellipsis")
    return head + tail


Cell = Text | Fit


def cut(text: Text) -> Text:
    """Each line kept to its column's width with "…" at the end, never wrapped."""
    text.no_wrap, text.overflow = True, "ellipsis"
    return text


def widest(cell: Cell) -> int:
    """The cell's widest line in its full form: what its column would need to say it whole."""
    return max(cell_len(line) for line in str(cell).split("\n"))


def short_name(name: str, others: Iterable[str]) -> str:
    """A person's name in fewer cells that cannot read as anyone else the pane knows: the first
    word whole and the start of the rest ("Martine D.", "Martine Dup." beside a Martine Durand),
    or the name whole when nothing shorter is unique.

    Not "M. Durand": in French "M." reads as "Monsieur". A name is never cut mid-word with "…"
    either, since "Martin…" for Martine Durand reads as Jérôme Martin.
    """
    first, _, rest = name.partition(" ")
    if not rest or not rest[0].isalpha():
        return name
    others = [other for other in others if other != name]
    for end in range(1, len(rest)):
        short = f"{first} {rest[:end]}."
        if not any(other.startswith(short[:-1]) for other in others):
            return short
    return name


def column_title(key: str, width: int) -> Text:
    """The column's title, or its short form ("Poste" for "Poste, lieu") when it does not fit."""
    if key == "mark":
        return Text("")
    title = label("col", key)
    if cell_len(title) > width and key in FAMILIES["col.short"]:
        title = label("col.short", key)
    return cut(Text(title))


def elapsed_cell(alert: Alert, now: datetime) -> Cell:
    """Time since the key press (or the reception when the desk's clock is doubtful), and below
    it how late the hub heard of it: the only cell the 1 s tick changes."""
    press = key_press(alert)
    text = Text(minutes_seconds((alert.closed_at or now) - press.start))
    if press.doubt is not None:
        short = text.copy().append("\n" + t("row.clock_doubt.short"), style="bold yellow")
        return Fit.of(text.append("\n" + t("row.clock_doubt"), style="bold yellow"), short)
    if not press.delayed:
        return cut(text)
    delay = minutes_seconds(press.waited)
    short = text.copy().append(f"\n+{delay}", style="bold yellow")
    return Fit.of(text.append("\n" + t("row.waited", delay=delay), style="bold yellow"), short)


def alert_cells(alert: Alert, names: Mapping[str, str]) -> dict[str, Cell]:
    """The row's cells but the mark and the elapsed time, by column key."""
    desk = Text(clean(alert.desk_label), style="bold")
    desk.append("\n" + clean(alert.location), style="dim")
    code = Text(clean(alert.code_label))
    if alert.test:
        code.append("\n" + t("drill.word"), style="bold magenta")
    return {
        "desk": cut(desk),
        "code": cut(code),
        "state": state_cell(alert, names),
        "responders": responders_cell(alert, names),
    }


def state_cell(alert: Alert, names: Mapping[str, str]) -> Cell:
    """The state, and below it the escalation: "niv. 1 → Martine Durand" when there is room,
    else "niv. 1 → Martine D.", "⇧1 → Martine D.", and "⇧1 → …" rather than a cut name."""
    state = Text(label("state", alert.state))
    level = alert.escalation_level
    if level == 0:
        return cut(state.append("\n" + t("level.none"), style="dim"))
    target = alert.escalated_to or ""
    name = who(target, names)
    short = name if target == "everyone" else short_name(name, map(clean, names.values()))
    lines = [
        t("level.to", level=level, who=name),
        t("level.to", level=level, who=short),
        t("level.to.short", level=level, who=short),
        t("level.to.short", level=level, who="…"),
    ]
    return Fit(
        (
            tuple(state.split("\n")),
            tuple(Text(line, style="bold yellow") for line in dict.fromkeys(lines)),
        )
    )


def responders_cell(alert: Alert, names: Mapping[str, str] | None = None) -> Cell:
    """Who answered "j'arrive", one a line, with the time when there is room for it, then
    without, then supervisors' names short ("Martine D."); past two, the second line counts the
    others ("+2"), and that count is never cut."""
    if not alert.responders:
        return cut(Text("—"))
    known = [clean(name) for name in (names or {}).values()] + [
        clean(r.name) for r in alert.responders
    ]
    full = [clean(r.name) for r in alert.responders]
    short = [
        short_name(name, known) if r.kind is PrincipalKind.SUPERVISOR else name
        for name, r in zip(full, alert.responders, strict=True)
    ]
    timed = [f"{name} {clock_time(r.at)}" for name, r in zip(full, alert.responders, strict=True)]
    more = f" +{len(alert.responders) - 2}" if len(alert.responders) > 2 else ""
    return Fit.of(
        *(Text(two_lines(lines)) for lines in (timed, full, short)), keep=(0, len(more)), joint=1
    )


def two_lines(lines: list[str]) -> str:
    if len(lines) > 2:
        lines = [lines[0], f"{lines[1]} +{len(lines) - 2}"]
    return "\n".join(lines)


def mark_width() -> int:
    """The mark column's best width: its widest word in the language shown."""
    return cell_len(f"● {t('state.new')}")


def mark_cell(alert: Alert, new: bool) -> Cell:
    if new:
        style = "bold white on red"
        return Fit.of(Text(f"● {t('state.new')}", style=style), Text("●", style=style))
    if alert.escalation_level > 0 and not alert.state.is_closed:
        style, level = "bold black on yellow", alert.escalation_level
        return Fit.of(Text(f"⇧ {level}", style=style), Text(f"⇧{level}", style=style))
    return Text("")


# -- the selected alert and its history ---------------------------------------------------------


def pressed_line(alert: Alert) -> str:
    """'appuyé à 23:18:02, reçu 15 s plus tard', or what is known when the desk's clock is off."""
    press: KeyPress = key_press(alert)
    received = clock_time(alert.received_at)
    if press.pressed_at is None:
        return t("detail.received", time=received)
    pressed = clock_time(press.pressed_at)
    if press.doubt == "ahead":
        return t("pressed.ahead", time=received, gap=span(press.gap))
    if press.doubt == "behind":
        return t("pressed.behind", time=received, pressed=pressed, gap=span(press.gap))
    if press.delayed:
        return t("pressed.late", time=pressed, delay=span(press.waited))
    return t("pressed.at_once", time=pressed)


def summary(alert: Alert, code: AlertCode | None) -> Text:
    """Where, code and key press; then what the desk typed and the closing summary; then the
    code's protocol, last: the supervisor knows it, the message is news to them. A closed alert
    says so first, with when: the panel never shows a finished alert as if it were live."""
    text = Text()
    if alert.state.is_closed:
        when = clock_time(alert.closed_at) if alert.closed_at else "?"
        text.append(
            t("detail.closed", state=label("state", alert.state), time=when) + "\n",
            style="bold reverse",
        )
    text.append(clean(alert.desk_label), style="bold")
    if alert.location:
        text.append(" · " + clean(alert.location))
    text.append(" · " + clean(alert.code_label) + " · ")
    press = key_press(alert)
    text.append(pressed_line(alert), style="bold yellow" if press.delayed or press.doubt else "")
    if alert.test:
        text.append(f" · {t('drill.word')}", style="bold magenta")
    if alert.message:
        text.append("\n" + t("detail.message", text=clean(alert.message)), style="bold")
    if alert.summary:
        text.append("\n" + t("detail.summary", text=clean(alert.summary)))
    if code and code.protocol:
        text.append("\n" + clean(code.protocol, lines=True), style="italic")
    return text


def details(
    alert: Alert,
    code: AlertCode | None,
    history: list[Event],
    names: Mapping[str, str],
    desks: Mapping[str, DeskPresence],
) -> Text:
    """The alert and its whole history with times, the key press first when it came earlier."""
    text = summary(alert, code)
    text.append(f"\n\n{t('detail.history')}\n", style="bold underline")
    press = key_press(alert)
    if press.pressed_at is not None and press.start < alert.received_at:
        text.append(f"{clock_time(press.pressed_at)}  ", style="bold")
        text.append(t("detail.pressed") + "\n", style="yellow")
    for event in history:
        text.append(f"{clock_time(event.at)}  ", style="bold")
        text.append(event_line(event, names, desks) + "\n")
    text.append(f"\n{t('detail.close')}", style="dim")
    return text


def event_line(event: Event, names: Mapping[str, str], desks: Mapping[str, DeskPresence]) -> str:
    if event.type.value.startswith("notify."):
        return notify_line(event, names)
    if event.type.value not in FAMILIES["event"]:  # a newer hub's event: shown, never fatal
        return clean(event.type.value)
    alert = Alert.model_validate(event.data)
    key = FAMILIES["event"][event.type.value]
    if event.type is EventType.ALERT_RAISED:
        return t(key, desk=clean(alert.desk_label))
    if event.type is EventType.ALERT_ACKNOWLEDGED:
        return t(key, names=", ".join(clean(r.name) for r in alert.responders))
    if event.type is EventType.ALERT_ESCALATED:
        return t(key, level=alert.escalation_level, who=who(alert.escalated_to or "", names))
    closer = alert.closed_by or "?"
    name = clean(desks[closer].label) if closer in desks else who(closer, names)
    line = t(key, who=name)
    return (
        t("detail.event_summary", line=line, summary=clean(alert.summary))
        if alert.summary
        else line
    )


def notify_line(event: Event, names: Mapping[str, str]) -> str:
    """One attempt to reach a phone or a mailbox: to whom, through what, and how it went."""
    outcome = NotifyOutcome.model_validate(event.data)
    to = (
        t("notify.line.room", site=clean(outcome.to.removeprefix("site:")))
        if outcome.to.startswith("site:")
        else who(outcome.to, names)
    )
    values = {"who": to, "channel": clean(outcome.channel), "reason": clean(outcome.reason or "?")}
    if event.type is EventType.NOTIFY_FAILED and outcome.retry_in_s is not None:
        return t("notify.line.failed", retry=round(outcome.retry_in_s), **values)
    return t(FAMILIES["notify"][event.type.value], **values)


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
                since = t("presence.offline", time=clock_time(desk.last_seen))
                text.append(f"  ○ {name}  {since}\n", style="bold red")
    for token in refused:
        text.append(
            "\n"
            + t(
                "presence.refused",
                prefix=clean(token.token_sha256_prefix),
                address=clean(token.address),
                time=clock_time(token.last_at),
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
                time=clock_time(attempt.last_at),
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


def oncall(cards: tuple[OnCall, ...]) -> Text:
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
                "started": clock_time(session.started_at)[:5],
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
