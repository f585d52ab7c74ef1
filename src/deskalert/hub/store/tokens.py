"""Tokens revoked or rotated without a restart: rows that overlay hub.toml's token_sha256.

A row names a desk or supervisor, the hub.toml hash it overrides (`base_sha256`) and the hash
in force instead (`token_sha256`; NULL: revoked, no token works). It applies only while
hub.toml still has that base hash: a new line written in hub.toml later wins. Every write bumps
meta('tokens'), which every hub reads at each tick: a revocation is in force on every hub of the
database within a tick (`deskalert hub token revoke`, `rotate`; hub/tokens.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from deskalert.hub.store.connection import Connection
from deskalert.hub.store.core import StoreCore

Overlay = dict[str, tuple[str, str | None]]  # principal -> (base_sha256, token_sha256 or None)


class TokenRows(StoreCore):
    """The tokens table."""

    def token_overlay(self) -> Overlay:
        rows = self._db.execute("SELECT principal, base_sha256, token_sha256 FROM tokens")
        return {r[0]: (str(r[1]), None if r[2] is None else str(r[2])) for r in rows.fetchall()}

    def tokens_version(self) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key='tokens'").fetchone()
        return str(row[0]) if row else None

    def set_token(
        self, principal: str, base_sha256: str, token_sha256: str | None, at: datetime
    ) -> None:
        """In force from the next tick of every hub: `token_sha256` instead of `base_sha256`
        for `principal` (None: revoked)."""
        with self._transaction() as db:
            self._put_token(db, principal, base_sha256, token_sha256, at)

    # -- one-time enrolment codes ------------------------------------------------------------

    def add_enrolment(self, code_sha256: str, principal: str, expires_at: datetime) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO enrolments (code_sha256, principal, expires_at, used_at)"
                " VALUES (?,?,?,NULL)",
                (code_sha256, principal, expires_at.isoformat()),
            )

    def enrolment_outcome(self, code_sha256: str, now: datetime) -> tuple[str | None, str]:
        """What spending the code now would give, without spending it: (the principal, "ok"),
        or (the principal or None, "unknown", "used", "expired")."""
        row = self._db.execute(
            "SELECT principal, expires_at, used_at FROM enrolments WHERE code_sha256=?",
            (code_sha256,),
        ).fetchone()
        return _outcome(row, now)

    def use_enrolment(
        self,
        code_sha256: str,
        now: datetime,
        base_sha256: Callable[[str], str | None],
        token_sha256: str | None,
    ) -> tuple[str | None, str]:
        """The code spent, in one transaction with the token it gives: (the principal, "ok"),
        or (None, why not: "unknown", "used", "expired", "gone" from the roster).
        `token_sha256` None: the code is only spent (a page link: its session is the grant)."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT principal, expires_at, used_at FROM enrolments WHERE"
                f" code_sha256=?{self.row_lock}",
                (code_sha256,),
            ).fetchone()
            principal, outcome = _outcome(row, now)
            if principal is None or outcome != "ok":
                return principal, outcome
            base = base_sha256(principal)
            if base is None:
                return principal, "gone"
            db.execute(
                "UPDATE enrolments SET used_at=? WHERE code_sha256=?",
                (now.isoformat(), code_sha256),
            )
            if token_sha256 is not None:
                self._put_token(db, principal, base, token_sha256, now)
        return principal, "ok"

    @staticmethod
    def _put_token(
        db: Connection, principal: str, base: str, token_sha256: str | None, at: datetime
    ) -> None:
        db.execute(
            "INSERT INTO tokens (principal, base_sha256, token_sha256, at) VALUES (?,?,?,?)"
            " ON CONFLICT (principal) DO UPDATE SET base_sha256=excluded.base_sha256,"
            " token_sha256=excluded.token_sha256, at=excluded.at",
            (principal, base, token_sha256, at.isoformat()),
        )
        _bump(db)


def _bump(db: Connection) -> None:
    """meta('tokens') changed: every hub reads the overlay again at its next tick."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('tokens', ?) ON CONFLICT (key)"
        " DO UPDATE SET value=excluded.value",
        (secrets.token_hex(8),),
    )


def _outcome(row: Sequence[Any] | None, now: datetime) -> tuple[str | None, str]:
    """An enrolments row read at `now`: (its principal, "ok"), or why it cannot be spent."""
    if row is None:
        return None, "unknown"
    principal, expires_at, used_at = str(row[0]), str(row[1]), row[2]
    if used_at is not None:
        return principal, "used"
    if datetime.fromisoformat(expires_at) <= now:
        return principal, "expired"
    return principal, "ok"
