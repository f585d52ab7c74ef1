"""The supervisors' messages (broadcasts) in the debrief's exports: a desk's, received, from its
journal; a supervisor's, sent to their sites, from the hub. Nothing here touches the network.

Each says when it was sent and by whom, its kind and text (in the reader's language where the
roster gives one), its sites, which desk read it and when, which never did, and when it ended.
Markdown is for people (the debrief document); CSV has one row per message and desk, so a
spreadsheet filters the desks that never read one; JSON has the API's model with `unread`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime

from deskalert.i18n import Language, t, tn
from deskalert.journal.days import day
from deskalert.models import Broadcast

CSV_COLUMNS = [
    "broadcast_id",
    "sent_at",
    "sender",
    "sender_name",
    "kind",
    "label",
    "text",
    "sites",
    "desk",
    "desk_label",
    "desk_site",
    "read_at",
    "unread_named_at",
    "ended_at",
    "ended_by",
    "ended_by_name",
]


def for_desk(broadcasts: Sequence[Broadcast], desk_id: str | None) -> list[Broadcast]:
    """A desk's export speaks of that desk alone (its read, not its colleagues')."""
    if desk_id is None:
        return list(broadcasts)
    return [
        b.model_copy(
            update={
                "desks": [d for d in b.desks if d.id == desk_id],
                "reads": [r for r in b.reads if r.desk == desk_id],
            }
        )
        for b in broadcasts
    ]


def broadcasts_markdown(broadcasts: Sequence[Broadcast], lang: Language) -> str:
    """The messages as a section of the debrief document; "" if none."""
    if not broadcasts:
        return ""
    lines = ["", f"# {t('md.broadcasts')}", "", tn("md.broadcast_count", len(broadcasts)), ""]
    for broadcast in broadcasts:
        lines += _broadcast_markdown(broadcast, lang)
    return "\n".join(lines) + "\n"


def _broadcast_markdown(broadcast: Broadcast, lang: Language) -> list[str]:
    """One message: a list item, then its sites, reads, unread and end as sub-items."""
    label, text, _ = broadcast.words(lang == "en")
    sent = broadcast.sent_at.astimezone()
    lines = [
        f"- {day(sent)} {sent:%H:%M} — {label} — {text} ({broadcast.sender_name})",
        t("md.broadcast_sites", sites=", ".join(broadcast.sites)),
        _reads(broadcast, sent),
    ]
    if unread := ", ".join(d.label for d in broadcast.unread()):
        # "never" once ended; still current, "not yet"
        if broadcast.ended_at:
            lines.append(t("md.broadcast_never_read", desks=unread))
        else:
            lines.append(t("md.broadcast_not_yet_read", desks=unread))
    if broadcast.ended_at is not None:
        by = broadcast.ended_by_name or broadcast.ended_by or "—"
        lines.append(t("md.broadcast_ended", at=_at(broadcast.ended_at, sent), by=by))
    else:
        lines.append(t("md.broadcast_current"))
    return [lines[0], *(f"  - {line}" for line in lines[1:])]


def _reads(broadcast: Broadcast, sent: datetime) -> str:
    labels = {d.id: d.label for d in broadcast.desks}
    reads = [f"{labels.get(r.desk, r.desk)} {_at(r.at, sent)}" for r in broadcast.reads]
    if not reads:
        return t("md.broadcast_read_none", total=len(broadcast.desks))
    return t(
        "md.broadcast_read",
        count=len(reads),
        total=len(broadcast.desks),
        desks=", ".join(reads),
    )


def _at(moment: datetime, sent: datetime) -> str:
    """A time after the sending: its day too when it is another day."""
    local = moment.astimezone()
    return f"{local:%H:%M}" if local.date() == sent.date() else f"{day(local)} {local:%H:%M}"


def broadcasts_csv(broadcasts: Sequence[Broadcast], lang: Language) -> str:
    """One row per message and desk it went to; `read_at` empty: that desk never read it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for broadcast in broadcasts:
        label, text, _ = broadcast.words(lang == "en")
        for desk in broadcast.desks:
            read = broadcast.read_by(desk.id)
            writer.writerow(
                [
                    broadcast.id,
                    broadcast.sent_at.isoformat(),
                    broadcast.sender,
                    broadcast.sender_name,
                    broadcast.kind,
                    label,
                    text,
                    "; ".join(broadcast.sites),
                    desk.id,
                    desk.label,
                    desk.site,
                    read.at.isoformat() if read else "",
                    _iso(broadcast.unread_named_at),
                    _iso(broadcast.ended_at),
                    broadcast.ended_by or "",
                    broadcast.ended_by_name or "",
                ]
            )
    return out.getvalue()


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def broadcasts_json(broadcasts: Sequence[Broadcast]) -> str:
    """The API's model of each message, with `unread`: the desks that had not read it when
    exported (never, once it has ended)."""
    return json.dumps(
        [b.model_dump(mode="json") | {"unread": [d.id for d in b.unread()]} for b in broadcasts],
        ensure_ascii=False,
        indent=2,
    )


def broadcasts_figures(broadcasts: Sequence[Broadcast]) -> str:
    """The report's line: how many messages, and how many of the desks' reads came."""
    expected = sum(len(b.desks) for b in broadcasts)
    reads = sum(len(b.reads) for b in broadcasts)
    return tn("report.broadcasts", len(broadcasts), reads=reads, expected=expected)
