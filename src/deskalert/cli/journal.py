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
from deskalert.i18n import N_, t, tn
from deskalert.journal.debrief import FORMATS

if TYPE_CHECKING:
    from deskalert.client.profile import Profile
    from deskalert.client.settings import ClientConfig
    from deskalert.journal.debrief import Period
    from deskalert.journal.models import Incident
    from deskalert.models import Broadcast, SessionFigures

EXPORT_HELP = N_("cli.export.help")
REPORT_HELP = N_("cli.report.help")


def add_export(commands: Commands) -> None:
    export = _period_command(commands, "export", EXPORT_HELP, run_export)
    export.add_argument("--format", choices=list(FORMATS), default="md")
    export.add_argument("--output", type=Path, metavar="F", help=t("cli.export.output"))
    export.add_argument("--broadcasts", action="store_true", help=t("cli.export.broadcasts"))


def add_report(commands: Commands) -> None:
    _period_command(commands, "report", REPORT_HELP, run_report)


def _period_command(
    commands: Commands, name: str, help_text: str, handler: Handler
) -> argparse.ArgumentParser:
    """`export` and `report`: who (a desk, a supervisor, a demo one) and which days."""
    command = commands.add_parser(
        name,
        help=t(help_text),
        description=t("cli.period.about", what=t(help_text)),
    )
    identity_options(command, supervisors=True)
    command.add_argument("--since", type=day, metavar="D", help=t("cli.period.since"))
    command.add_argument("--until", type=day, metavar="D", help=t("cli.period.until"))
    command.set_defaults(handler=handler)
    return command


def day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(t("cli.bad_day", value=value)) from None


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
        help=t("cli.journal.help"),
        description=t("cli.journal.about"),
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
        needs=N_("cli.needs.journal"),
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
        help=t("cli.purge.help"),
        description=t("cli.purge.about"),
    )
    identity_options(purge, supervisors=False)
    purge.set_defaults(handler=run_purge)


def run_purge(args: argparse.Namespace) -> int:
    from deskalert.journal.store import Journal, purge_expired

    profile = profile_of(args, desk_only=True, needs=N_("cli.needs.purge"))
    days = profile.config.retention_days
    journal = Journal(profile.journal_path)
    try:
        count = purge_expired(journal, days)
    finally:
        journal.close()
    print(tn("purge.done", count, days=days))
    return 0
