"""`Part`: the base of the desk's and the pane's boxes, drawn from their reactive values.

A part owns the state it shows as reactive attributes; the app sets them and the part redraws
when, and only when, one changes. `draw()` makes its text, `shown()` says whether it is on
screen, `text` is what it shows now (for tests and logs).
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from deskalert.text import KEEP, rejoin


class Part(Widget):
    """A part of the desk or the pane drawn from its reactive values; hidden while empty.

    A phone number written with `deskalert.text.unbroken` moves to the next line whole rather
    than break."""

    DEFAULT_CSS = "Part { height: auto; }"

    def render(self) -> Text:
        text = self.draw()
        width = self.content_region.width
        if KEEP not in text.plain or width <= 0:
            return rejoin(text)
        lines = text.wrap(self.app.console, width)
        for line in lines:
            line.rstrip()
        return rejoin(Text("\n").join(lines))

    def draw(self) -> Text:
        raise NotImplementedError

    def shown(self) -> bool:
        return True

    def on_mount(self) -> None:
        self.display = self.shown()

    def _changed(self) -> None:
        self.display = self.shown()

    @property
    def text(self) -> str:
        """What the part shows now, as plain text ("" while hidden): for tests and logs."""
        return str(rejoin(self.draw())) if self.display else ""


__all__ = ["Part"]
