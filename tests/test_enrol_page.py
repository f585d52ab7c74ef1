"""A supervisor's phone joins in one step: `deskalert hub enrol ID --page` prints a one-time
link (and its QR code) that opens the page once and sets its session cookie; a link used,
expired or unknown opens a page that refuses in one line (403), logged and counted with the
refused tokens; the supervisor's token does not change. Over HTTP against a hub process, with
the command line as the administrator types it (the page's own drawing: test_enrol_page_browser)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from support.hubs import HubProcess
from test_enrol import run


def page_link(hub: HubProcess, tmp_path: Path, who: str, *more: str) -> str:
    done = run(
        hub,
        "hub",
        "enrol",
        who,
        "--page",
        "--config",
        str(tmp_path / "hub.toml"),
        "--data-dir",
        str(tmp_path / "data"),
        "--url",
        hub.url,
        *more,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"lien à usage unique vers la page pour {who}, valable")
    link = lines[1]  # alone on its line, the same in every language
    assert link.startswith(f"{hub.url}/page/enrol/")
    assert sum(1 for line in lines if "█" in line) > 10  # the link as a QR code
    return link


def spend(hub: HubProcess, link: str) -> httpx.Response:
    """What the page's script does with the link: a POST from the hub's own page."""
    code = urlsplit(link).path.rsplit("/", 1)[1]
    return httpx.post(
        f"{hub.url}/page/api/session",
        json={"enrol": code},
        headers={"Origin": hub.url},
        timeout=5,
    )


def test_a_page_link_opens_the_page_once_and_leaves_the_token_alone(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    hub = hub_process()
    link = page_link(hub, tmp_path, "s.b")
    assert httpx.get(link, timeout=5).status_code == 200  # a preview's GET spends nothing

    opened = spend(hub, link)

    assert opened.status_code == 200, opened.text
    assert opened.json()["supervisor"] == "s.b" and opened.json()["alert"] is None
    cookie = {"Cookie": opened.headers["set-cookie"].split(";")[0]}
    me = httpx.get(f"{hub.url}/page/api/me", headers=cookie, timeout=5)
    assert me.status_code == 200 and me.json()["name"] == "Bob Sup"
    again = spend(hub, link)
    assert again.status_code == 403 and again.json()["error"] == "page_link_used"
    assert "already used" in again.json()["detail"]
    page = httpx.get(link, timeout=5)
    assert page.status_code == 403 and 'data-link="enrol-used"' in page.text
    token = httpx.get(f"{hub.url}/v1/codes", headers={"Authorization": "Bearer tok-s.b"}, timeout=5)
    assert token.status_code == 200  # the supervisor's token still works


def test_an_expired_or_unknown_page_link_is_refused_and_counted(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    hub = hub_process()
    link = page_link(hub, tmp_path, "s.a", "--minutes", "0.02")  # about a second
    time.sleep(1.5)
    expired = httpx.get(link, timeout=5, headers={"Accept-Language": "en"})
    assert expired.status_code == 403
    assert 'data-link="enrol-expired"' in expired.text and 'lang="en"' in expired.text
    assert spend(hub, link).json()["error"] == "page_link_expired"
    unknown = f"{hub.url}/page/enrol/AAAA-BBBB-CCCC"
    assert httpx.get(unknown, timeout=5).status_code == 403
    assert spend(hub, unknown).json()["error"] == "page_link_unknown"
    garbled = httpx.get(f"{hub.url}/page/enrol/{'A' * 300}", timeout=5)  # a page, not JSON
    assert garbled.status_code == 403 and 'data-link="enrol-unknown"' in garbled.text
    presence = httpx.get(
        f"{hub.url}/v1/presence", headers={"Authorization": "Bearer tok-s.a"}, timeout=5
    ).json()
    assert sum(t["count"] for t in presence["refused_tokens"]) == 5


def test_a_page_link_is_no_enrolment_code_and_a_desk_gets_none(
    hub_process: Callable[..., HubProcess], tmp_path: Path
) -> None:
    hub = hub_process()
    code = urlsplit(page_link(hub, tmp_path, "s.a")).path.rsplit("/", 1)[1]
    as_code = httpx.post(f"{hub.url}/v1/enrol", json={"code": code}, timeout=5)
    assert as_code.status_code == 403 and as_code.json()["error"] == "enrol_unknown"
    desk = run(
        hub,
        "hub",
        "enrol",
        "g1",
        "--page",
        "--config",
        str(tmp_path / "hub.toml"),
        "--data-dir",
        str(tmp_path / "data"),
        "--url",
        hub.url,
    )
    assert desk.returncode == 2 and len(desk.stderr.splitlines()) == 1
    assert "g1 est un poste ; la page est pour les encadrants" in desk.stderr
