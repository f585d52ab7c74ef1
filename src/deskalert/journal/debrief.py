"""Incidents for the debrief: one record per alert with its notes, exported and counted.

The same functions serve the desk (its journal: `Journal.incidents`) and the supervisor (the hub's
alerts and shared notes: `deskalert.client.incidents.hub_incidents`); nothing here touches the
network or the screen. `Incident` is the shared model (deskalert.models).
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from deskalert import sitetime
from deskalert.errors import ConfigError
from deskalert.i18n import N_, Language, t, tn
from deskalert.journal.broadcast_export import (
    broadcasts_csv,
    broadcasts_figures,
    broadcasts_json,
    broadcasts_markdown,
    for_desk,
)
from deskalert.journal.days import day, week
from deskalert.journal.models import Incident
from deskalert.labels import label
from deskalert.models import Broadcast, Event, EventType, SessionFigures

UNKNOWN_TYPE = "unknown"  # Incident.type without a note


@dataclass(frozen=True)
class Period:
    """The days a debrief covers: `since` included, `until` excluded (None: no bound).

    Incidents are placed in time by the key press (`Incident.pressed_at`).
    """

    since: datetime | None = None
    until: datetime | None = None

    @staticmethod
    def of_days(first: date | None, last: date | None) -> Period:
        """From --since/--until days (local time, both included)."""
        since = datetime.combine(first, time()).astimezone() if first else None
        until = datetime.combine(last + timedelta(days=1), time()).astimezone() if last else None
        if since and until and until <= since:
            raise ConfigError(t("period.until_before_since"))
        return Period(since, until)

    def select(self, incidents: list[Incident]) -> list[Incident]:
        """The incidents of the period, oldest first."""
        return in_period(incidents, self.since, self.until)

    def describe(self, incidents: list[Incident]) -> str:
        """The period in words; without bounds, the first and last days actually covered."""
        if self.since and self.until:
            return t("period.between", since=day(self.since), until=_last_day(self.until))
        if self.since:
            return t("period.since", since=day(self.since))
        if self.until:
            return t("period.until", until=_last_day(self.until))
        if not incidents:
            return t("period.all_none")
        moments = [i.pressed_at for i in incidents]
        return t("period.all", first=day(min(moments)), last=day(max(moments)))


def in_period(
    incidents: list[Incident], since: datetime | None, until: datetime | None
) -> list[Incident]:
    return sorted(
        (
            i
            for i in incidents
            if (since is None or i.pressed_at >= since) and (until is None or i.pressed_at < until)
        ),
        key=lambda i: i.pressed_at,
    )


def duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


# -- exports ---------------------------------------------------------------------------------


FORMATS = ("md", "csv", "json")


def export_text(
    incidents: list[Incident],
    fmt: str,
    lang: Language,
    period: Period,
    broadcasts: Sequence[Broadcast] = (),
    desk_id: str | None = None,
    *,
    broadcasts_only: bool = False,
) -> str:
    """The incidents of `period` as Markdown, CSV or JSON. Markdown, the debrief document, goes
    on with the supervisors' messages of the period (`broadcasts`: a desk's, from its journal,
    about `desk_id` alone; a supervisor's, from the hub); CSV and JSON hold one kind of record,
    the incidents or, `broadcasts_only`, the messages."""
    messages = for_desk(broadcasts, desk_id)
    if broadcasts_only:
        if fmt == "json":
            return broadcasts_json(messages)
        if fmt == "csv":
            return broadcasts_csv(messages, lang)
        text = broadcasts_markdown(messages, lang).lstrip("\n")
        return text or f"# {t('md.broadcasts')}\n\n{tn('md.broadcast_count', 0)}\n"
    if fmt == "json":
        return to_json(incidents)
    if fmt == "csv":
        return to_csv(incidents)
    return to_markdown(incidents, lang, period.since, period.until) + broadcasts_markdown(
        messages, lang
    )


def to_json(incidents: list[Incident]) -> str:
    return json.dumps(
        [
            {
                "alert": i.alert.model_dump(mode="json"),
                "notes": [n.model_dump(mode="json") for n in i.notes],
            }
            for i in incidents
        ],
        ensure_ascii=False,
        indent=2,
    )


CSV_COLUMNS = [
    "id",
    "created_at",
    "received_at",
    "desk",
    "site",
    "code",
    "drill",
    "state",
    "first_response_s",
    "resolve_s",
    "responders",
    "type",
    "separate_office",
    "levers",
    "support",
    "reports",
    "follow_up",
    "what_happened",
]


def to_csv(incidents: list[Incident]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for incident in incidents:
        alert, note = incident.alert, incident.notes[0] if incident.notes else None
        seconds = [
            int(d.total_seconds()) if d is not None else ""
            for d in (incident.first_response, incident.time_to_resolve)
        ]
        writer.writerow(
            [
                alert.id,
                incident.pressed_at.isoformat(),
                alert.received_at.isoformat(),
                alert.desk,
                alert.site,
                alert.code,
                int(alert.test),
                alert.state.value,
                *seconds,
                "; ".join(r.name for r in alert.responders),
                incident.type,
                int(note.separate_office) if note else "",
                "; ".join(v.value for v in note.levers) if note else "",
                "; ".join(v.value for v in note.support) if note else "",
                "; ".join(v.value for v in note.reports) if note else "",
                int(note.follow_up) if note else "",
                note.what_happened if note else "",
            ]
        )
    return out.getvalue()


def to_markdown(
    incidents: list[Incident], lang: Language, since: datetime | None, until: datetime | None
) -> str:
    period = t("md.period", period=Period(since, until).describe(incidents))
    lines = [f"# {t('md.title')}", "", period, "", tn("md.count", len(incidents)), ""]
    for incident in incidents:
        lines += _incident_markdown(incident, lang)
    return "\n".join(lines) + "\n"


def _incident_markdown(incident: Incident, lang: Language) -> list[str]:
    alert = incident.alert
    local = incident.pressed_at.astimezone()
    drill = f" — {t('drill.word')}" if alert.test else ""
    title = f"{alert.desk_label} — {alert.code_words(lang == 'en')}{drill}"
    lines = [f"## {day(local)} {local:%H:%M} — {title}", ""]
    lines += [_field(t("md.where"), alert.location or "—", lang)]
    lines += ["", f"**{t('md.timeline')}**", ""]
    lines += [f"- {row}" for row in timeline(incident, lang)]
    for note in incident.notes:
        lines += ["", f"**{t('md.note')}** ({label('type', note.type.value)})", ""]
        if note.what_happened:
            lines += [f"> {line}" for line in note.what_happened.splitlines()] + [""]
        lines += [
            _field(t("form.office"), _yes(note.separate_office, lang), lang),
            _field(t("form.levers"), _list(note.levers, "lever", lang), lang),
            _field(t("md.intervened"), ", ".join(note.intervened) or "—", lang),
            _field(t("form.support"), _list(note.support, "support", lang), lang),
            _field(t("form.reports"), _list(note.reports, "report", lang), lang),
            _field(t("form.follow_up"), _yes(note.follow_up, lang), lang),
        ]
    return [*lines, ""]


def timeline(incident: Incident, lang: Language) -> list[str]:
    """Pressed, received (when it waited), answered by whom and when, escalated, closed: each
    with its offset from the key press, in order."""
    alert = incident.alert
    start = incident.pressed_at

    def at(moment: datetime) -> str:  # the site's zone once a screen has heard it (sitetime)
        return f"{sitetime.local(moment):%H:%M:%S} (+{duration(moment - start)})"

    first = N_("md.pressed") if alert.created_at else N_("md.raised")
    rows = [(start, t(N_("md.no_answer") if alert.no_answer else first))]
    if alert.received_at - start >= timedelta(seconds=1):
        rows.append((alert.received_at, t("md.raised")))
    rows += [(r.at, t("md.answered", name=r.name)) for r in alert.responders]
    if alert.escalated_at and alert.escalation_level:
        rows.append((alert.escalated_at, t("md.escalated", level=alert.escalation_level)))
    if alert.closed_at:
        state = label("state", alert.state.value)
        summary = f" — {alert.summary}" if alert.summary else ""
        rows.append((alert.closed_at, f"{state}{summary}"))
    return [f"{at(moment)} {what}" for moment, what in sorted(rows, key=lambda row: row[0])]


def _field(label: str, value: str, lang: Language) -> str:
    return f"- {label} : {value}" if lang == "fr" else f"- {label}: {value}"


def _last_day(until: datetime) -> str:
    """`until` is the exclusive end; people read the last day included."""
    return day(until - timedelta(seconds=1))


def _yes(value: bool, lang: Language) -> str:
    return t("md.yes" if value else "md.no")


def _list(values: list, prefix: str, lang: Language) -> str:  # type: ignore[type-arg]
    return ", ".join(label(prefix, v.value) for v in values) or "—"


# -- figures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    real: int
    false_alarms: int
    drills: int
    per_week: dict[str, int]
    per_type: dict[str, int]
    per_desk: dict[str, int]
    first_response: list[timedelta]
    to_resolve: list[timedelta]

    @staticmethod
    def of(incidents: list[Incident]) -> Figures:
        """Counts and response times of real alerts; false alarms (cancelled, by the desk or a
        supervisor) and drills are only counted, apart."""
        real = [i for i in incidents if i.is_real]
        weeks = Counter(week(i.pressed_at) for i in real)
        drills = sum(1 for i in incidents if i.alert.test)
        return Figures(
            real=len(real),
            false_alarms=len(incidents) - len(real) - drills,
            drills=drills,
            per_week=dict(sorted(weeks.items())),
            per_type=dict(Counter(i.type for i in real).most_common()),
            per_desk=dict(Counter(i.alert.desk_label for i in real).most_common()),
            first_response=sorted(d for i in real if (d := i.first_response) is not None),
            to_resolve=sorted(d for i in real if (d := i.time_to_resolve) is not None),
        )


NOTIFY_OUTCOMES = (EventType.NOTIFY_SENT, EventType.NOTIFY_FAILED, EventType.NOTIFY_GAVE_UP)


def count_notifications(histories: list[list[Event]]) -> dict[str, int]:
    """Notification attempts by outcome ("sent", "failed", "gave_up") in the alerts' histories:
    a failed attempt that was retried counts once as failed and once as sent."""
    counts = Counter(
        e.type.value.removeprefix("notify.")
        for history in histories
        for e in history
        if e.type in NOTIFY_OUTCOMES
    )
    return {
        outcome.value.removeprefix("notify."): counts[outcome.value.removeprefix("notify.")]
        for outcome in NOTIFY_OUTCOMES
    }


def median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


BUCKETS = [
    (timedelta(minutes=1), "< 1 min"),
    (timedelta(minutes=2), "1-2 min"),
    (timedelta(minutes=5), "2-5 min"),
    (timedelta(minutes=15), "5-15 min"),
]


def distribution(values: list[timedelta]) -> dict[str, int]:
    """How many fall in each bucket (the last: 15 min and more)."""
    counts = {label: 0 for _, label in BUCKETS} | {"≥ 15 min": 0}
    for value in values:
        label = next((name for limit, name in BUCKETS if value < limit), "≥ 15 min")
        counts[label] += 1
    return counts


def report_text(
    incidents: list[Incident],
    lang: Language,
    since: datetime | None,
    until: datetime | None,
    *,
    color: bool,
    width: int = 70,
    notifications: dict[str, int] | None = None,
    sessions: SessionFigures | None = None,
    broadcasts: Sequence[Broadcast] = (),
) -> str:
    """The figures as text with terminal bar charts (plotext); `notifications`: the counts of
    `count_notifications`, shown when given; `broadcasts`: the supervisors' messages of the
    period, counted with their reads when there are some."""
    figures = Figures.of(incidents)
    title = t("report.title", period=Period(since, until).describe(incidents))
    totals = [tn("report.real", figures.real), tn("report.drills", figures.drills)]
    if figures.false_alarms:
        totals.append(tn("report.false_alarms", figures.false_alarms))
    parts = [title, "=" * len(title), ", ".join(totals), t("report.from_press"), ""]
    if notifications:
        parts[-1:-1] = [t("report.notifications", **notifications)]
    if sessions is not None and (sessions.sessions or sessions.checks):
        parts[-1:-1] = [
            ", ".join(
                (
                    tn("report.sessions", sessions.sessions),
                    tn("report.checks", sessions.checks),
                    tn("report.unanswered", sessions.unanswered),
                )
            )
        ]
    if broadcasts:
        parts[-1:-1] = [broadcasts_figures(broadcasts)]
    if not incidents:
        return "\n".join([*parts, t("report.none")]) + "\n"
    types = {label("type", k): v for k, v in figures.per_type.items()}
    for key, counts in (
        (N_("report.per_week"), figures.per_week),
        (N_("report.per_type"), types),
        (N_("report.per_desk"), figures.per_desk),
    ):
        if counts:
            parts.append(_chart(t(key), counts, color, width))
    for key, values in (
        (N_("report.first_response"), figures.first_response),
        (N_("report.to_resolve"), figures.to_resolve),
    ):
        stats = tn(
            "report.stats",
            len(values),
            median=duration(median(values)),
            worst=duration(max(values, default=None)),
        )
        parts.append(
            _chart(
                f"{t(key)} : {stats}" if lang == "fr" else f"{t(key)}: {stats}",
                distribution(values),
                color,
                width,
            )
        )
    return "\n".join(parts) + "\n"


def _chart(title: str, counts: dict[str, int], color: bool, width: int) -> str:
    import plotext as plt  # type: ignore[import-untyped]

    plt.clear_figure()
    plt.simple_bar(list(counts), list(counts.values()), width=width, title=title)
    chart: str = plt.build()
    # plotext writes every value with two decimals: these are counts ("3", not "3.00").
    chart = WHOLE_COUNT.sub(r"\1", chart)
    return chart if color else plt.uncolorize(chart)


WHOLE_COUNT = re.compile(r"(\d+)\.00(?=(?:\x1b\[[0-9;]*m)*\s*$)", re.MULTILINE)
