"""What the desk asks the hub besides delivering its own alerts: a j'arrive to a colleague, the
cancel of an own alert the hub already has, the sharing of an incident note; and how each
answer is told to the agent.

The requests run as workers of the app (a failure lands in its one place); the
answers come back as `ActionDone` / `ActionFailed` (messages.py), which the app's handlers hand
here (`done`, `failed`) before redrawing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal
from uuid import UUID

from deskalert.client.hub_words import logged
from deskalert.errors import DeskAlertError
from deskalert.i18n import t
from deskalert.journal.store import Journal
from deskalert.models import NoteIn
from deskalert.text import strip_control as clean
from deskalert.tui.base import HubApp
from deskalert.tui.desk.delivery import DeskDelivery
from deskalert.tui.desk.journal import JournalScreen
from deskalert.tui.desk.messages import ActionDone, ActionFailed
from deskalert.tui.desk.state import DeskState
from deskalert.tui.note_form import share_with_hub


class DeskAsks:
    """The requests of one desk app to the hub (module docstring)."""

    def __init__(
        self,
        app: HubApp,
        state: DeskState,
        delivery: DeskDelivery,
        journal: Journal,
        now: Callable[[], datetime],
    ) -> None:
        self.app, self.state, self.delivery, self.journal, self.now = (
            app,
            state,
            delivery,
            journal,
            now,
        )

    def ask(self, kind: Literal["answer", "cancel"], alert_id: UUID) -> None:
        """A j'arrive ("answer") or a cancel, as a worker of the app."""
        self.app.run_worker(
            self._ask(kind, alert_id), name="ask_hub", group="actions", exit_on_error=False
        )

    async def _ask(self, kind: Literal["answer", "cancel"], alert_id: UUID) -> None:
        """The hub's copy, or why it did not take it."""
        app = self.app
        ask = app.client.acknowledge if kind == "answer" else app.client.cancel
        try:
            app.post_message(ActionDone(kind, await ask(alert_id)))
        except DeskAlertError as exc:
            app.hub_failed(exc)
            app.post_message(ActionFailed(kind, alert_id, logged(exc, f"{kind} {alert_id}")))

    def done(self, message: ActionDone) -> None:
        self.state.apply(message.alert, self.now())
        if message.kind == "answer":
            self.app.notify(t("notify.answered", desk=clean(message.alert.desk_label)))
        else:
            self.app.notify(t("notify.cancelled"))

    def failed(self, message: ActionFailed) -> None:
        reason = clean(message.reason)
        if message.kind == "answer":
            self.state.answered.discard(message.alert_id)
            self.app.notify(t("notify.answer_failed", reason=reason), severity="error", timeout=10)
        else:
            self.delivery.cancel_refused(message.alert_id)
            self.app.notify(t("notify.cancel_refused", reason=reason), severity="error", timeout=10)

    def share_note(self, alert_id: UUID, note: NoteIn) -> None:
        """Share a finished note, as a worker of the app; the journal screen shows it shared."""
        self.app.run_worker(
            self._share_note(alert_id, note), name="share_note", group="notes", exit_on_error=False
        )

    async def _share_note(self, alert_id: UUID, note: NoteIn) -> None:
        result = await share_with_hub(self.app, self.app.client, self.journal, alert_id, note)
        if result.shared and isinstance(self.app.screen, JournalScreen):
            self.app.screen.reload()
