"""Exports and figures for the debrief, on a fixed data set with hand-computed answers."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from deskalert.journal.debrief import (
    Figures,
    Period,
    distribution,
    duration,
    median,
    report_text,
    timeline,
    to_markdown,
)
from deskalert.journal.models import Incident, NoteDraft
from deskalert.journal.store import Journal
from deskalert.models import (
    Alert,
    AlertState,
    NoteIn,
    PrincipalKind,
    Responder,
)
from support.cli import Result, run_cli
from support.hubs import RunningHub
from support.requests import new_alert

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")

MON = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)  # ISO week 47


def alert(
    desk: str,
    at: datetime,
    answers: list[int],
    closed_after: int | None,
    state: AlertState = AlertState.RESOLVED,
    test: bool = False,
) -> Alert:
    return Alert(
        id=uuid4(),
        code="hulk",
        code_label="Venez à plusieurs",
        discreet=True,
        priority=1,
        desk=desk.lower().replace(" ", "-"),
        desk_label=desk,
        site="accueil",
        location="RDC",
        created_at=at,
        received_at=at,
        state=state,
        test=test,
        responders=[
            Responder(
                id=f"s{i}",
                kind=PrincipalKind.SUPERVISOR,
                name=f"Sup {i}",
                at=at + timedelta(seconds=s),
            )
            for i, s in enumerate(answers)
        ],
        closed_at=at + timedelta(seconds=closed_after) if closed_after is not None else None,
        updated_at=at,
    )


def note(kind: str, **extra: object) -> NoteIn:
    return NoteIn.model_validate({"type": kind, "what_happened": "Ton qui monte.", **extra})


def mk(alert: Alert, notes: list[NoteIn] | None = None) -> Incident:
    return Incident(alert=alert, notes=notes or [])


def data_set() -> list[Incident]:
    return [
        mk(alert("Guichet 1", MON, [30, 90], 600), [note("verbal", levers=["rules"])]),
        mk(alert("Guichet 2", MON + timedelta(days=2), [180], 1200), [note("physical")]),
        mk(alert("Guichet 1", MON + timedelta(days=8), [], 60, AlertState.CANCELLED)),
        mk(alert("Guichet 1", MON + timedelta(days=8, hours=1), [10], 120, test=True)),
    ]


def test_figures_match_the_hand_computed_values() -> None:
    figures = Figures.of(data_set())
    assert (figures.real, figures.false_alarms, figures.drills) == (2, 1, 1)
    assert figures.per_week == {"2026-S47": 2}
    assert figures.per_type == {"verbal": 1, "physical": 1}
    assert figures.per_desk == {"Guichet 1": 1, "Guichet 2": 1}
    assert [d.total_seconds() for d in figures.first_response] == [30, 180]
    assert duration(median(figures.first_response)) == "1:45"
    assert duration(max(figures.first_response)) == "3:00"
    assert [d.total_seconds() for d in figures.to_resolve] == [600, 1200]
    assert duration(median(figures.to_resolve)) == "15:00"
    assert distribution(figures.first_response) == {
        "< 1 min": 1,
        "1-2 min": 0,
        "2-5 min": 1,
        "5-15 min": 0,
        "≥ 15 min": 0,
    }


def test_a_false_alarm_closed_by_a_supervisor_is_not_a_real_alert() -> None:
    """It counted among "alertes réelles" and its answer time among the response times."""
    closed = alert("Guichet 3", MON, [20], 40, AlertState.CANCELLED).model_copy(
        update={"closed_by": "s.a", "false_alarm": True, "summary": "fausse manip"}
    )
    figures = Figures.of([mk(closed), *data_set()])
    assert (figures.real, figures.false_alarms) == (2, 2)
    assert "Guichet 3" not in figures.per_desk
    assert [d.total_seconds() for d in figures.first_response] == [30, 180]


def test_an_unanswered_check_alert_starts_the_timeline_as_raised_by_the_hub() -> None:
    """The hub's alert for an unanswered "Tout va bien ?" read "déclenchée au poste": nobody
    at the desk pressed anything."""
    raised = alert("Guichet 1", MON, [30], 90).model_copy(
        update={"created_at": MON, "no_answer": True}
    )
    rows = timeline(mk(raised), "fr")
    assert rows[0].endswith("(+0:00) alerte levée par le hub : « Tout va bien ? » sans réponse")


def test_times_run_from_the_key_press_not_from_the_hub_reception() -> None:
    """An alert that waited 4 minutes in the outbox waited 4 minutes for help too."""
    queued = alert("Guichet 1", MON, [30], 90).model_copy(
        update={"created_at": MON - timedelta(minutes=4)}
    )
    incident = mk(queued)
    assert incident.first_response == timedelta(minutes=4, seconds=30)
    assert incident.time_to_resolve == timedelta(minutes=5, seconds=30)
    rows = timeline(incident, "fr")
    assert rows[0].endswith("(+0:00) alerte déclenchée au poste")
    assert rows[1].endswith("(+4:00) alerte reçue par le hub")
    assert rows[2].endswith("(+4:30) j'arrive : Sup 0")
    # A desk clock ahead of the hub cannot put the press after the reception.
    ahead = mk(
        alert("Guichet 1", MON, [30], 90).model_copy(
            update={"created_at": MON + timedelta(minutes=2)}
        )
    )
    assert ahead.first_response == timedelta(seconds=30)


def test_without_since_and_until_the_period_is_the_journals_first_and_last_day() -> None:
    """It printed "du … au …"."""
    incidents = data_set()
    assert Period().describe(incidents) == (
        "toutes les alertes enregistrées, du 16/11/2026 au 24/11/2026"
    )
    assert Period().describe([]) == "toutes les alertes enregistrées (aucune)"
    report = report_text(incidents, "fr", None, None, color=False)
    assert report.startswith("Chiffres : toutes les alertes enregistrées, du 16/11/2026 au")
    assert "…" not in report and "…" not in to_markdown(incidents, "fr", None, None)
    assert Period.of_days(date(2026, 11, 1), None).describe(incidents) == "depuis le 01/11/2026"


def desk_journal(tmp_path: Path) -> dict[str, str]:
    """A desk whose journal holds the data set (as the desk app records it), and its env."""
    data = tmp_path / "data"
    journal = Journal(data / "deskalert" / "journal.sqlite3")
    for incident in data_set():
        journal.record_alert(incident.alert)
        for one in incident.notes:
            journal.finish_note(incident.alert.id, NoteDraft(), one)
    old = alert("Guichet 1", datetime.now(UTC) - timedelta(days=400), [5], 50)
    journal.record_alert(old)
    journal.close()
    config = tmp_path / "config.toml"
    config.write_text('[hub]\nurl = "http://127.0.0.1:9"\n[desk]\nid = "guichet-1"\n')
    return {**os.environ, "DESKALERT_CONFIG": str(config), "XDG_DATA_HOME": str(data)}


def run(env: dict[str, str], *args: str) -> Result:
    return run_cli(*args, env=env)


PERIOD = ("--since", "2026-11-01", "--until", "2026-11-30")


def test_export_csv_json_and_markdown_from_the_desk_journal(tmp_path: Path) -> None:
    env = desk_journal(tmp_path)
    rows = list(csv.DictReader(io.StringIO(run(env, "export", "--format", "csv", *PERIOD).stdout)))
    assert len(rows) == 4, "the 400-day-old one is outside the period"
    first = rows[0]
    assert first["desk"] == "guichet-1" and first["type"] == "verbal"
    assert first["first_response_s"] == "30" and first["resolve_s"] == "600"
    assert first["levers"] == "rules" and first["responders"] == "Sup 0; Sup 1"
    assert [r["drill"] for r in rows] == ["0", "0", "0", "1"]

    exported = json.loads(run(env, "export", "--format", "json", *PERIOD).stdout)
    assert len(exported) == 4
    for item in exported:
        Alert.model_validate(item["alert"])
        for one in item["notes"]:
            NoteIn.model_validate(one)

    out = tmp_path / "debrief.md"
    result = run(env, "export", "--format", "md", *PERIOD, "--output", str(out))
    assert result.returncode == 0, result.stderr
    markdown = out.read_text()
    assert markdown.startswith("# Incidents : document de débriefing")
    assert "Période : du 01/11/2026 au 30/11/2026" in markdown and "4 alertes." in markdown
    assert markdown.count("\n## ") == 4 and "EXERCICE" in markdown
    assert "j'arrive : Sup 1" in markdown and "(+1:30)" in markdown
    assert "**Fiche incident** (violence verbale)" in markdown
    assert "- Leviers utilisés : rappel des règles" in markdown
    assert "> Ton qui monte." in markdown


def test_report_prints_the_figures_and_charts(tmp_path: Path) -> None:
    result = run(desk_journal(tmp_path), "report", *PERIOD)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert (
        "2 alertes réelles, 1 exercice (compté à part), 1 fausse alerte (annulée, comptée à part)"
        in text
    )
    assert "2 mesures, médiane 1:45, pire 3:00" in text
    assert "2 mesures, médiane 15:00, pire 20:00" in text
    assert "Incidents par semaine" in text and "2026-S47" in text and "▇" in text
    assert "violence verbale" in text and "sans fiche" not in text, "the false alarm had no note"
    assert "\x1b[" not in text, "no colours when not a terminal"


def test_bad_arguments_are_one_line(tmp_path: Path) -> None:
    env = desk_journal(tmp_path)
    for args in (
        ("export", "--since", "21/11/2026"),
        ("export", "--format", "pdf"),
        ("report", "--since", "2026-11-30", "--until", "2026-11-01"),
        ("export", "--output", str(tmp_path / "missing" / "x.md")),
    ):
        result = run(env, *args)
        assert result.returncode == 2 and "Traceback" not in result.stderr, args
        assert len(result.stderr.strip().splitlines()) <= 3


def test_purge_forgets_what_is_older_than_retention(tmp_path: Path) -> None:
    env = desk_journal(tmp_path)
    result = run(env, "purge")
    assert result.returncode == 0
    assert result.stdout == "1 alerte de plus de 365 jours retirée du journal\n"
    assert len(json.loads(run(env, "export", "--format", "json").stdout)) == 4


def test_a_supervisor_exports_every_desks_shared_notes(hub: RunningHub, tmp_path: Path) -> None:
    ids = []
    for desk in ("g1", "g2"):
        body = new_alert()
        with hub.client(desk) as client:
            client.post("/v1/alerts", json=body).raise_for_status()
            client.post(
                f"/v1/alerts/{body['id']}/notes",
                json={"type": "incivility", "what_happened": f"note {desk}"},
            ).raise_for_status()
        ids.append(body["id"])
    config = tmp_path / "config.toml"
    config.write_text(f'[hub]\nurl = "{hub.url}"\n[supervisor]\nid = "s.a"\n')
    env = {**os.environ, "DESKALERT_CONFIG": str(config), "DESKALERT_TOKEN": "tok-s.a"}
    exported = json.loads(run(env, "export", "--format", "json").stdout)
    assert sorted(i["alert"]["id"] for i in exported) == sorted(ids)
    assert sorted(n["what_happened"] for i in exported for n in i["notes"]) == [
        "note g1",
        "note g2",
    ]
    assert UUID(exported[0]["alert"]["id"])


def test_the_report_counts_interview_sessions_and_unanswered_checks() -> None:
    from deskalert.journal.debrief import report_text
    from deskalert.models import SessionFigures

    figures = SessionFigures(sessions=3, checks=2, answered=1, unanswered=1)
    text = report_text([], "fr", None, None, color=False, sessions=figures)
    assert "3 entretiens suivis, 2 « Tout va bien ? », 1 sans réponse (alerte levée)" in text
    quiet = report_text(
        [],
        "fr",
        None,
        None,
        color=False,
        sessions=SessionFigures(sessions=0, checks=0, answered=0, unanswered=0),
    )
    assert "entretien" not in quiet


def test_charts_write_counts_as_whole_numbers() -> None:
    """plotext prints 2 decimals; a count of alerts is "3", not "3.00" (plain and coloured)."""
    from deskalert.journal.debrief import _chart

    for color in (False, True):
        chart = _chart("Alertes", {"renfort": 1, "malaise": 3}, color, 60)
        assert ".00" not in chart
    plain = _chart("Alertes", {"renfort": 1, "malaise": 3}, False, 60).splitlines()
    assert [line.split()[-1] for line in plain if line.startswith(("renfort", "malaise"))] == [
        "1",
        "3",
    ]
