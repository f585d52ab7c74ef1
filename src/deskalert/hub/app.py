"""The hub's FastAPI application: `create_app(config, store)`.

Errors always have the shape `{"error": "<code>", "detail": "<text>"}` (see `models.ErrorOut`):
bad input is a 4xx that says what to fix, a database that cannot be written is a 503, and nothing
the caller sends can produce a 500.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deskalert import __version__
from deskalert.config import describe_errors
from deskalert.errors import HubError, RateLimited
from deskalert.hub.broker import StreamCap
from deskalert.hub.budget import REFUSAL_CHARGED, RefusalBudget, RequestBudget
from deskalert.hub.clock import Clock
from deskalert.hub.links import install_secret
from deskalert.hub.metrics import HubMetrics
from deskalert.hub.routes import (
    agent_page,
    alerts,
    availability,
    broadcasts,
    enrol,
    events,
    health,
    metrics,
    notes,
    oncall,
    page,
    presence,
    sessions,
)
from deskalert.hub.routes.hot import HotRoutes, replay
from deskalert.hub.service import Hub
from deskalert.hub.settings import HubConfig
from deskalert.hub.store import Store

log = logging.getLogger("deskalert.hub")
MAX_BODY_BYTES = 16 * 1024
HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}

DESCRIPTION = """The shared endpoint of deskalert: desks raise alerts, supervisors and nearby
desks follow them live on `/v1/events` (server-sent events) and answer "j'arrive".
Every request but `/healthz` carries `Authorization: Bearer <token>`; the token says who calls."""


def create_app(
    config: HubConfig,
    store: Store,
    *,
    clock: Clock | None = None,
    ticker: bool = True,
    hub_id: str | None = None,
) -> FastAPI:
    """A hub application on `store`; the hub's ticker runs while the app's lifespan does.

    `clock` (default: the system's) and `ticker` False let a test drive time by hand: it moves
    a `ManualClock` and awaits `app.state.hub.tick()` on the server's loop. `hub_id`: this
    hub among the hubs of a shared store (the one its roster check counted running)."""
    # The key of answer links and page sessions: in the database when hubs share one (a link
    # sent by one hub opens on any), else a file beside the SQLite one.
    shared_secret = store.link_secret()
    if shared_secret is not None:
        config._link_secret = shared_secret
    else:
        install_secret(config, store.path.parent)
    hub = Hub(config, store, clock, hub_id)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start(ticker=ticker)
        try:
            yield
        finally:
            await hub.stop()

    app = FastAPI(
        title="deskalert hub", version=__version__, description=DESCRIPTION, lifespan=lifespan
    )
    app.state.hub = hub
    app.state.metrics = HubMetrics(hub)  # GET /metrics (hub/routes/metrics.py)
    app.state.streams = StreamCap(config.hub.max_streams_per_identity)
    app.state.alert_rate = hub.alert_rate  # followed by the event tail (hub/alert_rate.py)
    app.state.request_budget = RequestBudget(
        config.hub.request_burst, config.hub.requests_per_second, clock=hub.clock
    )
    app.state.refusal_budget = RefusalBudget(
        config.hub.refused_burst, config.hub.refused_per_second, clock=hub.clock
    )
    for module in (
        alerts,
        notes,
        events,
        presence,
        availability,
        oncall,
        health,
        page,
        agent_page,
        sessions,
        metrics,
        enrol,
        broadcasts,
    ):
        app.include_router(module.router)
    app.mount(
        "/page/static", StaticFiles(packages=[("deskalert.hub", "static")]), name="page-static"
    )
    _add_error_handlers(app)
    # Inside BodyLimit (added later is outer): the hot routes get a body read within the limit.
    app.add_middleware(
        HotRoutes,
        hub=hub,
        rate=app.state.alert_rate,
        budget=app.state.request_budget,
        refusals=app.state.refusal_budget,
        on_error=hub_error_response,
    )
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    return app


def error_response(
    status: int, error: str, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"error": error, "detail": detail, **{k: v for k, v in extra.items() if v is not None}}
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, headers=headers)


def hub_error_response(exc: HubError) -> JSONResponse:
    headers = None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
    return error_response(exc.status, exc.code, exc.detail, state=exc.state, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> JSONResponse:
        if exc.status == 401 and not request.scope.get(REFUSAL_CHARGED):
            budget: RefusalBudget = request.app.state.refusal_budget
            try:  # no token, or a refused one: the client address's budget (hub/budget.py)
                await budget.charge(request.client.host if request.client else "unknown")
            except RateLimited as limited:
                return hub_error_response(limited)
        return hub_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "malformed_json", "the body is not valid JSON")
        return error_response(422, "invalid_request", describe_errors(errors))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_ERROR_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "the hub hit an unexpected error; see its log")


def allowed_methods(request: Request) -> list[str]:
    """Every method the path answers to, for a 405's `Allow` (RFC 9110). Starlette lists only
    those of the first route with that path (GET and POST /v1/alerts are two routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE and isinstance(route, APIRoute) and route.methods:
            methods |= route.methods
    return sorted(methods)


class BodyLimit:
    """Refuses request bodies over `max_bytes` with a 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _send_error(send, 400, "bad_request", "Content-Length is not a number")
                return
            if int(declared) > self.max_bytes:
                await self._too_large(send)
                return
        body = bytearray()
        while True:  # bodies here are small: read them whole, up to the limit, then replay
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, replay(message, receive), send)
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._too_large(send)
                return
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": bytes(body), "more_body": False}
        await self.app(scope, replay(whole, receive), send)

    async def _too_large(self, send: Send) -> None:
        detail = f"the body is larger than {self.max_bytes // 1024} KiB"
        await _send_error(send, 413, "body_too_large", detail)


async def _send_error(send: Send, status: int, error: str, detail: str) -> None:
    response = error_response(status, error, detail)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
