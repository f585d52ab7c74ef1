"""Opening a private SQLite file, and transactions that always end.

Shared by the hub's store and the desk's journal. Both hold personal data (alerts, notes), so the
file and its `-wal` and `-shm` companions are 0600 whatever the umask: the database file is
created 0600 before SQLite opens it (SQLite gives the companions the database file's mode), and
files left 0644 by an older version are chmod'ed at every open.

Outside SQLite, nothing here ever opens a descriptor of the database file (or of its `-wal` or
`-shm`): POSIX advisory locks belong to the process and the file, and closing ANY descriptor of
the file drops every lock the process's SQLite connections hold on it. Another process (an
administrator's `sqlite3 hub.sqlite3`, a backup tool) then believes it is the last user,
checkpoints and deletes the `-wal` under the running hub, and commits that follow go to a
deleted file: a kill -9 loses alerts answered 201 (SQLite's "How To Corrupt", 2.2). So the file
is created under a temporary name and linked into place, and modes are set by path (chmod).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO

PRIVATE = 0o600
COMPANIONS = ("-wal", "-shm", "-journal")


def open_db(path: Path, *, busy_timeout_ms: int = 5000) -> sqlite3.Connection:
    """An autocommit connection in WAL mode with `synchronous=FULL`, on a file only we read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    create_private(path)
    make_private(path)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    make_private(path)  # the -wal and -shm that WAL mode just created
    return db


def create_private(path: Path) -> None:
    """Create `path`, empty and 0600, unless it exists, without ever opening it: an empty file
    made under a temporary name (no SQLite connection can hold a lock on it yet) is hard-linked
    into place; a file system without hard links gets SQLite's own file, chmod'ed before any
    write (it is empty until then)."""
    if path.exists():
        return
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(descriptor)  # mkstemp: 0600 whatever the umask
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # made meanwhile by another process: its mode is set by path below
    except OSError:
        pass  # no hard links here: SQLite creates the file, make_private chmods it at once
    finally:
        os.unlink(temporary)


def make_private(path: Path) -> None:
    """chmod 0600 the database file and whichever of its companions exist."""
    for file in (path, *(path.with_name(path.name + suffix) for suffix in COMPANIONS)):
        with contextlib.suppress(FileNotFoundError):
            os.chmod(file, PRIVATE)


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT; on any error (in the body or at COMMIT) ROLLBACK and re-raise.

    Without the rollback, a failed statement leaves the connection inside the transaction, and
    every later write on it is silently part of a transaction that is never committed.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        rollback(db)
        raise


def rollback(db: sqlite3.Connection) -> None:
    """ROLLBACK if a transaction is still open (SQLite ends some by itself, e.g. on a full disk)."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):  # nothing more to undo; the connection is usable
            db.execute("ROLLBACK")


# -- one serving hub per SQLite file --------------------------------------------------------------
#
# Two hubs on one SQLite file each run the timers (two notifications per escalation) and fan out
# only their own alerts; a restore or a migration under a running hub writes under its feet. The
# serving hub holds an advisory lock (flock) on `<file>.lock` for as long as it runs; the kernel
# drops it when the process ends, even by kill -9, so a crash never leaves a stale lock.
#
# A hard link of the file in another directory has a `.lock` of its own: what the two names share
# is the file's content. So the holder also writes, in a transaction of the file itself, which
# `.lock` serves it (meta 'held_by'); a second holder under another name finds it there, and if
# that `.lock` is held and names the same file (st_dev, st_ino), it is refused like a second hub
# on the same name. The lock stays on the separate `.lock` file: a descriptor of the database
# file opened and closed outside SQLite would drop the SQLite locks of this process (see above).


class FileInUse(Exception):
    """Another process holds the file's lock; `pid` is the one it wrote, if readable."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is in use by process {pid if pid is not None else '?'}")
        self.path, self.pid = path, pid


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class HeldLock:
    """The lock on `<file>.lock`, held until `release()`, the object's collection or the
    process's end."""

    def __init__(self, path: Path) -> None:
        import fcntl

        self.path = lock_path(path.resolve())  # one lock per file, whatever symlink names it
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_CREAT | os.O_RDWR, PRIVATE)
        self._file: IO[bytes] | None = os.fdopen(descriptor, "r+b", buffering=0)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            raise FileInUse(path, _pid_in(self.path)) from None
        self._file.truncate(0)
        self._file.write(f"{os.getpid()}\n".encode())
        self.database, self.claimed = path, False
        if path.exists():
            self.claim()

    def claim(self) -> None:
        """Write in the file itself that this `.lock` serves it, unless another `.lock` held
        by a live process serves it under another name (a hard link): FileInUse. A file
        without a meta table, or that SQLite cannot read, is not claimed (nobody can serve it,
        and a restore must still be able to replace it)."""
        if self.claimed:
            return
        try:
            with closing(sqlite3.connect(self.database, timeout=5, isolation_level=None)) as db:
                if not _has_meta(db):
                    return
                with transaction(db):
                    row = db.execute("SELECT value FROM meta WHERE key='held_by'").fetchone()
                    other = Path(row[0]) if row else None
                    if other is not None:
                        self._refuse_if_served_elsewhere(other)
                    db.execute(
                        "INSERT INTO meta (key, value) VALUES ('held_by', ?) ON CONFLICT"
                        " (key) DO UPDATE SET value=excluded.value",
                        (str(self.path),),
                    )
                # Into the file itself at once: a hub opening another name of it reads no -wal
                # of this name, so a claim left in the WAL would not be seen there.
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            return
        self.claimed = True

    def _refuse_if_served_elsewhere(self, other: Path) -> None:
        """FileInUse if `other` (a `.lock` beside another name of this file) is held; OSError
        if that name's `-wal` is left over (SQLite keeps the WAL beside the name a hub opened:
        served under this name, the file would miss the last writes, then be corrupted by
        them)."""
        named = other.with_suffix("")  # the database name that `.lock` is beside
        try:
            if other.samefile(self.path) or not self.database.samefile(named):
                return
        except OSError:
            return  # gone, or its file is another one now (a copy): not this file's holder
        if _is_held(other):
            self.release()
            raise FileInUse(self.database, _pid_in(other))
        wal = named.with_name(named.name + "-wal")
        if _size(wal) > 0:
            self.release()
            raise OSError(
                errno.EBUSY,
                f"its last writes are in {wal}, beside another name of"
                " this file (a hard link): start the hub once on that name's data dir",
                str(self.database),
            )

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the only descriptor drops the flock
            self._file = None


def _has_meta(db: sqlite3.Connection) -> bool:
    return (
        db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
        is not None
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _is_held(lock: Path) -> bool:
    """A live process holds this `.lock` (flock)."""
    import fcntl

    try:
        descriptor = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # a `.lock`, never the database: no SQLite lock is dropped
    return False


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
