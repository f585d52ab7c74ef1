"""Two hubs on one PostgreSQL: a broadcast sent on one is read on the other, once per desk, and
every supervisor's stream sees the read live, whichever hub it follows."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from broadcast_helpers import post, send
from support.events import EventReader
from support.hubs import RunningHub

pytestmark = pytest.mark.stores("postgresql")


def test_a_broadcast_sent_on_one_hub_is_read_once_through_the_other(
    bc_hub: Callable[..., RunningHub], follow: Callable[..., EventReader]
) -> None:
    first, second = bc_hub("first"), bc_hub("second")
    on_first, on_second = follow(first.url, "s.a"), follow(second.url, "s.b")
    sent = send(first).json()
    path = f"/v1/broadcasts/{sent['id']}/read"
    assert post(second, "g1", path).status_code == 200
    assert [r["desk"] for r in post(first, "g1", path).json()["reads"]] == ["g1"]
    for reader in (on_first, on_second):
        seen = reader.events_until("broadcast.read", timeout=10)
        assert [e[1] for e in seen].count("broadcast.sent") == 1
        assert [r["desk"] for r in seen[-1][2]["reads"]] == ["g1"]
