"""How the pane's alerts read: pure functions from alerts, their history and the hub's
notification attempts to Rich text (the alerts table's cells, the selected alert's detail). The
site panels (presence, on-call, interview sessions) read in site_words.py.

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

from deskalert.i18n import language, t
from deskalert.keypress import KeyPress, key_press, span
from deskalert.labels import FAMILIES, label
from deskalert.models import (
    Alert,
    AlertCode,
    DeskPresence,
    Event,
    EventType,
    NotifyOutcome,
    PrincipalKind,
)
from deskalert.sitetime import local
from deskalert.text import strip_control


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
    code = Text(clean(alert.code_words(language() == "en")))
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
    """'appuyé à 23:18:02, reçu 15 s plus tard', or what is known when the desk's clock is off;
    for an unanswered "Tout va bien ?", that the hub raised it: nobody pressed anything."""
    press: KeyPress = key_press(alert)
    received = clock_time(alert.received_at)
    if alert.no_answer:
        return t("pressed.no_answer", time=received)
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
    text.append(" · " + clean(alert.code_words(language() == "en")) + " · ")
    press = key_press(alert)
    text.append(pressed_line(alert), style="bold yellow" if press.delayed or press.doubt else "")
    if alert.test:
        text.append(f" · {t('drill.word')}", style="bold magenta")
    if alert.message:
        text.append("\n" + t("detail.message", text=clean(alert.message)), style="bold")
    if alert.summary:
        text.append("\n" + t("detail.summary", text=clean(alert.summary)))
    if code and (protocol := code.words(language() == "en")[1]):
        text.append("\n" + clean(protocol, lines=True), style="italic")
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
