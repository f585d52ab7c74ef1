"""The two requests every desk sends all day, answered below FastAPI's routing.

`POST /v1/heartbeat` (every desk, every `heartbeat_s`) and `POST /v1/alerts` (the one that
matters most) spent about three quarters of the hub's CPU per request in the framework:
routing, dependency resolution, the response model's validation, Starlette's wrappers
(bench/findings.md). `HotRoutes` answers them itself when the request is the plain case, a
desk's or supervisor's bearer token and, for an alert, a JSON body that `AlertIn` accepts. It
calls the same functions as the FastAPI routes (`deps.bearer_principal`, `alerts.raise_for`,
`presence.heartbeat_out`), and answers errors with the same `error_response`.

Anything else goes to FastAPI untouched, with its body: no token, an unknown token, a session
cookie, a body that does not validate, another content type. The FastAPI routes stay the only
ones for those cases and in the OpenAPI description. Nothing is done before that hand-over that
the FastAPI route would do again (a refused token is recorded once, by the route). One thing is
done here for an unknown token: it takes from its client address's refusal budget
(hub/budget.py), and past it the 429 is answered here; the scope then says it was charged, so
the route's 401 does not charge it again. A flood of bad tokens costs the framework nothing
once over the budget.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deskalert.errors import HubError
from deskalert.hub.alert_rate import AlertRate
from deskalert.hub.budget import REFUSAL_CHARGED, RefusalBudget, RequestBudget
from deskalert.hub.routes.alerts import raise_for
from deskalert.hub.routes.deps import bearer_principal
from deskalert.hub.routes.presence import heartbeat_out
from deskalert.hub.service import Hub
from deskalert.hub.settings import Principal, token_hash
from deskalert.models import AlertIn

HEARTBEAT, ALERTS = "/v1/heartbeat", "/v1/alerts"


class HotRoutes:
    """ASGI middleware: the plain heartbeat and alert, answered here; the rest passed on.

    It sits inside `BodyLimit`, so a body has been read whole, within the limit, already."""

    def __init__(
        self,
        app: ASGIApp,
        hub: Hub,
        rate: AlertRate,
        budget: RequestBudget,
        refusals: RefusalBudget,
        on_error: Callable[[HubError], Response],
    ) -> None:
        self.app, self.hub, self.rate, self.budget = app, hub, rate, budget
        self.refusals = refusals
        self.on_error = on_error  # HubError -> the response FastAPI's handler would give

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or scope["method"] != "POST" or path not in (HEARTBEAT, ALERTS):
            await self.app(scope, receive, send)
            return
        message = await receive()
        whole = message["type"] == "http.request" and not message.get("more_body", False)
        body = message.get("body", b"") if whole else None
        response = await self._answer(scope, path, body)
        if response is None:
            await self.app(scope, replay(message, receive), send)
            return
        await response(scope, receive, send)

    async def _answer(self, scope: Scope, path: str, body: bytes | None) -> Response | None:
        """The response, or None: FastAPI's route answers this one."""
        token = _bearer(scope)
        if token is None or body is None:
            return None
        address = scope["client"][0] if scope.get("client") else "unknown"
        if self.hub.roster.principal_for(token_hash(token)) is None:
            return await self._refused(scope, address)
        alert_in = None
        if path == ALERTS:
            alert_in = _alert_in(scope, body)
            if alert_in is None:
                return None
        try:
            principal = bearer_principal(self.hub, token, address, f"POST {path}", refuse=False)
            if principal is None:
                return None  # unknown token: the route records it and answers the 401
            if alert_in is None:
                await self.budget.charge(principal, f"POST {path}")
                return _json(200, (await heartbeat_out(self.hub, principal)).model_dump_json())
            return await self._alert(principal, alert_in)
        except HubError as exc:
            return self.on_error(exc)

    async def _refused(self, scope: Scope, address: str) -> Response | None:
        """An unknown token: the address's refusal budget (hub/budget.py) answers its 429
        here; within it, the route answers the 401 (its body is not even read here)."""
        try:
            await self.refusals.charge(address)
        except HubError as exc:
            return self.on_error(exc)
        scope[REFUSAL_CHARGED] = True  # the route's 401 does not take a second token
        return None

    async def _alert(self, principal: Principal, body: AlertIn) -> Response:
        status, answer = await raise_for(self.hub, self.rate, principal, body)
        if isinstance(answer, Response):
            return answer
        return _json(status, answer.model_dump_json())


def _bearer(scope: Scope) -> str | None:
    """The token of `Authorization: Bearer <token>` (the first such header, as FastAPI reads
    it), or None."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def _alert_in(scope: Scope, body: bytes) -> AlertIn | None:
    """The body as FastAPI would read it (json.loads, then the model), if it is JSON and
    valid; None for anything else, which FastAPI then answers with its own 400 or 422."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            if value.split(b";")[0].strip().lower() != b"application/json":
                return None
            break
    else:
        return None
    try:
        return AlertIn.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError included
        return None
    except RecursionError:  # brackets nested deeper than the interpreter's stack
        return None


def _json(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="application/json")


def replay(first: Message, receive: Receive) -> Receive:
    """A receive callable that gives `first` once, then defers to the real one."""
    pending = [first]

    async def replaying_receive() -> Message:
        return pending.pop() if pending else await receive()

    return replaying_receive
