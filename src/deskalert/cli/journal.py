"""After the incidents: `journal` and `purge` (a desk's journal), `export` and `report` (a desk's
journal, or for a supervisor the hub's every desk)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from deskalert.cli.common import (
    Commands,
    Handler,
    identity_options,
    profile_of,
    profile_token,
)
from deskalert.errors import ConfigError
from deskalert.i18n import t, tn
from deskalert.journal.debrief import FORMATS

if TYPE_CHECKING:
    from deskalert.client.profile import Profile
    from deskalert.client.settings import ClientConfig
    from deskalert.journal.debrief import Period
    from deskalert.journal.models import Incident
    from deskalert.models import Broadcast, SessionFigures

EXPORT_HELP = "the incidents and their notes for the debrief: Markdown, CSV or JSON"
REPORT_HELP = "the figures: incidents per week, type and desk, response times, as charts"


def add_export(commands: Commands) -> None:
    export = _period_command(commands, "export", EXPORT_HELP, run_export)
    export.add_argument("--format", choices=list(FORMATS), default="md")
    export.add_argument("--output", type=Path, metavar="F", help="file to write (default: stdout)")
    export.add_argument(
        "--broadcasts",
        action="store_true",
        help="the supervisors' messages of the period instead of the incidents (Markdown also"
        " has them after the incidents; CSV: one row per message and desk)",
    )


def add_report(commands: Commands) -> None:
    _period_command(commands, "report", REPORT_HELP, run_report)


def _period_command(
    commands: Commands, name: str, help_text: str, handler: Handler
) -> argparse.ArgumentParser:
    """`export` and `report`: who (a desk, a supervisor, a demo one) and which days."""
    command = commands.add_parser(
        name,
        help=help_text,
        description=help_text + ". A desk"
        " reads its journal; a supervisor reads the hub (every"
        " desk's alerts and shared notes). Without --since and"
        " --until: every alert recorded.",
    )
    identity_options(command, supervisors=True)
    command.add_argument("--since", type=day, metavar="D", help="first day, YYYY-MM-DD (included)")
    command.add_argument("--until", type=day, metavar="D", help="last day, YYYY-MM-DD (included)")
    command.set_defaults(handler=handler)
    return command


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD") from None


def incidents(args: argparse.Namespace) -> tuple[Profile, Period, list[Incident]]:
    """(profile, period, incidents of the period): a desk's journal, or the hub."""
    import asyncio

    from deskalert.client.incidents import incidents_of
    from deskalert.journal.debrief import Period

    profile = profile_of(args, desk_only=False, needs="")
    period = Period.of_days(args.since, args.until)
    token = None if profile.is_desk else profile_token(profile)
    return profile, period, asyncio.run(incidents_of(profile, period, token))


async def hub_figures(
    config: ClientConfig, token: str, alerts: list[Incident], period: Period
) -> tuple[dict[str, int], SessionFigures, list[Broadcast]]:
    """For a supervisor's report: the notification attempts in the alerts' histories, the
    interview sessions and checks, and the supervisors' messages of the period."""
    from deskalert.client.api import HubClient
    from deskalert.journal.debrief import count_notifications

    async with HubClient(config.hub_urls, token) as client:
        notifications = count_notifications([await client.history(i.alert.id) for i in alerts])
        sessions = await client.session_figures(period.since, period.until)
        return notifications, sessions, await client.broadcasts_sent(period.since, period.until)


def run_export(args: argparse.Namespace) -> int:
    import asyncio

    from deskalert.client.incidents import broadcasts_of
    from deskalert.journal.debrief import export_text

    profile, period, found = incidents(args)
    token = None if profile.is_desk else profile_token(profile)
    messages = asyncio.run(broadcasts_of(profile, period, token))
    desk = profile.config.desk.id if profile.config.desk else None
    text = export_text(
        found,
        args.format,
        profile.config.language,
        period,
        messages,
        desk,
        broadcasts_only=args.broadcasts,
    )
    if messages and not args.broadcasts and args.format != "md":
        print(tn("export.broadcasts_apart", len(messages)), file=sys.stderr)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(t("export.cannot_write", path=args.output, reason=exc.strerror)) from None
    if args.broadcasts:
        print(tn("export.written_broadcasts", len(messages), path=args.output), file=sys.stderr)
    else:
        print(tn("export.written", len(found), path=args.output), file=sys.stderr)
    return 0


def run_report(args: argparse.Namespace) -> int:
    from deskalert.journal.debrief import report_text

    profile, period, found = incidents(args)
    notifications = sessions = None
    broadcasts: list[Broadcast] = []
    if not profile.is_desk:  # a supervisor: the hub holds notifications, sessions, messages
        import asyncio

        notifications, sessions, broadcasts = asyncio.run(
            hub_figures(profile.config, profile_token(profile), found, period)
        )
    sys.stdout.write(
        report_text(
            found,
            profile.config.language,
            period.since,
            period.until,
            color=sys.stdout.isatty(),
            notifications=notifications,
            sessions=sessions,
            broadcasts=broadcasts,
        )
    )
    return 0


def add_journal(commands: Commands) -> None:
    journal = commands.add_parser(
        "journal",
        help="the desk's incidents, their timelines and notes (also key j of the desk)",
        description="Open the desk's journal: incidents newest first, search, filters, the"
        " incident note of any past alert, sharing a finished note with the hub.",
    )
    identity_options(journal, supervisors=False)
    journal.set_defaults(handler=run_journal)


def run_journal(args: argparse.Namespace) -> int:
    from deskalert.client.settings import TokenMissing
    from deskalert.journal.store import Journal
    from deskalert.tui.desk.journal import JournalApp

    profile = profile_of(
        args,
        desk_only=True,
        needs="`deskalert journal` is a desk's journal; a"
        " supervisor uses `deskalert export` or `report`",
    )
    try:
        token: str | None = profile.token()
    except TokenMissing:
        token = None  # the journal opens anyway; sharing says why it cannot
    journal = Journal(profile.journal_path)
    try:
        JournalApp(journal, profile.config.language, profile.config.hub_urls, token).run()
    finally:
        journal.close()
    return 0


def add_purge(commands: Commands) -> None:
    purge = commands.add_parser(
        "purge",
        help="forget the desk's incidents older than retention_days (config.toml)",
        description="Delete from the desk's journal the incidents, notes and sent alerts older"
        " than retention_days; alerts still queued are never deleted.",
    )
    identity_options(purge, supervisors=False)
    purge.set_defaults(handler=run_purge)


def run_purge(args: argparse.Namespace) -> int:
    from deskalert.journal.store import Journal, purge_expired

    profile = profile_of(args, desk_only=True, needs="`deskalert purge` cleans a desk's journal")
    days = profile.config.retention_days
    journal = Journal(profile.journal_path)
    try:
        count = purge_expired(journal, days)
    finally:
        journal.close()
    print(tn("purge.done", count, days=days))
    return 0
