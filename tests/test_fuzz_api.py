"""Property-based run over every route of a real hub (schemathesis against /openapi.json).

For each operation schemathesis generates valid and invalid requests (bodies, path and query
parameters, headers) and checks every answer: never a 5xx, only status codes the schema
documents, bodies and content types as documented. The stream (/v1/events) never ends, so it is
fuzzed apart below: its answer is checked on the headers, then the connection is closed.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from conftest import RunningHub, auth

DESK_ROUTES = {("POST", "/v1/alerts"), ("POST", "/v1/heartbeat")}


@pytest.fixture
def api_schema(hub: RunningHub) -> Any:
    return schemathesis.openapi.from_url(f"{hub.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/v1/events")


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_every_route_answers_as_documented_never_5xx(case: Any, hub: RunningHub) -> None:
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
    case.call_and_validate(base_url=hub.url, headers=auth(who),
                           excluded_checks=[positive_data_acceptance, negative_data_rejection])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    who=st.sampled_from(["g1", "s.a", "nobody"]),
    site=st.one_of(st.none(), st.sampled_from(["accueil", "etage", "nowhere"]), st.text()),
    since=st.one_of(st.none(), st.integers(), st.text(max_size=12)),
    last_event_id=st.one_of(st.none(), st.text(max_size=12),
                            st.integers(min_value=-5, max_value=10**20).map(str)),
)
def test_the_stream_refuses_bad_requests_with_a_4xx_never_5xx(
    hub: RunningHub, who: str, site: str | None, since: Any, last_event_id: str | None
) -> None:
    params = {k: v for k, v in {"site": site, "since": since}.items() if v is not None}
    headers = auth(who)
    if last_event_id is not None and last_event_id.isascii() and last_event_id.isprintable() \
            and last_event_id == last_event_id.strip():  # h11 refuses a value with outer spaces
        headers["Last-Event-ID"] = last_event_id
    with httpx.Client(base_url=hub.url, timeout=5) as client, \
            client.stream("GET", "/v1/events", params=params, headers=headers) as response:
        status = response.status_code
        if status == 200:
            assert response.headers["content-type"].startswith("text/event-stream")
        else:
            body = response.read()
            assert status in {400, 401, 403, 404, 422}, (status, body)
            assert response.headers["content-type"] == "application/json"
