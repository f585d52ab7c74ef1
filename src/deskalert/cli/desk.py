"""A desk's commands: `desk` (the screen), `send`, `interview`, `hotkeys`, and `login` (which
also stores a supervisor's token).

The desk's screen never needs the hub's code: nothing here imports FastAPI or the hub.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deskalert.cli.common import (
    CONFIG_HELP,
    EXIT_RUNTIME,
    Commands,
    client_config,
    identity_options,
    not_a_code,
    profile_of,
    profile_token,
    token_of,
    usage,
)
from deskalert.errors import ConfigError
from deskalert.i18n import N_, t, tn
from deskalert.labels import label

if TYPE_CHECKING:
    from deskalert.client.outbox import DeliveryResult
    from deskalert.client.send import SendReport
    from deskalert.client.settings import ClientConfig


def add_send(commands: Commands) -> None:
    send = commands.add_parser(
        "send",
        help=t("cli.send.help"),
        description=t("cli.send.about"),
    )
    send.add_argument("code", metavar="CODE", help=t("cli.send.code"))
    identity_options(send, supervisors=False, demo_id=not_a_code(send.prog))
    send.add_argument(
        "--message",
        help=t("cli.send.message"),
    )
    send.add_argument("--test", action="store_true", help=t("cli.send.test"))
    send.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help=t("cli.send.timeout"),
    )
    send.set_defaults(handler=run_send)


def run_send(args: argparse.Namespace) -> int:
    import asyncio

    from deskalert.client.api import HubClient
    from deskalert.client.outbox import quiet_retries
    from deskalert.client.send import argv_text, check_message, send_alert
    from deskalert.journal.store import Journal

    profile = profile_of(args, desk_only=True, needs=N_("cli.needs.send"))
    config = profile.config
    args.message = argv_text(args.message)
    check_message(args.message)
    token = profile_token(profile)

    async def send() -> SendReport:
        async with HubClient(config.hub_urls, token) as client:
            return await send_alert(
                journal,
                client,
                args.code,
                test=args.test,
                message=args.message,
                timeout=args.timeout,
            )

    quiet_retries()
    journal = Journal(profile.journal_path)
    try:
        report = asyncio.run(send())
    finally:
        journal.close()
    return print_send(report)


def print_send(report: SendReport) -> int:
    """What `send` says: one line on stdout once the hub has it, else why and whom to call."""
    from deskalert.client.hub_words import detail
    from deskalert.client.outbox import outside_site_network
    from deskalert.journal.store import Delivery

    for earlier, result in report.earlier:
        print(
            t(
                "send.earlier",
                id=earlier.id,
                code=earlier.code,
                status=label("delivery", result.status.value),
            ),
            file=sys.stderr,
        )
    entry, result = report.entry, report.result
    if result.transmitted:
        print(
            t(
                "send.transmitted",
                label=entry.code,
                id=entry.id,
                drill=t("drill") if entry.test else "",
            )
        )
        return 0
    call = t("send.call", name=report.call.name, phone=report.call.phone) if report.call else ""
    if (outside := outside_site_network(result.reason)) is not None:  # IT must fix it
        print(
            t("send.outside_network", detail=outside, call=call or t("send.call_anyone")),
            file=sys.stderr,
        )
        return EXIT_RUNTIME
    key = {Delivery.REFUSED: N_("send.refused"), Delivery.CANCELLED: N_("send.cancelled")}.get(
        result.status, N_("send.queued")
    )
    print(t(key, reason=said_for(result), call=call), file=sys.stderr)
    if result.reason and result.status is not Delivery.CANCELLED:  # the hub's or httpx's words
        print(t("hubsays.details", detail=detail(result.reason)), file=sys.stderr)
    return EXIT_RUNTIME


def said_for(result: DeliveryResult) -> str:
    """Why, in the person's words: the failure's kind, or the refusal's code."""
    from deskalert.client.hub_words import said, said_reason
    from deskalert.journal.store import Delivery

    if result.error is not None:
        return said(result.error)
    if result.status is Delivery.REFUSED and result.reason:
        return said_reason(result.reason)
    return t("hubsays.unreachable")  # still queued from an earlier try


def add_interview(commands: Commands) -> None:
    interview = commands.add_parser(
        "interview",
        help=t("cli.interview.help"),
        description=t("cli.interview.about"),
    )
    interview_commands = interview.add_subparsers(
        title=t("cli.interview.commands"), metavar="COMMAND"
    )
    interview.set_defaults(handler=lambda _args: usage(interview))
    start = interview_commands.add_parser("start", help=t("cli.interview_start.help"))
    start.add_argument(
        "--minutes",
        type=float,
        default=30.0,
        help=t("cli.interview_start.minutes"),
    )
    start.add_argument("--room", default="", help=t("cli.interview_start.room"))
    stop = interview_commands.add_parser("stop", help=t("cli.interview_stop.help"))
    for command in (start, stop):
        identity_options(command, supervisors=False)
        command.set_defaults(handler=run_interview, stop=command is stop)


def run_interview(args: argparse.Namespace) -> int:
    import asyncio

    from deskalert.client.api import HubClient
    from deskalert.client.interview import start_interview, stop_interviews

    profile = profile_of(args, desk_only=True, needs=N_("cli.needs.interview"))
    config = profile.config
    if not args.stop and not 0 < args.minutes <= 480:
        raise ConfigError(t("interview.bad_minutes"))
    token = profile_token(profile)
    desk = config.desk
    assert desk is not None  # client_config checked it

    async def call() -> str:
        async with HubClient(config.hub_urls, token) as client:
            if args.stop:
                closed = await stop_interviews(client, desk.id)
                return tn("interview.stopped", len(closed))
            session = await start_interview(client, args.room, args.minutes)
            due = session.due_at.astimezone().strftime("%H:%M")
            return t(
                "interview.started",
                minutes=f"{session.expected_min:g}",
                due=due,
                room=session.room or "-",
            )

    print(asyncio.run(call()))
    return 0


def add_desk(commands: Commands) -> None:
    desk = commands.add_parser(
        "desk",
        help=t("cli.desk.help"),
        description=t("cli.desk.about"),
    )
    desk.add_argument("--config", type=Path, help=t(CONFIG_HELP))
    desk.add_argument("--test", action="store_true", help=t("cli.desk.test"))
    desk.set_defaults(handler=run_desk)


def run_desk(args: argparse.Namespace) -> int:
    from deskalert.client.outbox import quiet_retries
    from deskalert.journal.store import Journal, default_journal_path

    config = client_config(
        args,
        "desk",
        N_("cli.needs.desk"),
    )
    token = token_of(config)
    from deskalert.tui.desk.app import DeskApp

    quiet_retries()
    journal = Journal(default_journal_path())
    try:
        DeskApp(config, token, journal, drill_session=args.test).run()
    finally:
        journal.close()
    return 0


def add_hotkeys(commands: Commands) -> None:
    hotkeys = commands.add_parser(
        "hotkeys",
        help=t("cli.hotkeys.help"),
        description=t("cli.hotkeys.about"),
    )
    identity_options(hotkeys, supervisors=False)
    hotkeys.set_defaults(handler=run_hotkeys)


def run_hotkeys(args: argparse.Namespace) -> int:
    import asyncio

    from deskalert.client.outbox import quiet_retries
    from deskalert.journal.store import Journal

    profile = profile_of(args, desk_only=True, needs=N_("cli.needs.hotkeys"))
    config = demo_hotkeys(profile.config) if profile.demo else profile.config
    if config.hotkeys is None:
        from deskalert.client.settings import find_config_path

        raise ConfigError(t("hotkeys.missing", path=find_config_path(args.config)))
    token = profile_token(profile)
    from deskalert.client.hotkeys import open_source, standalone

    source = open_source(config.hotkeys)  # a device that cannot be read: exit 2 at once
    quiet_retries()
    journal = Journal(profile.journal_path)
    standalone.log_to_file(journal.path.with_name("hotkeys.log"))
    try:
        asyncio.run(
            standalone.run(
                config.hotkeys,
                source,
                config.hub_urls,
                token,
                journal,
                config.desk.id if config.desk else None,
            )
        )
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass  # ctrl+c or SIGTERM before the listener was up: a normal stop too
    finally:
        journal.close()
    return 0


def demo_hotkeys(config: ClientConfig) -> ClientConfig:
    """A demo desk listens to the combinations of config.example.toml, and says which."""
    from deskalert.client.settings import Hotkeys

    keys = {"renfort": "<ctrl>+<shift>+<f2>", "malaise": "<ctrl>+<shift>+<f4>"}
    print(t("hotkeys.demo", keys=", ".join(f"{code} = {combo}" for code, combo in keys.items())))
    return config.model_copy(update={"hotkeys": Hotkeys.model_validate(keys)})


def add_login(commands: Commands) -> None:
    login = commands.add_parser(
        "login",
        help=t("cli.login.help"),
        description=t("cli.login.about"),
    )
    login.add_argument("--config", type=Path, help=t("cli.login.config"))
    login.set_defaults(handler=run_login)


def run_login(args: argparse.Namespace) -> int:
    """Where the token will go first (the keyring, or a 0600 file), then ask for it."""
    import keyring
    import keyring.errors

    from deskalert.client.settings import (
        KEYRING_SERVICE,
        TOKEN_ENV,
        keyring_usable,
        load_client_config,
        token_file,
        write_token_file,
    )

    config = load_client_config(args.config)
    who = config.identity
    in_keyring = keyring_usable()
    if not in_keyring:
        print(t("login.no_keyring", path=token_file(who)), file=sys.stderr)
    token = ask_token(who, TOKEN_ENV)
    if in_keyring:
        try:
            keyring.set_password(KEYRING_SERVICE, who, token)
            print(t("login.stored", who=who))
            return 0
        except keyring.errors.KeyringError:
            pass  # it answered the probe, not the write (locked): the file then
    print(t("login.stored_file", who=who, path=write_token_file(who, token)))
    return 0


def ask_token(who: str, env: str) -> str:
    """The token typed at the terminal (not echoed); no terminal, or nothing typed: one line."""
    import getpass

    if not sys.stdin.isatty():
        raise ConfigError(t("login.no_terminal", env=env))
    try:
        token = getpass.getpass(t("login.prompt", who=who)).strip()
    except EOFError:
        token = ""
    if not token:
        raise ConfigError(t("login.empty"))
    return token
