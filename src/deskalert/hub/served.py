"""What a hub stored from its SQLite file, noted beside it, so that a file put back in time by
other means than `deskalert backup --restore` gets a new epoch.

`deskalert backup` gives each copy an epoch of its own, so a restored hub tells every follower to
start over. A copy made otherwise (a `cp` of the live file, the SQLite backup API, a file put
back from a file-level backup) keeps the old epoch: a follower resuming from an id the copy has
too (the copy's hub soon gives those ids out again, to other events) would skip those events,
link shown up. Why a note outside the database: the database cannot tell it went back in time,
only something that did not go back with it can. So the serving hub writes, beside the file,
`hub.sqlite3.served`: the epoch, the last event id stored (at most a second old: written after
each WAL checkpoint and at close, never on the commit path) and the file's identity (device,
inode). At start, under the same epoch, a database whose last id is below the note's, or a
different file (moved in place by `mv`, a copied data dir), gets a new epoch: followers reload
their picture once (stream.reset). That costs a reload after moving a data dir; it never costs
an alert.

What it cannot see: a copy that goes back together with its note (a VM or disk snapshot, a copy
of the whole data dir). There the followers' own check remains: an id above the hub's last one
is a stream.reset too (`Hub.stream_reset`), which catches every follower that comes back before
the restored hub has given that many ids out again. PostgreSQL: a hub's data dir is not its
database's (several hubs, restores with PostgreSQL's tools): `hub migrate --new-epoch`.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger("deskalert.hub")


@dataclass(frozen=True)
class Served:
    epoch: str
    last_event_id: int
    device: int
    inode: int


def note_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".served")


def read_note(db_path: Path) -> Served | None:
    """The note, or None if there is none or it cannot be read (then nothing is compared)."""
    try:
        data = json.loads(note_path(db_path).read_text(encoding="utf-8"))
        return Served(
            str(data["epoch"]), int(data["last_event_id"]), int(data["device"]), int(data["inode"])
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def went_back(db_path: Path, epoch: str, last_event_id: int) -> str | None:
    """Why this database is not the one the note describes under the same epoch, or None."""
    note = read_note(db_path)
    if note is None or note.epoch != epoch:
        return None  # first start, or a new epoch already (deskalert backup --restore)
    if last_event_id < note.last_event_id:
        return (
            f"its last event is {last_event_id}, below the {note.last_event_id} this hub"
            " stored: put back from a copy?"
        )
    if _identity(db_path) != (note.device, note.inode):
        return "it is not the file this hub served (moved or copied in place?)"
    return None


def renew_if_went_back(
    db_path: Path, epoch: str, last_event_id: int, set_epoch: Callable[[str], object]
) -> str:
    """The epoch to serve: `epoch`, or a new one (set with `set_epoch`) if the database went
    back in time; the note is then written for it."""
    reason = went_back(db_path, epoch, last_event_id)
    if reason is not None:
        fresh = secrets.token_hex(8)
        set_epoch(fresh)
        log.warning(
            "%s: %s; new epoch %s (was %s): desks and panes reload", db_path, reason, fresh, epoch
        )
        epoch = fresh
    write_note(db_path, epoch, last_event_id)
    return epoch


def note_from(db_path: Path, epoch: str, db: sqlite3.Connection) -> None:
    """Note the last event id `db` sees (after a checkpoint, at close); never raises."""
    try:
        row = db.execute("SELECT MAX(id) FROM events").fetchone()
    except sqlite3.Error:
        return
    write_note(db_path, epoch, int(row[0] or 0))


def write_note(db_path: Path, epoch: str, last_event_id: int) -> None:
    """Replace the note at once (a crash leaves the old one or the new one, never half), 0600;
    unchanged, it is not written; a failure (full disk) is logged, never raised."""
    try:
        device, inode = _identity(db_path)
        note = Served(epoch, last_event_id, device, inode)
        if read_note(db_path) == note:
            return
        target = note_path(db_path)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(asdict(note), file)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except OSError as exc:
        log.debug("cannot note what %s stored: %s", db_path, exc)


def _identity(db_path: Path) -> tuple[int, int]:
    info = os.stat(db_path)
    return info.st_dev, info.st_ino
