"""The pane's modal screens: one line of text (resolve, false alarm, on-call), and a long text
(an alert's history, the figures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

Check = Callable[[str], str | None]


class Prompt(ModalScreen[str | None]):
    """One line of text, or None on escape; `check` returns an error to show next to the field."""

    DEFAULT_CSS = """
    Prompt { align: center middle; }
    Prompt > Vertical { width: 80; max-width: 100%; height: auto; max-height: 100%;
                        border: thick $accent; background: $surface; padding: 1 2; }
    Prompt Label { width: 100%; }  /* wraps in a narrow window rather than cut */
    Prompt #error { color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", show=False)]

    def __init__(self, question: str, hint: str, *, check: Check | None = None) -> None:
        super().__init__()
        self.question, self.hint, self.check = question, hint, check

    def compose(self) -> ComposeResult:
        with Vertical():  # not markup: a question quotes hub text ("Salle [/] fermée" crashed)
            yield Label(self.question, markup=False)
            yield Input(id="answer", max_length=280)
            yield Label("", id="error", markup=False)
            yield Label(self.hint, markup=False)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self.check is not None and (error := self.check(event.value)):
            self.query_one("#error", Label).update(error)
            return
        self.dismiss(event.value.strip())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class Details(ModalScreen[None]):
    """A long text: an alert with its whole event history and times, or the figures."""

    DEFAULT_CSS = """
    Details { align: center middle; }
    Details > VerticalScroll { width: 90%; height: 80%; border: thick $accent;
                               background: $surface; padding: 1 2; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", show=False)]

    def __init__(self, body: Text) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.body, id="details")
