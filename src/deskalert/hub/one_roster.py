"""Several hubs on one database serve one roster.

The roster lives in each hub's hub.toml; the database keeps the fingerprint of the one in force
(meta `roster`) and a summary of it (meta `roster_summary`: a hash per site, desk, supervisor
and code, and of the on-call and of `[broadcasts]`; no token, no channel address), so that a
difference can be named.

- A hub starts only if its file's roster is the database's, or if no other hub is running
  (then its roster becomes the database's): `check_at_start`, one line naming the difference.
  The check holds a transaction-level advisory lock and marks the hub running in the same
  transaction: two hubs started at the same moment with two rosters are checked one after the
  other, and the second is refused.
- `deskalert hub reload` on one hub makes its file's roster the database's and publishes
  `roster.changed`; every other hub sees that event on the event table (LISTEN/NOTIFY) and
  reads its own file again: the same roster, swapped at once; another one, and that hub goes
  503 (`RosterOutOfStep`, on every request but /healthz, which says why) and ends its streams,
  so that its clients go to a hub that serves the roster, until its file is fixed and reloaded.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from deskalert.errors import ConfigError, HubError
from deskalert.hub.settings import HubConfig
from deskalert.models import EventType

# A hub writes its stream line every tick (under 0.5 s): silent this long, it is not running.
LIVE_WITHIN = timedelta(seconds=3)
# A starting hub counts as running from its roster check: its first tick comes within this.
STARTING_WITHIN = timedelta(seconds=20)
PER_ID = {"sites": "id", "desks": "id", "supervisors": "id", "codes": "code"}
# `broadcasts`: the kinds and templates every desk and page shows; two hubs serving two sets
# would send a desk a kind its screen does not know (one hash for the section).
WHOLE = ("oncall", "oncall_calendar", "broadcasts")
SINCE_V2 = ("broadcasts",)  # not in the fingerprint of older hubs (`legacy_fingerprint`)
# Fields added later, hashed only when set: a roster that does not use them keeps the hash
# older hubs give it (a rolling upgrade is not refused), one that does is told apart.
HASHED_WHEN_SET = {"codes": ("label_en", "protocol_en")}


class RosterOutOfStep(HubError):
    """This hub's hub.toml is not the roster the other hubs of its database serve."""

    status = 503
    code = "roster_out_of_step"


def roster_fingerprint(config: HubConfig) -> str:
    """A hash of what every hub of one database must agree on (tokens as their hashes)."""
    return _hash(summary(config))[:16]


def legacy_fingerprint(config: HubConfig) -> str:
    """The fingerprint hubs made before `[broadcasts]` was part of it. A database where one of
    them wrote it is in step with this roster (their summary has no `broadcasts` to compare):
    during a rolling upgrade the hubs already upgraded start and stay beside the older ones;
    once none runs, a start or a reload writes the whole fingerprint."""
    return _hash({k: v for k, v in summary(config).items() if k not in SINCE_V2})[:16]


def same_roster(config: HubConfig, theirs: str | None) -> bool:
    """Whether the database's fingerprint `theirs` is this roster's (or its older form)."""
    return theirs in (roster_fingerprint(config), legacy_fingerprint(config))


def summary(config: HubConfig) -> dict[str, Any]:
    """Per kind, each id's hash; the on-call as one hash each (JSON-ready, nothing secret)."""
    dumped = config.model_dump(mode="json", include={*PER_ID, *WHOLE})
    out: dict[str, Any] = {
        kind: {item[key]: _hash(_when_set(kind, item))[:12] for item in dumped[kind]}
        for kind, key in PER_ID.items()
    }
    out.update({kind: _hash(dumped[kind])[:12] for kind in WHOLE})
    return out


def _when_set(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    """`item` without the fields of `HASHED_WHEN_SET` it leaves empty."""
    later = HASHED_WHEN_SET.get(kind, ())
    return {k: v for k, v in item.items() if k not in later or v}


def difference(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    """What `ours` has that `theirs` has not, in a few words: "desks +g7 -g2 ~g1; oncall"."""
    parts = []
    for kind in PER_ID:
        mine, other = ours.get(kind, {}), theirs.get(kind, {})
        moved = (
            [f"+{i}" for i in sorted(set(mine) - set(other))]
            + [f"-{i}" for i in sorted(set(other) - set(mine))]
            + [f"~{i}" for i in sorted(set(mine) & set(other)) if mine[i] != other[i]]
        )
        if moved:
            parts.append(f"{kind} {' '.join(moved[:8])}{' ...' if len(moved) > 8 else ''}")
    parts += [
        kind
        for kind in WHOLE
        if ours.get(kind) != theirs.get(kind) and (kind in theirs or kind not in SINCE_V2)
    ]
    return "; ".join(parts) or "no difference"


def describe_change(old: HubConfig, new: HubConfig) -> str:
    """What a reload changes (+ added, - removed, ~ edited)."""
    return difference(summary(new), summary(old))


class StartCheck(NamedTuple):
    """What a starting hub found: a line to log (None: nothing to say), and whether its
    roster is another one than the database last served (`roster.changed` is then due)."""

    said: str | None = None
    changed: bool = False


def check_at_start(store: Any, config: HubConfig, hub_id: str) -> StartCheck:
    """On a shared database, before serving: ConfigError if the database's roster is another
    one and another hub is running; else this roster is the database's. Compared and written
    under the database's lock, with this hub counted as running in the same transaction, so
    that of two hubs starting at once with two rosters the second is refused. A line to log
    when this hub's roster replaced another one (all hubs were stopped)."""
    from datetime import UTC, datetime

    ours, mine = roster_fingerprint(config), summary(config)
    replaced: list[str] = []
    changed: list[bool] = []

    def decide(theirs: str | None, stored_text: str | None, live: int) -> tuple[str, str] | None:
        if theirs == ours:
            return None
        if theirs == legacy_fingerprint(config):  # this roster, as an older hub wrote it:
            return None if live > 0 else (ours, json.dumps(mine))  # kept while one may run
        changed.append(theirs is not None)
        stored = _loads(stored_text)
        # No summary: the fingerprint was written by a hub from before this check (another
        # hash): not comparable, so a rolling upgrade is not refused; this roster wins.
        comparable = theirs is not None and stored_text is not None
        if comparable and live > 0:
            raise ConfigError(
                f"this hub's hub.toml is not the roster the running hubs of this database serve"
                f" ({difference(mine, stored)}, here against there): give it their hub.toml,"
                " or change the roster with `deskalert hub reload` on a running hub"
            )
        if comparable:
            replaced.append(difference(mine, stored))
        return ours, json.dumps(mine)

    now = datetime.now(UTC)
    store.claim_roster(hub_id, now - LIVE_WITHIN, now + STARTING_WITHIN, decide)
    if not replaced:
        return StartCheck(None, any(changed))
    said = f"this hub's roster replaces the database's ({replaced[0]}): no other hub was running"
    return StartCheck(said, True)


def note_at_start(store: Any, config: HubConfig) -> StartCheck:
    """One hub on its SQLite file: its roster becomes the file's (nothing can refuse it), and
    whether it is another one than the file last served (hub.toml edited while the hub was
    stopped). A file from before this note has none: nothing is due."""
    ours = roster_fingerprint(config)
    theirs = store.swap_meta("roster", ours)
    store.swap_meta("roster_summary", json.dumps(summary(config)))
    return StartCheck(None, theirs is not None and theirs not in (ours, legacy_fingerprint(config)))


def announce_at_start(store: Any, config: HubConfig, at: datetime) -> None:
    """`roster.changed` in the event log before the hub serves: the desks, panes and pages
    that come back after the restart replay it from their last event and read their codes,
    desks and on-call again, as after `deskalert hub reload` (without it they kept the codes
    of the roster before the restart until their own restart)."""
    store.append_event(
        EventType.ROSTER_CHANGED, at, None, {"fingerprint": roster_fingerprint(config)}
    )


def out_of_step(config: HubConfig, fingerprint: str, stored: str | None) -> str:
    """The one line of a hub whose file is not the roster another hub made the database's."""
    return (
        f"this hub's hub.toml is not the roster another hub reloaded ({fingerprint}:"
        f" {difference(summary(config), _loads(stored))}, here against there): this hub"
        " answers 503 until the same hub.toml is here and reloaded"
    )


def _loads(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _hash(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()
