"""The supervisors' messages (broadcasts) in the debrief's exports: a desk's, received, from its
journal; a supervisor's, sent to their sites, from the hub. Nothing here touches the network."""

from __future__ import annotations

from collections.abc import Sequence

from deskalert.i18n import t
from deskalert.models import Broadcast


def broadcasts_markdown(broadcasts: Sequence[Broadcast], desk_id: str | None = None) -> str:
    """The supervisors' messages received: when, kind, text, who sent it, when it was read
    (by this desk, or how many desks) and ended; "" if none."""
    if not broadcasts:
        return ""
    lines = ["", f"# {t('md.broadcasts')}", ""]
    for broadcast in broadcasts:
        sent = broadcast.sent_at.astimezone()
        lines.append(
            f"- {sent:%d/%m/%Y %H:%M} — {broadcast.label} — {broadcast.text}"
            f" ({broadcast.sender_name})"
        )
        read = [r for r in broadcast.reads if desk_id is None or r.desk == desk_id]
        lines.append(
            "  "
            + (
                t("md.broadcast_read", at=read[0].at.astimezone().strftime("%H:%M"))
                if read
                else t("md.broadcast_unread")
            )
        )
        if broadcast.ended_at is not None:
            lines.append(
                "  " + t("md.broadcast_ended", at=broadcast.ended_at.astimezone().strftime("%H:%M"))
            )
    return "\n".join(lines) + "\n"
