"""The agents' page: a phone enrolled with a one-time code, as the tests reach it over HTTP."""

from __future__ import annotations

import httpx

from deskalert.hub.enrol import issue
from support.hubs import RunningHub


def phone_code(hub: RunningHub, desk: str, minutes: float = 15) -> str:
    """A one-time enrolment code for `desk`, made on the hub's store thread (as `deskalert hub
    enrol` makes one in the database)."""
    running = hub.hub
    return running.runtime.executor.submit(
        lambda: issue(running.store, desk, minutes, running.clock.now())
    ).result()


def enrol_phone(hub: RunningHub, code: str) -> httpx.Response:
    return httpx.post(
        f"{hub.url}/page/api/agent/session", json={"code": code}, headers={"Origin": hub.url}
    )


def phone_headers(hub: RunningHub, desk: str) -> dict[str, str]:
    """A phone enrolled as `desk`: its cookie and the page's Origin, as its requests carry."""
    response = enrol_phone(hub, phone_code(hub, desk))
    assert response.status_code == 200, response.text
    return {"Cookie": response.headers["set-cookie"].split(";")[0], "Origin": hub.url}
