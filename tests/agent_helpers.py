"""The agents' page: a phone enrolled with a one-time code, as the tests reach it over HTTP."""

from __future__ import annotations

import httpx

from deskalert.hub.agent_links import PHONE_PURPOSE
from deskalert.hub.enrol import issue
from support.hubs import RunningHub


def phone_code(hub: RunningHub, who: str, minutes: float = 15, purpose: str = PHONE_PURPOSE) -> str:
    """A phone link's one-time code for `who`, made on the hub's store thread (as `deskalert
    hub enrol ID --phone` makes one in the database); `purpose="enrol"`: a workstation's."""
    running = hub.hub
    return running.runtime.executor.submit(
        lambda: issue(running.store, who, minutes, running.clock.now(), purpose)
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
