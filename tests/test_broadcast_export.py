"""The supervisors' messages (broadcasts) in the debrief: the hub lists those of a period
(`state=all`), and a supervisor's `deskalert export` (Markdown, CSV, JSON) and `report`, in
French and English, say when each was sent and by whom, its kind, text and sites, which desk
read it and when, which never did, and when it ended. A real hub on a ManualClock, the real
command in this process (support.cli.run_cli)."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from broadcast_helpers import post, send
from deskalert.hub.clock import ManualClock
from deskalert.models import Broadcast
from support.cli import Result, run_cli
from support.hubs import RunningHub

# One hub's HTTP API (routes, validation, permissions, answers): the same whatever the store,
# so SQLite only. The store's SQL is checked on SQLite and PostgreSQL in test_store_contract*.py;
# hubs sharing PostgreSQL in test_replicas.py, test_failover.py (docs/test-ids-issue-22.md).
pytestmark = pytest.mark.stores("sqlite")

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def two_broadcasts(hub: RunningHub) -> tuple[dict[str, Any], dict[str, Any]]:
    """09:00Z s.a warns accueil (g1, g2, d00); g1 reads at 09:01:30, the others never do;
    s.a ends it at 09:02:30. 09:12:30Z s.c evacuates etage (e1), e1 reads, still current."""
    warning = send(hub).json()
    hub.advance(90)
    post(hub, "g1", f"/v1/broadcasts/{warning['id']}/read")
    hub.advance(60)
    post(hub, "s.a", f"/v1/broadcasts/{warning['id']}/end")
    hub.advance(600)
    evacuation = send(hub, "s.c", template="evacuation", sites=["etage"]).json()
    hub.advance(60)
    post(hub, "e1", f"/v1/broadcasts/{evacuation['id']}/read")
    return warning, evacuation


def listed(hub: RunningHub, who: str, **params: str) -> Any:
    with hub.client(who) as client:
        return client.get("/v1/broadcasts", params={"state": "all", **params})


def test_the_hub_lists_the_broadcasts_of_a_period_ended_or_not_paged_and_per_site(
    bc_hub: Callable[..., RunningHub],
) -> None:
    hub = bc_hub(clock=ManualClock(T0))
    warning, evacuation = two_broadcasts(hub)
    answer = listed(hub, "s.a")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert [b["id"] for b in found] == [warning["id"], evacuation["id"]]
    assert found[0]["state"] == "ended" and found[0]["ended_by_name"] == "Ana Sup"
    assert [r["desk"] for r in found[0]["reads"]] == ["g1"]
    assert found[0]["unread_named_at"] is not None
    # s.c sends to etage only: accueil's warning is not theirs to read.
    assert [b["id"] for b in listed(hub, "s.c").json()] == [evacuation["id"]]
    assert [b["id"] for b in listed(hub, "g2").json()] == [warning["id"]]
    # The period: sent in [since, until).
    later = listed(hub, "s.a", since="2026-11-20T09:05:00Z").json()
    assert [b["id"] for b in later] == [evacuation["id"]]
    assert listed(hub, "s.a", until="2026-11-20T09:00:00Z").json() == []
    # Paged like the notes: a Link to the next page.
    first = listed(hub, "s.a", limit="1")
    assert [b["id"] for b in first.json()] == [warning["id"]]
    with hub.client("s.a") as client:
        rest = client.get("/v1/broadcasts" + first.headers["Link"].split(">")[0][1:])
    assert [b["id"] for b in rest.json()] == [evacuation["id"]]
    for params, status in (({"since": "2026-11-20T09:00:00"}, 422), ({"cursor": "x"}, 400)):
        refused = listed(hub, "s.a", **params)
        assert refused.status_code == status and "\n" not in refused.json()["detail"]


def run(env: dict[str, str], *args: str) -> Result:
    return run_cli(*args, env=env)


def supervisor_env(hub: RunningHub, tmp_path: Path, who: str, language: str) -> dict[str, str]:
    config = tmp_path / f"{who}-{language}.toml"
    config.write_text(
        f'language = "{language}"\n[hub]\nurl = "{hub.url}"\n[supervisor]\nid = "{who}"\n'
    )
    return {
        **os.environ,
        "DESKALERT_CONFIG": str(config),
        "DESKALERT_TOKEN": f"tok-{who}",
        "TZ": "Europe/Paris",
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }


@pytest.mark.stores("sqlite")
def test_a_supervisors_export_and_report_carry_the_broadcasts_in_french_and_english(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = bc_hub(clock=ManualClock(T0))
    warning, evacuation = two_broadcasts(hub)
    fr = supervisor_env(hub, tmp_path, "s.a", "fr")

    markdown = run(fr, "export", "--format", "md")
    assert markdown.returncode == 0, markdown.stderr
    assert (
        "# Messages de l'encadrement\n\n2 messages.\n\n"
        "- 20/11/2026 10:00 — Vigilance — Une personne agitée se dirige vers les guichets."
        " (Ana Sup)\n"
        "  - Sites : accueil\n"
        "  - Lu 1/3 : Desk g1 10:01\n"
        "  - Jamais lu : Desk g2, Desk d00\n"
        "  - Terminé à 10:02 par Ana Sup\n"
        "- 20/11/2026 10:12 — Évacuation — Évacuation du bâtiment : sortez par l'issue la plus"
        " proche. (Cleo Sup)\n"
        "  - Sites : etage\n"
        "  - Lu 1/1 : Desk e1 10:13\n"
        "  - Toujours en cours\n"
    ) in markdown.stdout

    english = run(supervisor_env(hub, tmp_path, "s.a", "en"), "export", "--format", "md")
    assert (
        "# Messages from supervisors\n\n2 messages.\n\n"
        "- 20 Nov 2026 10:00 — Be alert — An agitated person is heading towards the desks."
        " (Ana Sup)\n"
        "  - Sites: accueil\n"
        "  - Read 1/3: Desk g1 10:01\n"
        "  - Never read: Desk g2, Desk d00\n"
        "  - Ended at 10:02 by Ana Sup\n"
    ) in english.stdout
    assert "Building evacuation: leave by the nearest exit. (Cleo Sup)" in english.stdout
    assert "  - Still current\n" in english.stdout

    rows = list(
        csv.DictReader(io.StringIO(run(fr, "export", "--format", "csv", "--broadcasts").stdout))
    )
    assert [(r["desk"], r["read_at"]) for r in rows] == [
        ("g1", "2026-11-20T09:01:30+00:00"),
        ("g2", ""),
        ("d00", ""),
        ("e1", "2026-11-20T09:13:30+00:00"),
    ]
    first = rows[0]
    assert first["sent_at"] == "2026-11-20T09:00:00+00:00" and first["sender_name"] == "Ana Sup"
    assert first["kind"] == "vigilance" and first["label"] == "Vigilance"
    assert first["sites"] == "accueil" and first["ended_at"] == "2026-11-20T09:02:30+00:00"
    assert first["ended_by"] == "s.a" and rows[3]["ended_at"] == ""
    english_rows = run(
        supervisor_env(hub, tmp_path, "s.a", "en"), "export", "--format", "csv", "--broadcasts"
    ).stdout
    assert "Be alert,An agitated person is heading towards the desks." in english_rows

    exported = json.loads(run(fr, "export", "--format", "json", "--broadcasts").stdout)
    assert [Broadcast.model_validate(b).id for b in exported] == [
        Broadcast.model_validate(warning).id,
        Broadcast.model_validate(evacuation).id,
    ]
    assert [b["unread"] for b in exported] == [["g2", "d00"], []]

    incidents_only = run(fr, "export", "--format", "json")
    assert json.loads(incidents_only.stdout) == []  # the incidents' shape is kept
    assert "2 messages de l'encadrement dans la période, à part : --broadcasts les exporte" in (
        incidents_only.stderr
    )

    written = tmp_path / "messages.csv"
    result = run(fr, "export", "--format", "csv", "--broadcasts", "--output", str(written))
    assert result.stderr == f"2 messages -> {written}\n" and written.read_text().count("\n") == 5

    report = run(fr, "report")
    assert "2 messages de l'encadrement ; lectures : 2/4" in report.stdout
    report_en = run(supervisor_env(hub, tmp_path, "s.a", "en"), "report")
    assert "2 messages from supervisors; reads: 2/4" in report_en.stdout


@pytest.mark.stores("sqlite")
def test_a_supervisor_of_one_site_exports_only_that_sites_broadcasts(
    bc_hub: Callable[..., RunningHub], tmp_path: Path
) -> None:
    hub = bc_hub(clock=ManualClock(T0))
    two_broadcasts(hub)
    hub.advance(60)
    send(hub, "s.c", template="agite", sites=["etage"])  # current, e1 has not read it yet
    env = supervisor_env(hub, tmp_path, "s.c", "fr")
    exported = run(env, "export", "--format", "json", "--broadcasts")
    assert [b["sites"] for b in json.loads(exported.stdout)] == [["etage"], ["etage"]]
    markdown = run(env, "export", "--broadcasts").stdout
    assert "  - Lu 0/1\n  - Pas encore lu : Desk e1\n  - Toujours en cours\n" in markdown
    since = run(
        supervisor_env(hub, tmp_path, "s.a", "fr"),
        "export",
        "--broadcasts",
        "--since",
        "2026-11-21",
    )
    assert since.returncode == 0 and "0 message." in since.stdout
