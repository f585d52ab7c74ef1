"""A typed async client for the hub's API; every failure is a DeskAlertError with one line.

Whatever answers, the caller gets either the shared models or a typed error (errors.py): no
network, a timeout, a 5xx, a refused token, and an answer that is not the hub's (a proxy's HTML
login page served with 200, JSON of another shape from an older or newer hub) each have their
own class (the mapping: api_errors.py); pydantic and JSON errors never escape from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self, TypeVar
from uuid import UUID

import httpx
from pydantic import TypeAdapter, ValidationError

from deskalert.client.api_errors import (
    all_down,
    describe_answer,
    hub_error,
    is_json,
    unreachable,
)
from deskalert.client.hubs import Hubs, is_outage
from deskalert.errors import DeskAlertError, HubIncompatible
from deskalert.models import (
    Alert,
    AlertCode,
    AlertIn,
    Broadcast,
    BroadcastCatalog,
    BroadcastIn,
    Check,
    CheckAnswer,
    DeskPresence,
    Event,
    Health,
    HeartbeatOut,
    InterviewSession,
    Note,
    NoteIn,
    OnCall,
    Presence,
    SessionFigures,
    SiteAvailability,
)

REQUEST_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# An alert with another hub to go to: a hub that has not stored it within this is passed over
# and the same id sent to the next (a frozen hub accepts connections and never answers; a
# healthy one answers in milliseconds: bench/results.md). Resending is safe: same id, one alert.
ALERT_FAILOVER_TIMEOUT = httpx.Timeout(1.5, connect=1.0)
PAGE_SIZE = 500

# Transport failures that happen before the request leaves: safe to send it to another hub.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

T = TypeVar("T")


class HubClient:
    """The caller's token on one hub or several (client/hubs.py); methods return the models.

    Each request goes to the hub in use; when that hub is down (`is_outage`) the same request
    goes to the next one, in the listed order, and the one that answers is used from then on.
    A request is sent to a second hub only if sending it twice is harmless (`replayable`: reads,
    an alert under its own id, a heartbeat, a j'arrive, a note) or if it never reached the first
    (no connection, a 502/503 or a proxy's page): a cancel whose answer was lost is not repeated
    elsewhere, its error is shown and the person decides.
    """

    def __init__(
        self,
        hubs: str | Sequence[str] | Hubs,
        token: str,
        *,
        timeout: httpx.Timeout = REQUEST_TIMEOUT,
    ) -> None:
        self.hubs = Hubs.of(hubs)
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = timeout
        self._clients: dict[int, httpx.AsyncClient] = {}

    @property
    def base_url(self) -> str:
        """The URL of the hub in use."""
        return self.hubs.url

    def _http(self, index: int) -> httpx.AsyncClient:
        """The connection pool of hub `index`, made at its first use."""
        if index not in self._clients:
            self._clients[index] = httpx.AsyncClient(
                base_url=self.hubs.urls[index], headers=self._headers, timeout=self._timeout
            )
        return self._clients[index]

    async def aclose(self) -> None:
        for http in self._clients.values():
            await http.aclose()
        self._clients.clear()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _request(
        self, method: str, path: str, *, replayable: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """The first hub's answer that is not an outage; the first outage if all are down."""
        replay = method == "GET" if replayable is None else replayable
        errors: list[DeskAlertError] = []
        for index in self.hubs.order():
            try:
                response = await self._send(index, method, path, **kwargs)
            except _Down as down:
                errors.append(down.error)
                if down.maybe_handled and not replay:
                    raise down.error from None
                continue
            self.hubs.settle(index)
            return response
        raise all_down(errors)

    async def _send(self, index: int, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One hub's successful answer; its refusal raised as is; `_Down` if it is not there."""
        url = self.hubs.urls[index]
        try:
            response = await self._http(index).request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _Down(unreachable(url, exc), not isinstance(exc, NOT_SENT)) from None
        error: DeskAlertError
        if response.is_success:
            if is_json(response):
                return response
            error = HubIncompatible(describe_answer(response))
        else:
            error = hub_error(response)
        if not is_outage(error):
            self.hubs.settle(index)
            raise error
        raise _Down(error, response.status_code == 504)

    async def raise_alert(self, alert: AlertIn) -> tuple[Alert, bool]:
        """(stored alert, created now); the same id again is answered 200 and stored once; the
        same id with another body is a Conflict (409, `alert_id_reused`): never a success."""
        extra = {"timeout": ALERT_FAILOVER_TIMEOUT} if len(self.hubs.urls) > 1 else {}
        response = await self._request(
            "POST", "/v1/alerts", json=alert.model_dump(mode="json"), replayable=True, **extra
        )
        return parsed(Alert, response), response.status_code == 201

    async def acknowledge(self, alert_id: UUID) -> Alert:
        """J'arrive; said twice by the same person it is stored once (replayable)."""
        return parsed(
            Alert, await self._request("POST", f"/v1/alerts/{alert_id}/ack", replayable=True)
        )

    async def resolve(self, alert_id: UUID, summary: str | None = None) -> Alert:
        response = await self._request(
            "POST", f"/v1/alerts/{alert_id}/resolve", json={"summary": summary}
        )
        return parsed(Alert, response)

    async def cancel(self, alert_id: UUID, reason: str | None = None) -> Alert:
        response = await self._request(
            "POST", f"/v1/alerts/{alert_id}/cancel", json={"reason": reason}
        )
        return parsed(Alert, response)

    # -- the interview timer and "tout va bien ?" checks ------------------------------------

    async def start_session(self, room: str, minutes: float) -> InterviewSession:
        response = await self._request(
            "POST", "/v1/sessions", json={"room": room, "minutes": minutes}
        )
        return parsed(InterviewSession, response)

    async def extend_session(self, session_id: UUID, minutes: float) -> InterviewSession:
        response = await self._request(
            "POST", f"/v1/sessions/{session_id}/extend", json={"minutes": minutes}
        )
        return parsed(InterviewSession, response)

    async def close_session(self, session_id: UUID) -> InterviewSession:
        return parsed(
            InterviewSession, await self._request("POST", f"/v1/sessions/{session_id}/close")
        )

    async def sessions(self, site: str | None = None) -> list[InterviewSession]:
        params = {"site": site} if site else {}
        return parsed(
            list[InterviewSession], await self._request("GET", "/v1/sessions", params=params)
        )

    async def session_figures(
        self, since: datetime | None, until: datetime | None
    ) -> SessionFigures:
        """Supervisors: interview sessions and checks of the period (their sites)."""
        params = {k: v.isoformat() for k, v in (("since", since), ("until", until)) if v}
        return parsed(
            SessionFigures, await self._request("GET", "/v1/sessions/figures", params=params)
        )

    async def checks(self) -> list[Check]:
        return parsed(list[Check], await self._request("GET", "/v1/checks"))

    async def ask_check(self, desk: str) -> Check:
        return parsed(Check, await self._request("POST", "/v1/checks", json={"desk": desk}))

    async def answer_check(
        self, check_id: UUID, answer: CheckAnswer, extend_min: float | None = None
    ) -> Check:
        body = {"answer": answer.value, "extend_min": extend_min}
        return parsed(
            Check, await self._request("POST", f"/v1/checks/{check_id}/answer", json=body)
        )

    async def broadcasts(self) -> list[Broadcast]:
        """The current broadcasts of the caller's sites (a desk: its own)."""
        return parsed(list[Broadcast], await self._request("GET", "/v1/broadcasts"))

    async def broadcasts_sent(
        self, since: datetime | None, until: datetime | None
    ) -> list[Broadcast]:
        """Supervisors: every broadcast sent to their sites in the period, current or ended,
        with its reads (all pages), oldest first."""
        params = {"state": "all"}
        params |= {k: v.isoformat() for k, v in (("since", since), ("until", until)) if v}
        return await self._all_pages(Broadcast, "/v1/broadcasts", params)

    async def broadcast_catalog(self) -> BroadcastCatalog:
        return parsed(BroadcastCatalog, await self._request("GET", "/v1/broadcasts/catalog"))

    async def send_broadcast(self, broadcast: BroadcastIn) -> Broadcast:
        """Sent again to another hub if need be: the id makes it stored once."""
        return parsed(
            Broadcast,
            await self._request(
                "POST",
                "/v1/broadcasts",
                json=broadcast.model_dump(mode="json", exclude_none=True),
                replayable=True,
            ),
        )

    async def read_broadcast(self, broadcast_id: UUID) -> Broadcast:
        """This desk's "lu" (stored once, so sent again safely)."""
        return parsed(
            Broadcast,
            await self._request("POST", f"/v1/broadcasts/{broadcast_id}/read", replayable=True),
        )

    async def end_broadcast(self, broadcast_id: UUID) -> Broadcast:
        return parsed(
            Broadcast,
            await self._request("POST", f"/v1/broadcasts/{broadcast_id}/end", replayable=True),
        )

    async def _all_pages(self, model: type[T], path: str, params: dict[str, Any]) -> list[T]:
        """Every item of a paged list: follows `Link: rel="next"` until the last page."""
        items: list[T] = []
        params = {**params, "limit": PAGE_SIZE}
        while True:
            response = await self._request("GET", path, params=params)
            items.extend(parsed(list[model], response))  # type: ignore[valid-type]
            cursor = _next_cursor(response)
            if cursor is None or cursor == params.get("cursor"):
                return items
            params = {**params, "cursor": cursor}

    async def alerts(self, *, state: str = "open", site: str | None = None) -> list[Alert]:
        """Every alert (all pages), newest first; `state="open"`: open or acknowledged."""
        params = {"state": state, **({"site": site} if site else {})}
        return await self._all_pages(Alert, "/v1/alerts", params)

    async def history(self, alert_id: UUID) -> list[Event]:
        response = await self._request("GET", f"/v1/alerts/{alert_id}/events")
        return parsed(list[Event], response)

    async def alerts_since(self, since: datetime) -> list[Alert]:
        """Every alert (any state) received since `since`: the history of the day."""
        params = {"state": "all", "since": since.isoformat()}
        return await self._all_pages(Alert, "/v1/alerts", params)

    async def take_oncall(self, site: str, until: datetime) -> OnCall:
        body = {"site": site, "until": until.isoformat()}
        response = await self._request("POST", "/v1/oncall/override", json=body)
        return parsed(OnCall, response)

    async def share_note(self, alert_id: UUID, note: NoteIn) -> Note:
        response = await self._request(
            "POST",
            f"/v1/alerts/{alert_id}/notes",
            json=note.model_dump(mode="json"),
            replayable=True,
        )
        return parsed(Note, response)

    async def notes(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Note]:
        """Every note shared in the period (all pages), oldest first."""
        params = {k: v.isoformat() for k, v in (("since", since), ("until", until)) if v}
        return await self._all_pages(Note, "/v1/notes", params)

    async def codes(self) -> list[AlertCode]:
        return parsed(list[AlertCode], await self._request("GET", "/v1/codes"))

    async def oncall(self, site: str | None = None) -> list[OnCall]:
        params = {"site": site} if site else {}
        response = await self._request("GET", "/v1/oncall", params=params)
        return parsed(list[OnCall], response)

    async def availability(self, site: str | None = None) -> list[SiteAvailability]:
        """Who can come now, per visible site (desks online, supervisors who can answer)."""
        params = {"site": site} if site else {}
        return parsed(
            list[SiteAvailability], await self._request("GET", "/v1/availability", params=params)
        )

    async def desks(self) -> list[DeskPresence]:
        return parsed(list[DeskPresence], await self._request("GET", "/v1/desks"))

    async def presence(self, site: str | None = None) -> Presence:
        """Supervisors: desks online or not, and the tokens the hub refused lately."""
        params = {"site": site} if site else {}
        return parsed(Presence, await self._request("GET", "/v1/presence", params=params))

    async def heartbeat(self) -> HeartbeatOut:
        """Keeps this desk or supervisor online; the answer gives the hub's heartbeat interval."""
        return parsed(HeartbeatOut, await self._request("POST", "/v1/heartbeat", replayable=True))

    async def health(self) -> Health:
        """The hub's state, also when degraded (503): its last event id starts a follower.
        A hub that is not there is skipped; a degraded one is answered only if none is healthy."""
        errors: list[DeskAlertError] = []
        degraded: Health | None = None
        for index in self.hubs.order():
            try:
                response = await self._http(index).get("/healthz")
                health = _health_of(response)
            except httpx.HTTPError as exc:
                errors.append(unreachable(self.hubs.urls[index], exc))
                continue
            except DeskAlertError as error:
                if not is_outage(error):
                    raise
                errors.append(error)
                continue
            if response.status_code == 200:
                self.hubs.settle(index)
                return health
            degraded = degraded or health
        if degraded is not None:
            return degraded
        raise all_down(errors)


def _health_of(response: httpx.Response) -> Health:
    """A /healthz answer as Health (200, or 503 degraded); any other answer as its error."""
    if response.status_code not in (200, 503) or not is_json(response):
        raise hub_error(response)
    return parsed(Health, response)


class _Down(Exception):
    """Hub not there (`error`); `maybe_handled`: the request may have reached it all the same."""

    def __init__(self, error: DeskAlertError, maybe_handled: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.maybe_handled = maybe_handled


def _next_cursor(response: httpx.Response) -> str | None:
    """The cursor in `Link: <?...&cursor=...>; rel="next"`, if there is a next page."""
    link = response.links.get("next")
    if link is None:
        return None
    cursor = httpx.URL(link["url"]).params.get("cursor")
    return str(cursor) if cursor else None


_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _adapter(model: type[T]) -> TypeAdapter[T]:
    """One TypeAdapter per model, built on first use (building one costs more than a parse)."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(model)
    return adapter


def parsed(model: type[T], response: httpx.Response) -> T:
    """The body as `model`; JSON of another shape is a HubIncompatible naming the first mismatch."""
    try:
        return _adapter(model).validate_json(response.content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise HubIncompatible(
            f"{describe_answer(response)}: unexpected JSON ({where}: {first['msg']})"
        ) from None


# The error mapping lives in api_errors.py; its names stay importable from here.
__all__ = [
    "ALERT_FAILOVER_TIMEOUT",
    "NOT_SENT",
    "PAGE_SIZE",
    "REQUEST_TIMEOUT",
    "HubClient",
    "describe_answer",
    "hub_error",
    "parsed",
    "unreachable",
]
