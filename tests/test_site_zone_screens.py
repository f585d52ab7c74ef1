"""Broadcast times on the desk and the pane in the site's zone (deskalert.sitetime), like every
other time on screen: the banner said "Envoyé ... à 03:17" beside an alert pressed at 04:17."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from deskalert import sitetime
from deskalert.tui.desk import broadcast as desk_broadcast
from deskalert.tui.pane import broadcast as pane_broadcast

SENT = datetime(2026, 12, 6, 3, 17, tzinfo=UTC)


def test_a_broadcasts_time_is_the_sites_on_the_desk_and_the_pane() -> None:
    sitetime.set_zone("Asia/Tokyo")  # as a screen does once it hears its hub (not the machine's)
    sent: Any = SimpleNamespace(sent_at=SENT)
    assert desk_broadcast.local_time(sent) == "12:17"
    assert pane_broadcast._hhmm(SENT) == "12:17"
