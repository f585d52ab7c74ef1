"""The pane's requests to the hub from its keys: j'arrive, resolve, cancel, take the on-call;
and how each answer is told to the supervisor.

The requests run as workers of the app (a failure lands in its one place); the
answers come back as `Answered` / `Refused` (messages.py), which the app's handlers hand here
(`answered`, `refused`) before redrawing.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from deskalert.client.hub_words import logged
from deskalert.errors import DeskAlertError
from deskalert.i18n import t
from deskalert.labels import label
from deskalert.sitetime import local
from deskalert.tui.base import HubApp
from deskalert.tui.pane import words
from deskalert.tui.pane.messages import Answered, Refused
from deskalert.tui.pane.state import PaneState


class PaneRequests:
    """The requests of one pane app to the hub (module docstring)."""

    def __init__(self, app: HubApp, state: PaneState) -> None:
        self.app, self.state = app, state

    def send(
        self,
        what: str,
        alert_id: UUID | None,
        text: str | None = None,
        site: str | None = None,
        until: datetime | None = None,
    ) -> None:
        """`what`: "respond", "resolve", "cancel" (of `alert_id`) or "oncall" (of `site`)."""
        self.app.run_worker(
            self._send(what, alert_id, text, site, until),
            name="request",
            group="actions",
            exit_on_error=False,
        )

    async def _send(
        self,
        what: str,
        alert_id: UUID | None,
        text: str | None,
        site: str | None,
        until: datetime | None,
    ) -> None:
        app, client = self.app, self.app.client
        try:
            if what == "respond" and alert_id:
                app.post_message(Answered(what, alert=await client.acknowledge(alert_id)))
            elif what == "resolve" and alert_id:
                app.post_message(Answered(what, alert=await client.resolve(alert_id, text)))
            elif what == "cancel" and alert_id:
                app.post_message(Answered(what, alert=await client.cancel(alert_id, text)))
            elif what == "oncall" and site and until:
                app.post_message(Answered(what, oncall=await client.take_oncall(site, until)))
        except DeskAlertError as exc:
            app.hub_failed(exc)
            app.post_message(Refused(logged(exc, what)))

    def answered(self, message: Answered) -> None:
        if message.alert is not None:
            self.state.apply(message.alert)
            what = label("pane.binding", message.what)
            self.app.notify(
                t("pane.notify.done", what=what, desk=words.clean(message.alert.desk_label))
            )
        if message.oncall is not None:
            card = message.oncall
            self.state.oncall[card.site] = card
            name = words.clean(card.supervisor.name) if card.supervisor else "?"
            until = local(card.until).strftime("%H:%M") if card.until else "?"
            self.app.notify(
                t("pane.notify.oncall", site=words.clean(card.site_label), name=name, time=until)
            )

    def refused(self, message: Refused) -> None:
        self.app.notify(
            t("pane.notify.failed", reason=words.clean(message.reason)),
            severity="error",
            timeout=10,
        )
