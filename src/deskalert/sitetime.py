"""The one rule for times on screen: every time shown is the site's local time.

The site's zone is the hub's `[hub] timezone` (hub.toml), the zone its on-call slots and its
own texts (notifications, a check's alert message) are written in. The hub says it in every
heartbeat answer (`HeartbeatOut.timezone`); the desk and the pane set it here once heard, and
draw every time through `local()`. So a panel never shows 23:16 beside 22:16 for the same
minute because the desk's machine runs on another zone than the hub's. A hub without
`timezone` sends none: then each machine shows its own zone (as before this rule).
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, tzinfo

_zone: dict[str, tzinfo | None] = {"site": None}


def set_zone(name: str | None) -> bool:
    """The site's zone by its IANA name (None: the machine's); True if it changed. An unknown
    name (a hub on a newer tz database) keeps the machine's zone rather than fail a screen."""
    try:
        zone = zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = None
    changed = zone != _zone["site"]
    _zone["site"] = zone
    return changed


def zone() -> tzinfo | None:
    return _zone["site"]


def local(moment: datetime) -> datetime:
    """`moment` in the site's zone (the machine's while the hub has not said, or has none)."""
    return moment.astimezone(_zone["site"])


def at(day: datetime, hour: int, minute: int) -> datetime:
    """`hour:minute` on the site's day of `day`, in the site's zone."""
    local_day = local(day)
    return local_day.replace(hour=hour, minute=minute, second=0, microsecond=0)
