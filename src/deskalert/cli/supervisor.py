"""A supervisor's command: `supervise`, the pane (`export` and `report` serve them too, in
`deskalert.cli.journal`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deskalert.cli.common import CONFIG_HELP, Commands, client_config, token_of
from deskalert.errors import ConfigError
from deskalert.i18n import N_, t


def add_supervise(commands: Commands) -> None:
    supervise = commands.add_parser(
        "supervise",
        help=t("cli.supervise.help"),
        description=t("cli.supervise.about"),
    )
    supervise.add_argument("--config", type=Path, help=t(CONFIG_HELP))
    # Retired for the hub's page (docs/supervisors/page.md); kept so that an old
    # command line gets a pointer rather than a usage error.
    supervise.add_argument("--web", action="store_true", help=t("cli.supervise.web"))
    supervise.add_argument("--host", help=argparse.SUPPRESS)
    supervise.add_argument("--port", type=int, help=argparse.SUPPRESS)
    supervise.set_defaults(handler=run_supervise)


def run_supervise(args: argparse.Namespace) -> int:
    if args.web:
        return page_pointer(args)
    config = client_config(
        args,
        "supervisor",
        N_("cli.needs.supervise"),
    )
    token = token_of(config)
    from deskalert.journal.store import Journal, default_journal_path
    from deskalert.tui.pane.app import PaneApp as SupervisorApp

    journal = Journal(default_journal_path())
    try:
        SupervisorApp(config, token, journal=journal).run()
    finally:
        journal.close()
    return 0


def page_pointer(args: argparse.Namespace) -> int:
    """`supervise --web` is retired for the hub's page: one line that says where it went."""
    from deskalert.client.settings import load_client_config

    try:
        page = f"{load_client_config(args.config).hub_url}/page/"
    except ConfigError:
        page = "<hub url>/page/"
    retired = t("cli.web_retired", page=page)
    print(t("cli.failed", prog="deskalert", message=retired), file=sys.stderr)
    return 2
