"""`deskalert backup`: online copies of the hub's database, their pruning, and restoring one.

A copy is made with SQLite's backup API (consistent while the hub writes) and then given an epoch
of its own: restored later, it tells every follower that its event log is not the one they saw,
and they start over from a snapshot instead of waiting, blind, for ids they already had.
Restoring goes through the same copy, so a copy restored twice still gets a new epoch each time.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deskalert.errors import ConfigError, DeskAlertError
from deskalert.hub.store import copy_with_new_epoch, hold_hub_file, must_be_hub_database
from deskalert.i18n import N_, t
from deskalert.sqlite import make_private, open_db

NAME_FORMAT = "hub-%Y%m%dT%H%M%SZ.sqlite3"
NAME_GLOB = "hub-*Z.sqlite3"


class BackupFailed(DeskAlertError):
    """SQLite could not read the database or write the copy."""


def backup(
    db_path: Path, out_dir: Path, retention_days: int, now: datetime | None = None
) -> tuple[Path, list[Path]]:
    """Copy `db_path` into `out_dir` (0700, the copy 0600), then delete the copies older than
    `retention_days`: (the new copy, the deleted ones)."""
    now = now or datetime.now(UTC)
    _must_exist(db_path)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = out_dir / now.astimezone(UTC).strftime(NAME_FORMAT)
    _copy(db_path, target)
    return target, prune(out_dir, now - timedelta(days=retention_days))


def restore(copy: Path, db_path: Path, now: datetime | None = None) -> tuple[str, Path | None]:
    """With the hub stopped (refused while one serves `db_path`): put `copy` back as the hub's
    database, under a new epoch: (the epoch, where the database it replaced is kept).

    `copy` must be a hub's database (an empty file or a desk's journal is refused, nothing
    written), and the database it replaces is first copied aside, beside it, as
    `hub-before-restore-<UTC time>.sqlite3`: the wrong copy picked in a hurry is undone by
    restoring that one."""
    must_be_hub_database(copy)
    held = hold_hub_file(db_path, N_("hub.held.restore"))
    try:
        aside = None
        if db_path.is_file():
            stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            aside = db_path.with_name(f"hub-before-restore-{stamp}.sqlite3")
            _keep(db_path, aside)
        return _copy(copy, db_path), aside
    finally:
        held.release()


def prune(out_dir: Path, before: datetime) -> list[Path]:
    """Delete the copies (named by `backup`) made before `before`; other files are left alone."""
    pruned = []
    for copy in sorted(out_dir.glob(NAME_GLOB)):
        try:
            made = datetime.strptime(copy.name, NAME_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            continue
        if made < before:
            copy.unlink()
            pruned.append(copy)
    return pruned


def _copy(source: Path, target: Path) -> str:
    try:
        return copy_with_new_epoch(source, target)
    except sqlite3.Error as exc:
        raise BackupFailed(f"cannot copy {source} to {target}: {exc}") from None


def _keep(source: Path, target: Path) -> None:
    """A plain consistent copy (its epoch kept: it is the log the hub had), 0600."""
    try:
        with (
            closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
            closing(open_db(target)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupFailed(
            f"cannot keep {source} aside as {target}: {exc}; nothing restored"
        ) from None
    make_private(target)


def _must_exist(path: Path) -> None:
    if not path.is_file():
        raise ConfigError(t("admin.error.nothing_to_copy", path=path))
