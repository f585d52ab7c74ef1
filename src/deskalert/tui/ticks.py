"""Check boxes whose state shows in their shape, not only in their colour.

Textual draws a check box as `▐X▌` whether ticked or not: only the X's colour changes, which a
colour-blind person or a monochrome terminal cannot see. Here a ticked box shows `▐X▌` and an
empty one `▐ ▌`, for `Checkbox` and for each line of a `SelectionList`.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

TICKED = Checkbox.BUTTON_INNER
EMPTY = " "


class Tick(Checkbox):
    """A check box that is empty when not ticked."""

    def render(self) -> Content:
        self.BUTTON_INNER = TICKED if self.value else EMPTY
        return super().render()


class TickList(SelectionList[str]):
    """A selection list whose lines not chosen show an empty box."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return line
        segments = list(line)
        if option.value in self.selected or len(segments) < 2 or segments[1].text != TICKED:
            return line
        segments[1] = Segment(EMPTY, segments[1].style)
        return Strip(segments, line.cell_length)
