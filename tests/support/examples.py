"""How many examples a property test tries: its own figure under the `ci` hypothesis profile
(the default, what `make test` runs), a tenth of it (at least 5) under `quick` (`make check`).

The profiles are registered in tests/conftest.py; `--hypothesis-profile=quick` picks the short
one (10 examples for a test that names no figure). A test's inline `@settings(max_examples=...)`
would override the profile, hence this."""

from __future__ import annotations

from hypothesis import settings

QUICK_SHARE = 10


def examples(n: int) -> int:
    if settings.get_current_profile_name() == "quick":
        return max(5, n // QUICK_SHARE)
    return n
