"""`deskalert backup`: online copies of the hub's database, their pruning, and restoring one.

A copy is made with SQLite's backup API (consistent while the hub writes) and then given an epoch
of its own: restored later, it tells every follower that its event log is not the one they saw,
and they start over from a snapshot instead of waiting, blind, for ids they already had.
Restoring goes through the same copy, so a copy restored twice still gets a new epoch each time.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deskalert.errors import ConfigError, DeskAlertError
from deskalert.hub.store import copy_with_new_epoch, hold_hub_file

NAME_FORMAT = "hub-%Y%m%dT%H%M%SZ.sqlite3"
NAME_GLOB = "hub-*Z.sqlite3"


class BackupFailed(DeskAlertError):
    """SQLite could not read the database or write the copy."""


def backup(db_path: Path, out_dir: Path, retention_days: int,
           now: datetime | None = None) -> tuple[Path, list[Path]]:
    """Copy `db_path` into `out_dir` (0700, the copy 0600), then delete the copies older than
    `retention_days`: (the new copy, the deleted ones)."""
    now = now or datetime.now(UTC)
    _must_exist(db_path)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = out_dir / now.astimezone(UTC).strftime(NAME_FORMAT)
    _copy(db_path, target)
    return target, prune(out_dir, now - timedelta(days=retention_days))


def restore(copy: Path, db_path: Path) -> str:
    """With the hub stopped (refused while one serves `db_path`): put `copy` back as the hub's
    database, under a new epoch."""
    _must_exist(copy)
    held = hold_hub_file(db_path, "restore a copy over it")
    try:
        return _copy(copy, db_path)
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


def _must_exist(path: Path) -> None:
    if not path.is_file():
        raise ConfigError(f"no database at {path}")
