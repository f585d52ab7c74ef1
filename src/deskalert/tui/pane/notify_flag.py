"""The pane's line that says the supervisors' phones are late: a notification channel is
behind (the hub's `/healthz` `notify`, read at start and every 15 s with the refused tokens)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive

from deskalert.i18n import t, tn
from deskalert.models import NotifyBacklog
from deskalert.tui.pane.words import clean
from deskalert.tui.parts import Part


def waited(seconds: float) -> str:
    return f"{int(seconds)} s" if seconds < 120 else f"{int(seconds // 60)} min"


class NotifyFlag(Part):
    """Shown only while a channel's oldest unsent message has waited too long (hub's `behind`)."""

    backlog: reactive[tuple[NotifyBacklog, ...]] = reactive(tuple, layout=True)

    @dataclass
    class Read(Message):
        """The hub's notification backlog, just read."""

        backlog: tuple[NotifyBacklog, ...]

    def shown(self) -> bool:
        return any(channel.behind for channel in self.backlog)

    def watch_backlog(self) -> None:
        self._changed()

    def draw(self) -> Text:
        late = [
            tn(
                "pane.notify_late.channel",
                c.waiting,
                channel=clean(c.channel),
                waited=waited(c.oldest_s),
            )
            for c in self.backlog
            if c.behind
        ]
        return Text(t("pane.notify_late", channels=" · ".join(late)))
