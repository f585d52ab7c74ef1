"""What the tests send the hub: a token's headers, a new alert's body."""

from __future__ import annotations

import uuid
from typing import Any


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer tok-{who}"}


def new_alert(code: str = "renfort", **extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "code": code,
        "created_at": "2026-11-21T10:00:00+01:00",
        **extra,
    }
