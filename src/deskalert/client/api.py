"""A typed async client for the hub's API; every failure is a DeskAlertError with one line."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Self
from uuid import UUID

import httpx

from deskalert.errors import (
    Conflict,
    DeskAlertError,
    Forbidden,
    HubError,
    NotFound,
    StoreUnavailable,
    Unauthorized,
    Unprocessable,
)
from deskalert.models import (
    Alert,
    AlertCode,
    AlertIn,
    DeskPresence,
    Event,
    Health,
    HeartbeatOut,
    Note,
    NoteIn,
    OnCall,
    Presence,
)

REQUEST_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
PAGE_SIZE = 500
ERRORS_BY_STATUS: dict[int, type[HubError]] = {
    401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 422: Unprocessable,
    503: StoreUnavailable,
}


class HubUnreachable(DeskAlertError):
    """The hub did not answer (network down, hub stopped, timeout)."""


class HubClient:
    """One httpx.AsyncClient with the caller's token; methods return the shared models."""

    def __init__(self, base_url: str, token: str, *, timeout: httpx.Timeout = REQUEST_TIMEOUT) -> None:
        self.base_url = base_url
        self._http = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise HubUnreachable(f"hub {self.base_url} unreachable: {exc.__class__.__name__}") from None
        if response.is_success:
            return response
        raise hub_error(response)

    async def raise_alert(self, alert: AlertIn) -> tuple[Alert, bool]:
        """(stored alert, created now); the same id again is answered 200 and stored once; the
        same id with another body is a Conflict (409, `alert_id_reused`): never a success."""
        response = await self._request("POST", "/v1/alerts", json=alert.model_dump(mode="json"))
        return Alert.model_validate_json(response.content), response.status_code == 201

    async def acknowledge(self, alert_id: UUID) -> Alert:
        return Alert.model_validate_json((await self._request("POST", f"/v1/alerts/{alert_id}/ack")).content)

    async def resolve(self, alert_id: UUID, summary: str | None = None) -> Alert:
        response = await self._request("POST", f"/v1/alerts/{alert_id}/resolve", json={"summary": summary})
        return Alert.model_validate_json(response.content)

    async def cancel(self, alert_id: UUID, reason: str | None = None) -> Alert:
        response = await self._request("POST", f"/v1/alerts/{alert_id}/cancel", json={"reason": reason})
        return Alert.model_validate_json(response.content)

    async def _all_pages(self, path: str, params: dict[str, Any]) -> list[Any]:
        """Every item of a paged list: follows `Link: rel="next"` until the last page."""
        items: list[Any] = []
        params = {**params, "limit": PAGE_SIZE}
        while True:
            response = await self._request("GET", path, params=params)
            items.extend(response.json())
            cursor = _next_cursor(response)
            if cursor is None or cursor == params.get("cursor"):
                return items
            params = {**params, "cursor": cursor}

    async def alerts(self, *, state: str = "open", site: str | None = None) -> list[Alert]:
        """Every alert (all pages), newest first; `state="open"`: open or acknowledged."""
        params = {"state": state, **({"site": site} if site else {})}
        return [Alert.model_validate(a) for a in await self._all_pages("/v1/alerts", params)]

    async def history(self, alert_id: UUID) -> list[Event]:
        response = await self._request("GET", f"/v1/alerts/{alert_id}/events")
        return [Event.model_validate(e) for e in response.json()]

    async def alerts_since(self, since: datetime) -> list[Alert]:
        """Every alert (any state) received since `since`: the history of the day."""
        params = {"state": "all", "since": since.isoformat()}
        return [Alert.model_validate(a) for a in await self._all_pages("/v1/alerts", params)]

    async def take_oncall(self, site: str, until: datetime) -> OnCall:
        body = {"site": site, "until": until.isoformat()}
        response = await self._request("POST", "/v1/oncall/override", json=body)
        return OnCall.model_validate_json(response.content)

    async def share_note(self, alert_id: UUID, note: NoteIn) -> Note:
        response = await self._request("POST", f"/v1/alerts/{alert_id}/notes",
                                       json=note.model_dump(mode="json"))
        return Note.model_validate_json(response.content)

    async def notes(self, *, since: datetime | None = None,
                    until: datetime | None = None) -> list[Note]:
        """Every note shared in the period (all pages), oldest first."""
        params = {k: v.isoformat() for k, v in (("since", since), ("until", until)) if v}
        return [Note.model_validate(n) for n in await self._all_pages("/v1/notes", params)]

    async def codes(self) -> list[AlertCode]:
        return [AlertCode.model_validate(c) for c in (await self._request("GET", "/v1/codes")).json()]

    async def oncall(self, site: str | None = None) -> list[OnCall]:
        params = {"site": site} if site else {}
        response = await self._request("GET", "/v1/oncall", params=params)
        return [OnCall.model_validate(c) for c in response.json()]

    async def desks(self) -> list[DeskPresence]:
        return [DeskPresence.model_validate(d) for d in (await self._request("GET", "/v1/desks")).json()]

    async def presence(self, site: str | None = None) -> Presence:
        """Supervisors: desks online or not, and the tokens the hub refused lately."""
        params = {"site": site} if site else {}
        return Presence.model_validate_json((await self._request("GET", "/v1/presence",
                                                                 params=params)).content)

    async def heartbeat(self) -> HeartbeatOut:
        """Keeps this desk or supervisor online; the answer gives the hub's heartbeat interval."""
        return HeartbeatOut.model_validate_json((await self._request("POST", "/v1/heartbeat")).content)

    async def heartbeat_forever(self) -> None:
        """Keep this desk or supervisor online at the hub's interval; a failed beat is retried at
        the next one (the event follower is what reports the link as down)."""
        interval = 5.0
        while True:
            try:
                interval = (await self.heartbeat()).heartbeat_s
            except DeskAlertError:
                pass
            await asyncio.sleep(interval)

    async def health(self) -> Health:
        """The hub's state, also when degraded (503): its last event id starts a follower."""
        try:
            response = await self._http.get("/healthz")
        except httpx.HTTPError as exc:
            raise HubUnreachable(f"hub {self.base_url} unreachable: {exc.__class__.__name__}") from None
        if response.status_code not in (200, 503):
            raise hub_error(response)
        return Health.model_validate_json(response.content)


def _next_cursor(response: httpx.Response) -> str | None:
    """The cursor in `Link: <?...&cursor=...>; rel="next"`, if there is a next page."""
    link = response.links.get("next")
    if link is None:
        return None
    cursor = httpx.URL(link["url"]).params.get("cursor")
    return str(cursor) if cursor else None


def hub_error(response: httpx.Response) -> HubError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "detail" not in body:
        body = {"error": "http_error", "detail": f"HTTP {response.status_code} from the hub"}
    error_class = ERRORS_BY_STATUS.get(response.status_code, HubError)
    error = error_class(
        str(body["detail"]), code=str(body.get("error", "http_error")), state=body.get("state")
    )
    error.status = response.status_code
    return error
