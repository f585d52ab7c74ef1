"""The desk's journal: its incidents newest first, search and filters, timelines, notes.

A screen of the desk app (key j) and, alone, `deskalert journal`. Enter opens the incident note
(any past alert, drafts included); s shares a finished note with the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Select, Static

from deskalert.i18n import N_, Language, set_language, t
from deskalert.labels import label
from deskalert.journal.debrief import (
    UNKNOWN_TYPE,
    Incident,
    duration,
    journal_incidents,
    timeline,
)
from deskalert.journal.store import Journal, NoteRecord
from deskalert.models import IncidentType, NoteIn
from deskalert.tui.note_form import NoteForm

PERIODS = {"all": None, "day": timedelta(days=1), "week": timedelta(days=7),
           "month": timedelta(days=31)}


class JournalScreen(Screen[None]):
    DEFAULT_CSS = """
    JournalScreen #filters { height: auto; }
    JournalScreen #search { width: 1fr; }
    JournalScreen Select { width: 30; }
    JournalScreen #incidents { height: 1fr; }
    JournalScreen #timeline { height: auto; max-height: 14; border: round $primary; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Retour", id="journal.back"),
        Binding("s", "share", "Partager la fiche", id="journal.share"),
    ]

    @dataclass
    class ShareRequested(Message):
        alert_id: UUID
        note: NoteIn

    def __init__(self, journal: Journal, lang: Language, *,
                 now: Any = lambda: datetime.now().astimezone()) -> None:
        super().__init__()
        self.journal, self.lang, self.now = journal, lang, now
        self.shown: list[Incident] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="filters"):
            yield Input(placeholder=t("journal.search"), id="search")
            yield Select([(label("type", k), k.value) for k in IncidentType]
                         + [(t("type.unknown"), UNKNOWN_TYPE)],
                         prompt=t("journal.all_types"), id="type")
            yield Select([(label("journal.period", k), k) for k in PERIODS], value="all",
                         allow_blank=False, id="period")
        yield DataTable(id="incidents", cursor_type="row", zebra_stripes=True)
        yield Static(id="timeline")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#incidents", DataTable)
        for key in ("when", "code", "state", "first", "resolve", "note"):
            table.add_column(label("journal.col", key), key=key)
        self.reload()
        table.focus()

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
        table.clear()
        self.shown = []
        for incident, record in journal_incidents(self.journal):
            alert = incident.alert
            haystack = " ".join([alert.code_label, alert.message or "", alert.summary or "",
                                 *(n.what_happened for n in incident.notes),
                                 *(r.name for r in alert.responders)]).lower()
            if (search and search not in haystack) or (since and alert.received_at < since) \
                    or (isinstance(kind, str) and incident.type != kind):
                continue
            self.shown.append(incident)
            table.add_row(*self._row(incident, record), key=str(alert.id))
        self._show_timeline()

    def _row(self, incident: Incident, record: NoteRecord | None) -> list[Text]:
        alert = incident.alert
        code = Text(alert.code_label)
        if alert.test:
            code.append(f" {t('drill.word')}", style="magenta")
        status = (N_("journal.note.shared") if record and record.shared_at else
                  N_("journal.note.done") if record and record.finished else
                  N_("journal.note.draft") if record and record.fields else N_("journal.note.todo"))
        return [Text(f"{alert.received_at.astimezone():%d/%m %H:%M}"), code,
                Text(label("state", alert.state.value)),
                Text(duration(incident.first_response)), Text(duration(incident.time_to_resolve)),
                Text(t(status))]

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
        text = Text(f"{incident.alert.desk_label} · {incident.alert.code_label}\n", style="bold")
        for row in timeline(incident, self.lang):
            text.append(f"{row}\n")
        for note in incident.notes:
            text.append(f"{label('type', note.type.value)} : ", style="bold")
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
    """`deskalert journal`: the journal alone, with sharing through the hub when it answers."""

    ENABLE_COMMAND_PALETTE = False

    def __init__(self, journal: Journal, lang: Language, share: Any = None) -> None:
        super().__init__()
        self.journal, self.lang, self.share = journal, lang, share
        set_language(lang)
        self.title = t("journal.title")

    def on_mount(self) -> None:
        self.push_screen(JournalScreen(self.journal, self.lang), lambda _: self.exit())

    @on(JournalScreen.ShareRequested)
    async def _share(self, message: JournalScreen.ShareRequested) -> None:
        if self.share is None:
            return
        error = await self.share(message.alert_id, message.note)
        if error:
            self.notify(t("form.share_failed", reason=error), severity="error")
        else:
            self.journal.mark_shared(message.alert_id)
            self.notify(t("form.shared"))
            self.screen.reload()  # type: ignore[attr-defined]
