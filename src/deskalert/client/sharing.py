"""Sharing a finished incident note with the hub: the one path of the desk, the pane and the
journal app.

It sends the note, marks it shared in the journal when the hub has it, and answers with the
outcome; the screens only show that outcome. A note that could not be shared stays finished in
the journal and can be shared again later (the hub replaces a resent note).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from deskalert.client.api import HubClient
from deskalert.client.hub_words import logged
from deskalert.errors import DeskAlertError
from deskalert.i18n import t
from deskalert.journal.store import Journal
from deskalert.models import Note, NoteIn


@dataclass(frozen=True)
class ShareResult:
    """What became of one note: the hub's stored copy, or why it is not shared yet."""

    note: Note | None = None
    reason: str | None = None

    @property
    def shared(self) -> bool:
        return self.note is not None


async def share_note(
    client: HubClient | None, journal: Journal | None, alert_id: UUID, note: NoteIn
) -> ShareResult:
    """Send `note` about `alert_id`; mark it shared in `journal` once the hub stored it.

    `client` is None when this workstation has no token: nothing is sent, and the reason says
    how to give it one.
    """
    if client is None:
        return ShareResult(reason=t("share.no_token"))
    try:
        stored = await client.share_note(alert_id, note)
    except DeskAlertError as exc:
        return ShareResult(reason=logged(exc, f"share note {alert_id}"))
    except ValueError as exc:  # a 2xx that is not a note: a proxy's page, another hub version
        return ShareResult(reason=t("share.unexpected", error=str(exc).splitlines()[0]))
    if journal is not None:
        journal.mark_shared(alert_id)
    return ShareResult(note=stored)
