"""`HubFooter`: Textual's footer, in the person's language, and on as many lines as it takes.

A class's `BINDINGS` are built at import, before the language is set; so they carry message ids
(`N_("binding.respond")`) and the words are looked up here, in the process's language.

Textual's footer is one line that cuts what does not fit: at 60 columns the desk lost its last
key and the pane half of its keys. When the keys do not fit on one line, this footer lays them
out in aligned columns on as few lines as hold them all (two for the desk at 60 columns, three
for the pane): a key that works is a key the person can see.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

from deskalert.i18n import N_, catalogue_ids, language, t
from deskalert.text import fitting_columns


class HubFooter(Footer):
    """The footer of the desk, the pane and their screens (module docstring)."""

    DEFAULT_CSS = """
    HubFooter.-wrapped {
        layout: grid;
        grid-columns: auto;
        grid-gutter: 0 1;
        & FooterKey { margin: 0; }
    }
    """

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            _translate_description(widget)
            yield widget

    _squeezed = False  # compact because the keys did not fit, not because the app is

    async def recompose(self) -> None:
        await super().recompose()
        self._fit()

    def on_mount(self) -> None:
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """One line if the keys fit in it (Textual's compact spacing first, if that is what
        it takes), else the fewest lines of aligned columns."""
        keys = [child for child in self.children if child.display]
        available = self.size.width
        if not keys or available <= 0:
            return
        widths = [self._width(key) for key in keys]
        if not self.compact:
            if sum(widths) <= available:
                self._lines(1)
                return
            self._squeezed, self.compact = True, True  # each key one cell narrower
            self.call_after_refresh(self._fit)
            return
        roomy = sum(widths) + 2 * len(widths) <= available  # at Textual's normal spacing
        if self._squeezed and roomy and not getattr(self.app, "compact", False):
            self._squeezed, self.compact = False, False
            self.call_after_refresh(self._fit)
            return
        if sum(widths) + len(widths) - 1 <= available:
            self._lines(1)
            return
        columns = len(fitting_columns(widths, available)) or 1
        self.styles.grid_size_columns = columns
        self._lines(-(-len(keys) // columns))

    def _lines(self, count: int) -> None:
        self.set_class(count > 1, "-wrapped")
        self.styles.height = count

    def _width(self, key: Widget) -> int:
        """The key's width, without its margin (compact: one cell after each key)."""
        return key.get_content_width(self.app.size, self.app.size) + key.styles.gutter.width


# Textual's own bindings that reach the footer, in its English: their catalogue ids.
TEXTUAL_DESCRIPTIONS = {"Dismiss menu": N_("textual.dismiss_menu"), "Quit": N_("textual.quit")}


def _translate_description(widget: Widget) -> None:
    """A FooterKey's `description`, if it is a message id (or one of Textual's own English
    descriptions), becomes its words."""
    description = getattr(widget, "description", None)
    if isinstance(description, str):
        description = TEXTUAL_DESCRIPTIONS.get(description, description)
    if isinstance(description, str) and description in catalogue_ids(language()):
        widget.description = t(description)  # type: ignore[attr-defined]
