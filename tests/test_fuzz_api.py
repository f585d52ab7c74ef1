"""Property-based run over every route of a real hub (schemathesis against /openapi.json).

For each operation schemathesis generates valid and invalid requests (bodies, path and query
parameters, headers) and checks every answer: never a 5xx, only status codes the schema
documents, bodies and content types as documented. The stream (/v1/events) never ends, so it is
fuzzed apart below: its answer is checked on the headers, then the connection is closed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from support.examples import examples
from support.hubs import RunningHub
from support.requests import auth, new_alert

# The routes' contract (codes, shapes, dates read or refused) is fuzzed, which the store plays
# no part in: SQLite only. What the store does with the widest dates, on SQLite and PostgreSQL:
# test_store_contract.py::test_the_largest_event_id_and_the_widest_periods_are_read_without_error.
pytestmark = pytest.mark.stores("sqlite")

DESK_ROUTES = {("POST", "/v1/alerts"), ("POST", "/v1/heartbeat")}


@pytest.fixture
def fuzzed_hub(hub_factory: Callable[..., RunningHub]) -> RunningHub:
    """A hub whose budgets the run never spends: with the default request budget (200, then
    20/s for the one supervisor asking everything) some examples were refused 429 before
    reaching their route, each held a second (hub/budget.py): a second lost and a case not
    checked. Schemathesis also sends every route's cases without a token, hundreds from
    127.0.0.1, and checks each is a 401: the refusal budget per address is lifted too. The
    429s themselves are tested in test_request_budget.py and test_refused_budget.py."""
    return hub_factory(request_burst=1_000_000, refused_burst=1_000_000)


@pytest.fixture
def api_schema(fuzzed_hub: RunningHub) -> Any:
    return schemathesis.openapi.from_url(f"{fuzzed_hub.url}/openapi.json")


# /v1/events is fuzzed below with its own checks. /metrics answers by hub.toml's [metrics]
# alone (off here: a 403 whatever is sent, which schemathesis' header checks read as a missing
# header "accepted"); its refusals and its text are checked in test_metrics.py.
schema = (
    schemathesis.pytest.from_fixture("api_schema")
    .exclude(path="/v1/events")
    .exclude(path="/metrics")
)


# What is fuzzed here is the routes' contract (status codes, shapes, documentation), which the
# store plays no part in: on SQLite only. The store's answers to odd input are fuzzed on both
# below (dates in bodies and queries, the stream's ids).
@schema.parametrize()
@pytest.mark.stores("sqlite")
@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_route_answers_as_documented_never_5xx(case: Any, fuzzed_hub: RunningHub) -> None:
    # A desk raises alerts and beats; everything else is asked as a supervisor (who may read
    # and act on all of it), so that most generated requests get past authorisation.
    who = "g1" if (case.method.upper(), case.path) in DESK_ROUTES else "s.a"
    # Two checks are left out, on purpose:
    # - "schema-valid requests are accepted": a request can fit the schema and still break the
    #   site's rules (a code not in this hub's repertoire, a cancel window that has closed);
    #   the hub says so with a documented 4xx, which the other checks verify;
    # - "schema-violating requests are refused": the hub ignores unknown query parameters, as
    #   HTTP servers customarily do, and the token given here replaces the generated request's
    #   own (so "Authorization missing" cases are sent with one).
    # Kept: no 5xx, only documented status codes, content types, bodies and headers as
    # documented, a 405 with the right `Allow` for undeclared methods.
    case.call_and_validate(
        base_url=fuzzed_hub.url,
        headers=auth(who),
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )


# Header values as a client may send them (h11 refuses CR, LF, NUL and edge spaces): ASCII
# text, digits of every script (in Latin-1 or UTF-8 bytes, as the hub then reads them), long
# and huge numbers.
HEADER_BYTES = [b for b in range(0x20, 0x100) if b != 0x7F]
header_values = st.one_of(
    st.lists(st.sampled_from(HEADER_BYTES), min_size=1, max_size=12).map(bytes),
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=6).flatmap(
        lambda digits: st.sampled_from([digits.encode(), digits.encode("latin-1", "replace")])
    ),
    st.integers(min_value=-5, max_value=10**30).map(lambda n: str(n).encode()),
    st.integers(min_value=19, max_value=6000).map(lambda n: b"9" * n),
    st.just(str(2**63 - 1).encode()),
).filter(lambda value: value == value.strip() and value != b"")


@pytest.fixture
def quick_hub(hub_factory: Callable[..., RunningHub]) -> RunningHub:
    """A hub whose keep-alive comes every 0.2 s: a stream that would fail after its opening
    (as one with an event id above SQLite's range did) shows it within the example."""
    return hub_factory(heartbeat_s=0.2)


@pytest.fixture
def roomy_hub(hub_factory: Callable[..., RunningHub]) -> RunningHub:
    """A hub whose per-desk alert rate lets one desk raise every example's alert."""
    return hub_factory(alert_burst=1000)


@settings(
    max_examples=examples(80),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    who=st.sampled_from(["g1", "s.a", "nobody"]),
    site=st.one_of(st.none(), st.sampled_from(["accueil", "etage", "nowhere"]), st.text()),
    since=st.one_of(
        st.none(),
        st.integers(),
        st.integers(min_value=2**63 - 2, max_value=2**64),
        st.text(max_size=12),
    ),
    last_event_id=st.one_of(st.none(), header_values),
)
def test_the_stream_refuses_bad_requests_with_a_4xx_never_5xx(
    quick_hub: RunningHub, who: str, site: str | None, since: Any, last_event_id: bytes | None
) -> None:
    params = {k: v for k, v in {"site": site, "since": since}.items() if v is not None}
    headers: dict[str, Any] = auth(who)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    with (
        httpx.Client(base_url=quick_hub.url, timeout=5) as client,
        client.stream("GET", "/v1/events", params=params, headers=headers) as response,
    ):
        status = response.status_code
        if status == 200:
            assert response.headers["content-type"].startswith("text/event-stream")
            _read_until_keep_alive(response)
        else:
            body = response.read()
            assert status in {400, 401, 403, 404, 422}, (status, body)
            assert response.headers["content-type"] == "application/json"
            assert set(json.loads(body)) >= {"error", "detail"}


def _read_until_keep_alive(response: httpx.Response) -> None:
    """The stream goes on past its opening and replay: a failure there ends it early
    (httpx raises on the truncated body, or the body ends). The one stream that ends on purpose
    is a whole `stream.reset` (an id above the hub's last: start over from a snapshot)."""
    received = b""
    for chunk in response.iter_raw():
        received += chunk
        if b": keep-alive" in received:
            return
    if b"\nevent: stream.reset\ndata: {" in received and received.endswith(b"}\n\n"):
        return
    raise AssertionError(f"the stream ended: {received[-200:]!r}")


# -- dates at the ends of the calendar, in every offset ---------------------------------------

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
any_date = st.one_of(
    st.datetimes(timezones=offsets),
    # hypothesis takes naive bounds and adds the zone itself
    st.datetimes(min_value=datetime(9999, 12, 30), timezones=offsets),  # noqa: DTZ001
    st.datetimes(max_value=datetime(1, 1, 2), timezones=offsets),  # noqa: DTZ001
)


def _in_utc(moment: datetime) -> bool:
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    moment=any_date,
    path=st.sampled_from(["/v1/alerts?state=all&since=", "/v1/notes?since=", "/v1/notes?until="]),
)
def test_any_date_in_a_query_is_a_200_or_a_400_never_5xx(
    hub: RunningHub, moment: datetime, path: str
) -> None:
    with hub.client("s.a") as sup:
        answer = sup.get(path + quote(moment.isoformat()))
    assert answer.status_code == (200 if _in_utc(moment) else 400), answer.text
    assert answer.headers["content-type"] == "application/json"


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(moment=any_date, field=st.sampled_from(["created_at", "started_at", "until"]))
def test_any_date_in_a_body_is_stored_or_a_4xx_naming_it_never_5xx(
    roomy_hub: RunningHub, moment: datetime, field: str
) -> None:
    hub = roomy_hub
    with hub.client("g1") as g1, hub.client("s.a") as sup:
        alert = new_alert()
        if field == "created_at":
            answer = g1.post("/v1/alerts", json={**alert, "created_at": moment.isoformat()})
        elif field == "started_at":
            g1.post("/v1/alerts", json=alert).raise_for_status()
            note = {"type": "other", "started_at": moment.isoformat()}
            answer = g1.post(f"/v1/alerts/{alert['id']}/notes", json=note)
        else:
            body = {"site": "accueil", "until": moment.isoformat()}
            answer = sup.post("/v1/oncall/override", json=body)
    assert answer.status_code < 500, answer.text
    if not _in_utc(moment):
        assert answer.status_code == 422 and field in answer.json()["detail"], answer.text
