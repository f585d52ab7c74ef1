"""Days and weeks as the person's language writes them, for the debrief's documents."""

from __future__ import annotations

from datetime import datetime

from deskalert.i18n import language, t


def day(moment: datetime) -> str:
    """A day as the person's language writes it (Babel, the catalogue's pattern): "21/11/2026"
    in French, "21 Nov 2026" in English."""
    from babel.dates import format_date

    return format_date(moment.astimezone().date(), t("format.day"), locale=language())


def week(moment: datetime) -> str:
    """The ISO week, as the person's language says it: "2026-S47", "2026-W47"."""
    year, number, _ = moment.astimezone().isocalendar()
    return t("format.week", year=year, week=f"{number:02d}")
