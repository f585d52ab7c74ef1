"""The roster's `[broadcasts]` follows a reload like the rest of the roster: the hub's catalog,
its checks on a send, and the pane's list of templates; and it is part of the roster's
fingerprint, so two hubs on one database cannot serve two sets of templates.

Regression: the section was neither reloaded nor in the fingerprint; a reload left the old
templates in force until a restart, and a hub with other templates started beside the others."""

from __future__ import annotations

import tomllib
import uuid
from pathlib import Path

import pytest

from desk_helpers import in_thread, make_pane, wait_until
from deskalert.hub.one_roster import difference, roster_fingerprint, summary
from deskalert.hub.settings import HubConfig
from support.hubs import RunningHub
from support.roster import make_config, roster_toml
from test_reload_screens import reload_now

pytestmark = pytest.mark.stores("sqlite")
PARCEL = (
    "[broadcasts]\nunread_after_s = 90\n\n"
    '[[broadcasts.templates]]\nid = "colis"\nkind = "vigilance"\n'
    'text = "Colis suspect dans le hall : ne le touchez pas."\n'
    'text_en = "Suspicious parcel in the hall: do not touch it."\n'
)


def with_parcel() -> str:
    """The test roster whose only template is "colis" (it replaces the built-in ones)."""
    return roster_toml() + "\n" + PARCEL


def test_the_broadcasts_section_is_in_the_roster_fingerprint() -> None:
    before = make_config()
    after = HubConfig.model_validate(tomllib.loads(with_parcel()))
    assert roster_fingerprint(before) != roster_fingerprint(after)
    assert difference(summary(after), summary(before)) == "broadcasts"


def test_a_reload_brings_the_new_templates_to_the_hub(
    reloadable: tuple[RunningHub, Path],
) -> None:
    hub, path = reloadable
    with hub.client("s.a") as client:
        before = client.get("/v1/broadcasts/catalog").json()
    assert "colis" not in [t["id"] for t in before["templates"]]

    path.write_text(with_parcel(), encoding="utf-8")
    ok, line = reload_now(hub)
    assert ok and "broadcasts" in line, line

    with hub.client("s.a") as client:
        after = client.get("/v1/broadcasts/catalog").json()
        sent = client.post(
            "/v1/broadcasts",
            json={"id": str(uuid.uuid4()), "template": "colis", "sites": ["accueil"]},
        )
        old = client.post(
            "/v1/broadcasts",
            json={"id": str(uuid.uuid4()), "template": "agite", "sites": ["accueil"]},
        )
    assert [t["id"] for t in after["templates"]] == ["colis"]
    assert after["unread_after_s"] == 90
    assert sent.status_code == 201, sent.text
    assert sent.json()["unread_after_s"] == 90
    assert old.status_code == 422 and old.json()["error"] == "unknown_template"


def test_a_reload_brings_new_sites_and_desks_to_broadcasts(
    reloadable: tuple[RunningHub, Path],
) -> None:
    hub, path = reloadable
    path.write_text(roster_toml(extra_desks=2), encoding="utf-8")
    ok, line = reload_now(hub)
    assert ok, line
    with hub.client("s.a") as client:
        sent = client.post(
            "/v1/broadcasts",
            json={"id": str(uuid.uuid4()), "template": "agite", "sites": ["accueil"]},
        )
    assert sent.status_code == 201, sent.text
    assert {"d00", "d01"} <= {d["id"] for d in sent.json()["desks"]}


async def test_the_pane_offers_the_new_templates_after_a_reload(
    reloadable: tuple[RunningHub, Path],
) -> None:
    hub, path = reloadable
    app = make_pane(hub.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_until(pilot, lambda: app.broadcasts.catalog is not None, what="loaded")
        assert "colis" not in [t.id for t in app.broadcasts.catalog.templates]
        path.write_text(with_parcel(), encoding="utf-8")
        ok, line = await in_thread(lambda: reload_now(hub))
        assert ok, line
        await wait_until(
            pilot,
            lambda: [t.id for t in app.broadcasts.catalog.templates] == ["colis"],
            what="the new template in the pane",
        )


def test_each_config_has_its_own_built_in_kinds_and_templates() -> None:
    """Changing one config's built-in kind (a reload's swap, a test) leaves the others as built."""
    from deskalert.hub.broadcast_roster import BroadcastSection

    first, second = BroadcastSection(), BroadcastSection()
    first.kinds[0].label = "changed"
    first.templates[0].text = "changed"
    assert second.kinds[0].label != "changed"
    assert second.templates[0].text != "changed"
