"""The hub's and the administrator's commands: `hub` (with `hub oncall`, `hub migrate` and
`hub reload`), `backup` and `token new`."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deskalert.cli.common import EXIT_CONFIG, Commands, Parser, default_hub_config, usage
from deskalert.client.profile import DEMO_PORT
from deskalert.config import user_data_dir
from deskalert.errors import ConfigError, DeskAlertError
from deskalert.i18n import N_, t

if TYPE_CHECKING:
    from deskalert.hub.settings import HubConfig


def add_hub(commands: Commands) -> None:
    hub = commands.add_parser(
        "hub",
        help=t("cli.hub.help"),
        description=t("cli.hub.about"),
    )
    hub.add_argument("--config", type=Path, help=t("cli.hub.config"), default=default_hub_config())
    hub.add_argument("--host", default="127.0.0.1", help=t("cli.hub.host"))
    hub.add_argument("--port", type=int, default=DEMO_PORT, help=t("cli.hub.port"))
    hub.add_argument(
        "--data-dir",
        type=Path,
        default=user_data_dir(),
        help=t("cli.hub.data_dir"),
    )
    hub.add_argument("--tls-cert", type=Path, help=t("cli.hub.tls_cert"))
    hub.add_argument("--tls-key", type=Path, help=t("cli.hub.tls_key"))
    hub.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    hub.add_argument(
        "--log-format",
        default="text",
        choices=["text", "json"],
        help=t("cli.hub.log_format"),
    )
    hub.add_argument("--check", action="store_true", help=t("cli.hub.check"))
    hub.add_argument(
        "--notify-test",
        metavar="SUPERVISOR",
        help=t("cli.hub.notify_test"),
    )
    hub.set_defaults(handler=run_hub)
    hub.epilog = t("cli.hub.more")


def hub_config(path: Path) -> HubConfig:
    """hub.toml; at the default place and missing: where it was looked for and how to make one."""
    from deskalert.hub.settings import default_hub_config_path, load_hub_config

    if not path.exists() and path == default_hub_config_path():
        raise ConfigError(t("config.hub_missing", path=path))
    return load_hub_config(path)


def run_hub(args: argparse.Namespace) -> int:
    config = hub_config(args.config)
    if args.check:
        return check_hub(config, args.config, args.notify_test)
    if args.notify_test:
        raise ConfigError(t("admin.error.notify_test"))
    from deskalert.hub.jsonlog import use_log_format

    use_log_format(args.log_format, args.log_level)
    return serve(
        config,
        args.config,
        args.host,
        args.port,
        args.data_dir,
        args.tls_cert,
        args.tls_key,
        args.log_level,
    )


def check_hub(config: HubConfig, path: Path, notify_test: str | None) -> int:
    """`hub --check`: the calendars, the database and the notification channels, one line each."""
    from deskalert.hub.calendar import CalendarError, check_calendars

    try:
        calendars = check_calendars(config)
    except CalendarError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    check_database(config)
    print(
        t("admin.check.ok", path=path, desks=len(config.desks), supervisors=len(config.supervisors))
    )
    for line in calendars:
        print(line)
    return check_channels(config, notify_test)


def check_database(config: HubConfig) -> None:
    """With `[hub] database`: reach it and compare its schema with this hub's (one line)."""
    from deskalert.hub.server import database_url

    url = database_url(config)
    if url is None:
        print(t("admin.check.sqlite"))
        return
    from deskalert.errors import StoreUnavailable
    from deskalert.hub.store.postgres import describe_database

    try:
        print(describe_database(url))
    except StoreUnavailable as exc:
        raise ConfigError(t("cli.store_unavailable", detail=exc.detail)) from None


def check_channels(config: HubConfig, notify_test: str | None) -> int:
    """One line per notification channel (masked: scheme and host); with `notify_test`, the
    result of a test message to each channel of that supervisor. 1 if any cannot be used."""
    from deskalert.hub import notify

    failed = 0
    for channel in notify.all_channels(config).values():
        try:
            notify.check_channel(channel)
            said = t("admin.check.channel_ok", owner=channel.owner, channel=channel.shown())
        except notify.ChannelError as exc:
            failed += 1
            said = t(
                "admin.check.channel_unusable",
                owner=channel.owner,
                channel=channel.shown(),
                reason=exc,
            )
        print(said)
    if notify_test:
        failed += send_test_messages(config, notify_test)
    return 1 if failed else 0


def send_test_messages(config: HubConfig, supervisor: str) -> int:
    """`--notify-test`: a test message to each channel of `supervisor`; how many failed."""
    from deskalert.hub import notify

    try:
        results = notify.send_test(config, supervisor)
    except notify.ChannelError as exc:
        raise ConfigError(str(exc)) from None
    if not results:
        print(t("admin.check.test_none", id=supervisor))
        return 1
    failed = 0
    for shown, reason in results:
        failed += reason is not None
        if reason is None:
            print(t("admin.check.test_sent", id=supervisor, channel=shown))
        else:
            print(t("admin.check.test_failed", id=supervisor, channel=shown, reason=reason))
    return failed


def serve(
    config: HubConfig,
    config_path: Path,
    host: str,
    port: int,
    data_dir: Path,
    tls_cert: Path | None,
    tls_key: Path | None,
    log_level: str,
) -> int:
    """Run a hub in the foreground until ctrl+c or SIGTERM (also the demo's `--hub-only`)."""
    from deskalert.hub.banner import print_banner
    from deskalert.hub.server import build_server, configure_logging

    configure_logging(log_level)
    server = build_server(
        config,
        host=host,
        port=port,
        data_dir=data_dir,
        tls_cert=tls_cert,
        tls_key=tls_key,
        config_path=config_path if config_path.is_file() else None,
    )
    print_banner(server, config, config_path, sys.stdout)
    server.run()
    return 0


# -- `hub oncall` and `hub migrate` ------------------------------------------------------------
# Parsers of their own, chosen by `deskalert.cli.main` when the words after `deskalert` are
# `hub oncall` or `hub migrate`. argparse subcommands under `hub` (which runs without one) would
# take `hub --config x oncall` and silently drop `--config x` (the subcommand's default wins),
# and would word a stray word after `hub` as an unknown command.


def oncall_parser() -> argparse.ArgumentParser:
    oncall = Parser(
        prog="deskalert hub oncall",
        description=t("cli.oncall.about"),
    )
    oncall.add_argument(
        "--config", type=Path, default=default_hub_config(), help=t("cli.hub.config")
    )
    oncall.add_argument("--at", help=t("cli.oncall.at"))
    oncall.add_argument("--site", help=t("cli.oncall.site"))
    oncall.add_argument(
        "--data-dir",
        type=Path,
        default=user_data_dir(),
        help=t("cli.oncall.data_dir"),
    )
    oncall.set_defaults(handler=hub_oncall)
    return oncall


def hub_oncall(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from deskalert.hub import oncall

    config = hub_config(args.config)
    sites = [s.id for s in config.sites]
    if args.site is not None and args.site not in sites:
        raise ConfigError(t("admin.error.site", site=args.site, known=", ".join(sites)))
    moment = oncall.parse_moment(args.at, config)
    chosen = [args.site] if args.site else sites
    logging.getLogger("deskalert.hub").setLevel(logging.ERROR)  # the warnings are printed below
    cards = asyncio.run(oncall.cards_at(config, moment, chosen, args.data_dir))
    print(t("admin.oncall.at", moment=f"{moment:%Y-%m-%d %H:%M %Z}"))
    for card in cards:
        print("\n".join(oncall.describe(card, config)))
    return 1 if any(card.warning for card in cards) else 0


def migrate_parser() -> argparse.ArgumentParser:
    migrate = Parser(
        prog="deskalert hub migrate",
        description=t("cli.migrate.about"),
    )
    migrate.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="HUB_SQLITE3",
        help=t("cli.migrate.from"),
    )
    migrate.add_argument(
        "--to",
        dest="target",
        metavar="POSTGRESQL_URL",
        help=t("cli.migrate.to"),
    )
    migrate.add_argument("--new-epoch", action="store_true", help=t("cli.migrate.new_epoch"))
    migrate.set_defaults(handler=hub_migrate)
    return migrate


def hub_migrate(args: argparse.Namespace) -> int:
    import os

    from deskalert.hub import migrate
    from deskalert.hub.server import resolve_database
    from deskalert.hub.store.postgres import masked

    given = args.target or os.environ.get("DESKALERT_DATABASE")
    target = resolve_database(given, "--to" if args.target else "DESKALERT_DATABASE")
    if target is None:
        raise ConfigError(t("admin.error.migrate_to"))
    if args.new_epoch:
        if args.source is not None:
            raise ConfigError(t("admin.error.new_epoch_from"))
        epoch = migrate.new_epoch(target)
        print(t("admin.migrate.new_epoch", epoch=epoch, target=masked(target)))
        return 0
    if args.source is None:
        raise ConfigError(t("admin.error.migrate_from"))
    moved = migrate.migrate(args.source, target)
    rows = ", ".join(f"{n} {table}" for table, n in moved.counts.items() if n)
    print(
        t(
            "admin.migrate.moved",
            rows=rows or t("admin.migrate.nothing"),
            source=args.source,
            target=moved.target,
            epoch=moved.epoch,
        )
    )
    return 0


def reload_parser() -> argparse.ArgumentParser:
    reload = Parser(
        prog="deskalert hub reload",
        description=t("cli.reload.about"),
    )
    reload.add_argument(
        "--data-dir",
        type=Path,
        default=user_data_dir(),
        help=t("cli.reload.data_dir"),
    )
    reload.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help=t("cli.reload.timeout"),
    )
    reload.set_defaults(handler=hub_reload)
    return reload


def hub_reload(args: argparse.Namespace) -> int:
    import os
    import signal
    import time

    from deskalert.hub.reload import CONTROL_NAME, Control

    before = Control.read(args.data_dir)
    if before is None or not _alive(before.pid):
        raise DeskAlertError(
            t("admin.error.no_hub", data_dir=args.data_dir, control=args.data_dir / CONTROL_NAME)
        )
    try:
        os.kill(before.pid, signal.SIGHUP)
    except PermissionError:
        raise DeskAlertError(t("admin.error.signal", pid=before.pid)) from None
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = Control.read(args.data_dir)
        if now is not None and now.pid == before.pid and now.reloads > before.reloads:
            said = t("admin.reload.said", pid=now.pid, line=now.line)
            print(said, file=sys.stdout if now.ok else sys.stderr)
            return 0 if now.ok else EXIT_CONFIG
    raise DeskAlertError(t("admin.error.no_answer", pid=before.pid, timeout=f"{args.timeout:g}"))


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: the signal will say so
    return True


# -- the administrator's tools -----------------------------------------------------------------


def add_backup(commands: Commands) -> None:
    backup = commands.add_parser(
        "backup",
        help=t("cli.backup.help"),
        description=t("cli.backup.about"),
    )
    backup.add_argument(
        "--config",
        type=Path,
        default=default_hub_config(),
        help=t("cli.backup.config"),
    )
    backup.add_argument(
        "--data-dir",
        type=Path,
        default=user_data_dir(),
        help=t("cli.backup.data_dir"),
    )
    backup.add_argument("--out", type=Path, help=t("cli.backup.out"))
    backup.add_argument(
        "--restore",
        type=Path,
        metavar="COPY",
        help=t("cli.backup.restore"),
    )
    backup.set_defaults(handler=run_backup)


def run_backup(args: argparse.Namespace) -> int:
    import os

    from deskalert.hub import backup
    from deskalert.hub.server import DB_NAME, database_url
    from deskalert.hub.settings import load_hub_config

    db_path = args.data_dir / DB_NAME
    on_postgresql = (
        database_url(load_hub_config(args.config))
        if args.config.exists()
        else os.environ.get("DESKALERT_DATABASE")
    )
    if on_postgresql:
        raise ConfigError(t("admin.error.backup_postgresql"))
    if args.restore is not None:
        epoch, aside = backup.restore(args.restore, db_path)
        said = N_("admin.backup.restored_kept") if aside else N_("admin.backup.restored")
        print(t(said, backup=args.restore, db=db_path, epoch=epoch, aside=aside))
        return 0
    retention_days = load_hub_config(args.config).hub.retention_days
    copy, pruned = backup.backup(db_path, args.out or args.data_dir / "backups", retention_days)
    print(t("admin.backup.done", db=db_path, copy=copy, pruned=len(pruned), days=retention_days))
    return 0


def add_token(commands: Commands) -> None:
    token = commands.add_parser("token", help=t("cli.token.help"))
    token_commands = token.add_subparsers(title=t("cli.token.commands"), metavar="COMMAND")
    token.set_defaults(handler=lambda _args: usage(token))
    new = token_commands.add_parser("new", help=t("cli.token_new.help"))
    new.set_defaults(handler=new_token)


def new_token(_args: argparse.Namespace) -> int:
    from deskalert.hub.settings import token_hash

    token = secrets.token_urlsafe(32)
    # The human lines in the person's language; what is copied, alone on its line, never.
    print(t("admin.token_new.token"), token, sep="\n")
    print(t("admin.token_new.line"), f'token_sha256 = "{token_hash(token)}"', sep="\n")
    return 0
