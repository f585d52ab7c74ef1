"""The incident note ("fiche incident"): keyboard only, saved to the journal at every keystroke.

The draft is the widgets' raw values (`NoteDraft`: a time typed half-way stays as typed), so
reopening an alert reopens exactly what was on screen. Finishing validates, converts to `NoteIn`
and posts `NoteForm.Finished`; the app shares it when asked, through `share_with_hub` (one path
for the desk, the pane and `deskalert journal`: `deskalert.client.sharing.share_note`).

The form sits over the screen it was opened from and may leave parts of it in view (`Keep`):
the desk keeps its top bar (the link, the own alert's step), its warnings and the on-call line
above the form, and its code keys below it while the form still has `MIN_ROWS` rows; an alert
key pressed in the form shows its step there, and the draft stays as typed. Without `Keep`
(the pane, the journal), the form covers the whole screen as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Spacing
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
    TextArea,
)

from deskalert.client.api import HubClient
from deskalert.client.sharing import ShareResult, share_note
from deskalert.i18n import N_, Language, t
from deskalert.journal.models import NoteDraft
from deskalert.journal.privacy import has_file_number
from deskalert.journal.store import Journal
from deskalert.labels import label
from deskalert.models import Alert, IncidentType, Lever, NoteIn, Report, Support
from deskalert.sitetime import at, local
from deskalert.tui.footer import HubFooter
from deskalert.tui.ticks import Tick, TickList

TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# The fewest rows the form keeps for itself before it covers the parts kept below it.
MIN_ROWS = 12


@dataclass(frozen=True)
class Keep:
    """Selectors of the parts of the screen under the form that stay in view: `above` it
    always, `below` it while the form keeps `MIN_ROWS` rows (module docstring)."""

    above: tuple[str, ...] = ()
    below: tuple[str, ...] = ()


class NoteForm(ModalScreen[None]):
    """The form for one alert; `NoteForm.Finished` tells the app to share it if asked."""

    DEFAULT_CSS = """
    NoteForm { background: $background 0%; }
    NoteForm > #note-box { height: 1fr; background: $background; }
    NoteForm VerticalScroll { padding: 0 2; }
    NoteForm #privacy { background: $warning 30%; padding: 0 1; margin: 1 0; text-style: bold; }
    NoteForm Label.field { margin: 1 0 0 0; text-style: bold; }
    NoteForm Label.error { color: $error; }
    NoteForm #what { height: 6; }
    NoteForm SelectionList { height: auto; max-height: 6; }
    NoteForm .times { height: auto; }
    NoteForm .times Input { width: 12; }
    NoteForm .times Label { margin: 1 1 0 1; }
    NoteForm #buttons { height: auto; margin: 1 0; }
    NoteForm #buttons Button { margin: 0 2 0 0; }
    NoteForm #saved { color: $text-muted; }
    NoteForm.-small VerticalScroll { padding: 0 1; }
    NoteForm.-small #privacy { margin: 0; }
    NoteForm.-small Label.field { margin: 0; }
    NoteForm.-small #what { height: 4; }
    NoteForm.-small #buttons { margin: 0; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "finish(False)", N_("form.finish"), id="form.finish"),
        Binding("escape", "later", N_("form.later"), id="form.later"),
    ]

    @dataclass
    class Finished(Message):
        alert_id: UUID
        note: NoteIn
        share: bool

    def __init__(self, alert: Alert, journal: Journal, lang: Language, keep: Keep = Keep()) -> None:
        super().__init__()
        self.alert, self.journal, self.lang, self.keep = alert, journal, lang, keep
        self._loading = True
        self._shown: set[str] = set()  # the fields whose problem is on screen

    def compose(self) -> ComposeResult:
        alert = self.alert
        when = local(alert.received_at).strftime("%d/%m %H:%M")
        with Vertical(id="note-box"):
            yield from self._fields(alert, when)
        yield HubFooter()

    def _fields(self, alert: Alert, when: str) -> ComposeResult:
        yield Static(
            t(
                "form.title",
                label=alert.code_words(self.lang == "en"),
                desk=alert.desk_label,
                when=when,
            ),
            id="title",
        )
        # Not a Tab stop: it would show nothing; focus moving scrolls it.
        with VerticalScroll(can_focus=False):
            yield Static(t("form.privacy"), id="privacy")
            yield Label(t("form.what"), classes="field")
            yield TextArea(id="what", soft_wrap=True, tab_behavior="focus")
            yield Label("", id="what-error", classes="error")
            yield Label(t("form.type"), classes="field")
            yield Select(
                [(label("type", k), k.value) for k in IncidentType],
                id="type",
                prompt=t("form.type_prompt"),
            )
            yield Label("", id="type-error", classes="error")
            with Horizontal(classes="times"):
                yield Label(t("form.started"))
                yield Input(id="started", max_length=5)
                yield Label(t("form.ended"))
                yield Input(id="ended", max_length=5)
            yield Label("", id="time-error", classes="error")
            yield Tick(t("form.office"), id="office")
            yield Label(t("form.levers"), classes="field")
            yield TickList(*[(label("lever", k), k.value) for k in Lever], id="levers")
            yield Label(t("form.intervened"), classes="field")
            yield Input(id="intervened", max_length=400, select_on_focus=False)  # adds names
            yield Label(t("form.support"), classes="field")
            yield TickList(*[(label("support", k), k.value) for k in Support], id="support")
            yield Label(t("form.reports"), classes="field")
            yield TickList(*[(label("report", k), k.value) for k in Report], id="reports")
            yield Tick(t("form.follow_up"), id="follow_up")
            with Horizontal(id="buttons"):
                yield Button(t("form.finish"), id="finish", variant="primary")
                yield Button(t("form.share"), id="share", variant="success")
                yield Button(t("form.later"), id="later")
            yield Label(t("form.keys"))
            yield Label("", id="saved")

    def on_resize(self, event: events.Resize) -> None:
        """Under 80 x 30 (a corner of the screen): no blank lines, a shorter text box, so
        that the privacy notice and the first question are in view with the box."""
        self.set_class(event.size.width < 80 or event.size.height < 30, "-small")
        self.place()
        self.call_after_refresh(self.place)  # the footer's height known
        self.call_after_refresh(self._focus_in_view)

    def place(self) -> None:
        """Between the parts kept above and below it (`Keep`); again each second: a warning
        may have come, or gone, meanwhile."""
        under = self._below() if self.keep.above or self.keep.below else None
        footer = self.query_one(HubFooter).region
        bottom = footer.y if footer.height else self.size.height
        margin = Spacing() if under is None else kept_in_view(under, self.keep, bottom)
        box = self.query_one("#note-box")
        if box.styles.margin != margin:
            box.styles.margin = margin

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        """The form's keys and the app's priority keys, which work over the form (an alert
        key, j'arrive...): a modal screen's footer would not show the app's."""
        mine = super().active_bindings
        if (under := self._below()) is None:
            return mine
        theirs = under.active_bindings
        return {k: b for k, b in theirs.items() if b.binding.priority and k not in mine} | mine

    def _below(self) -> Screen[object] | None:
        """The screen right under the form."""
        stack = self.app.screen_stack
        index = stack.index(self) if self in stack else 0
        return stack[index - 1] if index > 0 else None

    def _focus_in_view(self) -> None:
        """On the first field, the form from its top (the privacy notice, the question)."""
        if self.focused is None or self.focused.id == "what":
            self.query_one(VerticalScroll).scroll_home(animate=False)
        else:
            self.focused.scroll_visible(animate=False)

    def on_mount(self) -> None:
        record = self.journal.draft(self.alert.id)
        self.fill(record.draft if record and record.draft else self.prefilled())
        what = self.query_one("#what", TextArea)
        what.move_cursor(what.document.end)  # a reopened draft goes on where it stopped
        what.focus()
        self.call_after_refresh(self._loaded)
        self.set_interval(1.0, self.place)

    def _loaded(self) -> None:
        self._loading = False

    def prefilled(self) -> NoteDraft:
        """What the desk already knows: the times (from the key press) and who answered."""
        alert = self.alert
        pressed = alert.created_at if alert.created_at is not None else alert.received_at
        return NoteDraft(
            started=local(min(pressed, alert.received_at)).strftime("%H:%M"),
            ended=local(alert.closed_at).strftime("%H:%M") if alert.closed_at else "",
            intervened=", ".join(r.name for r in alert.responders),
        )

    # -- the draft ------------------------------------------------------------------------

    def draft(self) -> NoteDraft:
        """What is on screen now, as typed."""
        kind = self.query_one("#type", Select).value
        return NoteDraft(
            what=self.query_one("#what", TextArea).text,
            type=kind if isinstance(kind, str) else None,
            started=self.query_one("#started", Input).value,
            ended=self.query_one("#ended", Input).value,
            office=self.query_one("#office", Checkbox).value,
            levers=list(self.query_one("#levers", SelectionList).selected),
            intervened=self.query_one("#intervened", Input).value,
            support=list(self.query_one("#support", SelectionList).selected),
            reports=list(self.query_one("#reports", SelectionList).selected),
            follow_up=self.query_one("#follow_up", Checkbox).value,
        )

    def fill(self, draft: NoteDraft) -> None:
        self.query_one("#what", TextArea).text = draft.what
        if draft.type in {k.value for k in IncidentType}:
            self.query_one("#type", Select).value = draft.type
        self.query_one("#started", Input).value = draft.started
        self.query_one("#ended", Input).value = draft.ended
        self.query_one("#intervened", Input).value = draft.intervened
        self.query_one("#office", Checkbox).value = draft.office
        self.query_one("#follow_up", Checkbox).value = draft.follow_up
        for name, values in (
            ("levers", draft.levers),
            ("support", draft.support),
            ("reports", draft.reports),
        ):
            chosen = self.query_one(f"#{name}", SelectionList)
            for value in values:
                chosen.select(value)

    @on(TextArea.Changed)
    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(SelectionList.SelectedChanged)
    def _save_draft(self) -> None:
        if self._loading:
            return
        draft = self.draft()
        self.journal.save_draft(self.alert.id, draft)
        self._recheck_shown(draft)
        self.query_one("#saved", Label).update(
            t("form.saved", time=local(datetime.now().astimezone()).strftime("%H:%M:%S"))
        )

    # -- finishing ------------------------------------------------------------------------

    def validate(self) -> NoteIn | None:
        """The note, or None after showing each problem next to its field."""
        draft = self.draft()
        errors, kind, started, ended = self._check(draft)
        for name, message in errors.items():
            self.query_one(f"#{name}-error", Label).update(message)
        self._shown = {name for name, message in errors.items() if message}
        if self._shown or kind is None:
            return None
        return NoteIn(
            what_happened=draft.what.strip()[:4000],
            type=kind,
            started_at=started,
            ended_at=ended,
            separate_office=draft.office,
            levers=[Lever(v) for v in draft.levers],
            intervened=[n.strip() for n in draft.intervened.split(",") if n.strip()][:20],
            support=[Support(v) for v in draft.support],
            reports=[Report(v) for v in draft.reports],
            follow_up=draft.follow_up,
        )

    def _check(
        self, draft: NoteDraft
    ) -> tuple[dict[str, str], IncidentType | None, datetime | None, datetime | None]:
        """Each field's problem ("" if none), the type, the start and the end."""
        errors = {"what": "", "type": "", "time": ""}
        if has_file_number(draft.what) or has_file_number(draft.intervened):
            errors["what"] = t("form.err_file_number")
        kind = next((k for k in IncidentType if k.value == draft.type), None)
        if kind is None:
            errors["type"] = t("form.err_type")
        started = ended = None
        try:
            started, ended = self._time(draft.started), self._time(draft.ended)
        except ValueError:
            errors["time"] = t("form.err_time")
        if started and ended and ended < started:
            errors["time"] = t("form.err_order")
        return errors, kind, started, ended

    def _recheck_shown(self, draft: NoteDraft) -> None:
        """A problem shown goes as soon as its field is fixed (or says what is wrong now); a
        field not yet flagged is not judged while the person is still typing in it."""
        if not self._shown:
            return
        errors = self._check(draft)[0]
        for name in self._shown:
            self.query_one(f"#{name}-error", Label).update(errors[name])
        self._shown = {name for name in self._shown if errors[name]}

    def _time(self, value: str) -> datetime | None:
        """'10:42' on the alert's day (local); None if empty; ValueError if unreadable."""
        if not value.strip():
            return None
        match = TIME.match(value.strip())
        if match is None:
            raise ValueError(value)
        return at(self.alert.received_at, int(match[1]), int(match[2]))

    def action_finish(self, share: bool) -> None:
        note = self.validate()
        if note is None:
            return
        self.journal.finish_note(self.alert.id, self.draft(), note)
        self.post_message(self.Finished(self.alert.id, note, share))
        self.dismiss()

    def action_later(self) -> None:
        self.journal.postpone_note(self.alert.id)
        self.dismiss()

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "later":
            self.action_later()
        else:
            self.action_finish(share=event.button.id == "share")


def kept_in_view(under: Screen[object], keep: Keep, bottom: int) -> Spacing:
    """The form's margin on `under`: below the parts kept above, above the parts kept below
    while `MIN_ROWS` are left between (else down to `bottom`, the form's footer)."""
    top = max((w.region.bottom for w in _shown(under, keep.above)), default=0)
    below = min((w.region.y for w in _shown(under, keep.below)), default=bottom)
    below = below if below - top >= MIN_ROWS else bottom
    return Spacing(top, 0, max(bottom - below, 0), 0)


def _shown(screen: Screen[object], selectors: tuple[str, ...]) -> list[Any]:
    """The widgets of `selectors` on `screen` that show (a hidden one has no region)."""
    return [w for selector in selectors for w in screen.query(selector) if w.region.height]


async def share_with_hub(
    app: App[Any], client: HubClient | None, journal: Journal | None, alert_id: UUID, note: NoteIn
) -> ShareResult:
    """Share a finished note (`deskalert.client.sharing.share_note`) and tell the person the
    outcome either way: the desk, the pane and `deskalert journal` all share notes this way."""
    result = await share_note(client, journal, alert_id, note)
    if result.shared:
        app.notify(t("form.shared"))
    else:
        app.notify(t("form.share_failed", reason=result.reason), severity="error", timeout=15)
    return result
