"""The desk's journal: its incidents newest first, search and filters, timelines, notes.

A screen of the desk app (key j) and, alone, `deskalert journal`. Enter opens the incident note
(any past alert, drafts included); s shares a finished note with the hub. The screen asks, the app
shares (`JournalScreen.ShareRequested`, `NoteForm.Finished`): the desk app with its own client,
`JournalApp` with one of its own, both through `share_with_hub`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static

from deskalert.client.api import HubClient
from deskalert.client.catchup import catch_up
from deskalert.i18n import N_, Language, set_language, t
from deskalert.journal.debrief import UNKNOWN_TYPE, duration, timeline
from deskalert.journal.models import Incident
from deskalert.journal.store import Journal
from deskalert.labels import label
from deskalert.models import IncidentType, NoteIn
from deskalert.sitetime import local
from deskalert.tui.footer import HubFooter
from deskalert.tui.note_form import NoteForm, share_with_hub

PERIODS = {
    "all": None,
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=31),
}


class JournalScreen(Screen[None]):
    DEFAULT_CSS = """
    JournalScreen #filters { height: auto; }
    JournalScreen #search { width: 1fr; }
    JournalScreen Select { width: 30; }
    JournalScreen.-narrow #search { width: 1fr; min-width: 12; }
    JournalScreen.-narrow Select { width: 1fr; }
    JournalScreen.-small #incidents { min-height: 4; }
    JournalScreen.-small #timeline { max-height: 5; border: none; border-top: round $primary; }
    JournalScreen.-small #broadcasts-received { max-height: 2; }
    JournalScreen #incidents { height: 1fr; }
    JournalScreen #timeline { height: auto; max-height: 14; border: round $primary; padding: 0 1; }
    JournalScreen #broadcasts-received { height: auto; max-height: 4; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("journal.binding.back"), id="journal.back"),
        Binding("s", "share", N_("journal.binding.share"), id="journal.share"),
    ]

    @dataclass
    class ShareRequested(Message):
        alert_id: UUID
        note: NoteIn

    def __init__(
        self, journal: Journal, lang: Language, *, now: Any = lambda: datetime.now().astimezone()
    ) -> None:
        super().__init__()
        self.journal, self.lang, self.now = journal, lang, now
        self.shown: list[Incident] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Input(placeholder=t("journal.search"), id="search")
            yield Select(
                [(label("type", k), k.value) for k in IncidentType]
                + [(t("type.unknown"), UNKNOWN_TYPE)],
                prompt=t("journal.all_types"),
                id="type",
            )
            yield Select(
                [(label("journal.period", k), k) for k in PERIODS],
                value="all",
                allow_blank=False,
                id="period",
            )
        yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
        yield Static(id="timeline")
        yield Static(id="broadcasts-received", markup=False)
        yield HubFooter()

    def on_mount(self) -> None:
        table = self.query_one("#incidents", DataTable)
        # The note's state before the durations: in a narrow window these are cut first.
        for key in ("when", "code", "state", "note", "first", "resolve"):
            table.add_column(label("journal.col", key), key=key)
        self.reload()
        table.focus()

    def on_resize(self, event: events.Resize) -> None:
        """Under 80 columns the filters share the width; under 80 x 30 (a corner of the
        screen) they take one line each (Textual's compact fields), the timeline and the
        messages fewer lines: the table keeps the room (four lines at least)."""
        width, height = event.size
        self.set_class(width < 80, "-narrow")
        small = width < 80 or height < 30
        self.set_class(small, "-small")
        self.query_one("#search", Input).compact = small
        for select in self.query(Select):
            select.compact = small

    def on_screen_resume(self) -> None:
        self.reload()

    @on(Input.Changed)
    @on(Select.Changed)
    def reload(self) -> None:
        search = self.query_one("#search", Input).value.strip().lower()
        kind = self.query_one("#type", Select).value
        period = PERIODS[str(self.query_one("#period", Select).value)]
        since = self.now() - period if period else None
        table = self.query_one("#incidents", DataTable)
        current = self.selected()  # the cursor stays on it (back from its note, say)
        table.clear()
        self.shown = []
        for incident in self.journal.incidents():
            alert = incident.alert
            haystack = " ".join(
                [
                    alert.code_label,
                    alert.code_label_en,
                    alert.message or "",
                    alert.summary or "",
                    *(n.what_happened for n in incident.notes),
                    *(r.name for r in alert.responders),
                ]
            ).lower()
            if (
                (search and search not in haystack)
                or (since and incident.pressed_at < since)
                or (isinstance(kind, str) and incident.type != kind)
            ):
                continue
            self.shown.append(incident)
            table.add_row(*self._row(incident), key=str(alert.id))
        ids = [i.alert.id for i in self.shown]
        if current is not None and current.alert.id in ids:
            table.move_cursor(row=ids.index(current.alert.id))
        self._show_timeline()
        self._show_broadcasts(since)

    def _show_broadcasts(self, since: datetime | None) -> None:
        """The supervisors' messages this desk received in the period, last ones first."""
        received = self.journal.broadcasts(since)[::-1][:5]
        lines = " · ".join(f"{local(b.sent_at):%d/%m %H:%M} {b.label}: {b.text}" for b in received)
        shown = self.query_one("#broadcasts-received", Static)
        shown.display = bool(received)
        shown.update(t("journal.broadcasts", lines=lines) if received else "")

    def _row(self, incident: Incident) -> list[Text]:
        alert, record = incident.alert, incident.record
        code = Text(alert.code_words(self.lang == "en"))
        if alert.test:
            code.append(f" {t('drill.word')}", style="magenta")
        status = (
            N_("journal.note.shared")
            if record and record.shared_at
            else N_("journal.note.done")
            if record and record.finished
            else N_("journal.note.draft")
            if record and record.draft
            else N_("journal.note.todo")
        )
        return [
            Text(f"{local(incident.pressed_at):%d/%m %H:%M}"),
            code,
            Text(label("state", alert.state.value)),
            Text(t(status)),
            Text(duration(incident.first_response)),
            Text(duration(incident.time_to_resolve)),
        ]

    def selected(self) -> Incident | None:
        table = self.query_one("#incidents", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return next((i for i in self.shown if str(i.alert.id) == row_key.value), None)

    @on(DataTable.RowHighlighted)
    def _show_timeline(self) -> None:
        incident = self.selected()
        box = self.query_one("#timeline", Static)
        box.display = incident is not None
        if incident is None:
            return
        alert = incident.alert
        text = Text(f"{alert.desk_label} · {alert.code_words(self.lang == 'en')}\n", style="bold")
        for row in timeline(incident, self.lang):
            text.append(f"{row}\n")
        for note in incident.notes:
            text.append(t("journal.note_type", type=label("type", note.type.value)), style="bold")
            text.append(note.what_happened or "—")
        box.update(text)

    @on(DataTable.RowSelected)
    def _open_note(self) -> None:
        incident = self.selected()
        if incident is not None:
            self.app.push_screen(NoteForm(incident.alert, self.journal, self.lang))

    def action_share(self) -> None:
        incident = self.selected()
        if incident is None or not incident.notes:
            self.notify(t("journal.share_first"), severity="warning")
            return
        self.post_message(self.ShareRequested(incident.alert.id, incident.notes[0]))


class JournalApp(App[None]):
    """`deskalert journal`: the journal alone, sharing through the hub when it answers.

    `token` None (this workstation has none yet): the journal opens anyway and sharing says why
    it cannot.
    """

    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self, journal: Journal, lang: Language, hub_urls: str | Sequence[str], token: str | None
    ) -> None:
        super().__init__()
        self.journal, self.lang = journal, lang
        self.client = HubClient(hub_urls, token) if token else None
        set_language(lang)
        self.title = t("journal.title")

    def on_mount(self) -> None:
        self.push_screen(JournalScreen(self.journal, self.lang), lambda _: self.exit())
        self.catch_up()

    @work(group="catch-up", exit_on_error=False)
    async def catch_up(self) -> None:
        """The alerts the journal holds as open, read again from the hub (client/catchup.py)."""
        if self.client is None or not await catch_up(self.journal, self.client):
            self.notify(t("journal.behind"), severity="warning", timeout=10, markup=False)
        elif isinstance(self.screen, JournalScreen):
            self.screen.reload()

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    @on(JournalScreen.ShareRequested)
    def _share_requested(self, message: JournalScreen.ShareRequested) -> None:
        self.share_note(message.alert_id, message.note)

    @on(NoteForm.Finished)
    def _note_finished(self, message: NoteForm.Finished) -> None:
        """ "Terminer" saves it (done by the form); "Terminer et partager" also sends it."""
        if message.share:
            self.share_note(message.alert_id, message.note)
        else:
            self.notify(t("form.finished"))

    @work(group="notes", exit_on_error=False)
    async def share_note(self, alert_id: UUID, note: NoteIn) -> None:
        await share_with_hub(self, self.client, self.journal, alert_id, note)
        if isinstance(self.screen, JournalScreen):
            self.screen.reload()
