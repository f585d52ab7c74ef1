"""The `deskalert` command and its subcommands.

Every error a person can cause (a wrong file, a busy port, a bad argument) ends as one line on
stderr and a non-zero exit: 2 for a configuration or usage problem, 1 for a runtime failure.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from deskalert import __version__
from deskalert.client.profile import DEMO_PORT, demo_data_dir
from deskalert.config import user_data_dir
from deskalert.errors import ConfigError, DeskAlertError
from deskalert.i18n import N_, Language, set_language, t, tn
from deskalert.journal.debrief import FORMATS
from deskalert.labels import label

EXIT_RUNTIME = 1
EXIT_CONFIG = 2
DEMO_DESK = "guichet-3"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `hub oncall` has its own parser: a subcommand under `hub` would make argparse read any
    # stray word after `hub` as a command name (and word its errors that way).
    own = {"oncall": build_oncall_parser, "migrate": build_migrate_parser}
    sub = argv[1] if len(argv) > 1 and argv[0] == "hub" and argv[1] in own else None
    parser = own[sub]() if sub else build_parser()
    args = parser.parse_args(argv[2:] if sub else argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"deskalert: {one_line(exc)}", file=sys.stderr)
        return EXIT_CONFIG
    except DeskAlertError as exc:
        print(f"deskalert: {one_line(exc)}", file=sys.stderr)
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        return 130


def one_line(exc: Exception) -> str:
    """An error as the one line promised (a message may quote a value with a line break)."""
    return " ".join(str(exc).splitlines())


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line too, like every other error; the usage is one --help away."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="deskalert",
        description="Panic/alert system for the front desks of public services.",
    )
    parser.add_argument("--version", action="version", version=f"deskalert {__version__}")
    parser.set_defaults(handler=lambda args: _usage(parser))
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    hub = commands.add_parser(
        "hub",
        help="run the shared alert hub (HTTP API + live event stream)",
        description="Run the hub that stores every alert and pushes every change live.",
    )
    hub.add_argument("--config", type=Path, help="hub.toml (default: %(default)s)",
                     default=_default_hub_config())
    hub.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    hub.add_argument("--port", type=int, default=DEMO_PORT, help="port (default: %(default)s; 0: any free)")
    hub.add_argument("--data-dir", type=Path, default=user_data_dir(),
                     help="where the SQLite file lives (default: %(default)s)")
    hub.add_argument("--tls-cert", type=Path, help="PEM certificate, to serve HTTPS")
    hub.add_argument("--tls-key", type=Path, help="PEM private key of --tls-cert")
    hub.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    hub.add_argument("--log-format", default="text", choices=["text", "json"],
                     help="json: one JSON object a line on stderr, for a SIEM (default: text)")
    hub.add_argument("--check", action="store_true", help="validate the config and exit")
    hub.add_argument("--notify-test", metavar="SUPERVISOR",
                     help="with --check: send a test notification to each channel of SUPERVISOR"
                     " and print each result (exit 1 if any failed)")
    hub.set_defaults(handler=_run_hub)
    hub.epilog = ("`deskalert hub oncall --help`: who would be called at a given time, and the"
                  " chain after them. `deskalert hub migrate --help`: a site's history from its"
                  " SQLite file into PostgreSQL, to run several hubs.")

    demo = commands.add_parser(
        "demo",
        help="try deskalert: a local hub with a demo roster and the desk screen (`make run`)",
        description="Start a hub on 127.0.0.1 with the demo roster of hub.example.toml and open the"
        " desk screen of Guichet 3. From a second terminal, `deskalert demo --join --desk"
        " guichet-2` opens another desk on the same hub, `deskalert demo --join --supervisor"
        " p.leroy` a supervisor's pane. `deskalert journal --demo`, `deskalert export --demo`"
        " and `deskalert report --demo` read what the demo desk recorded.",
    )
    demo.add_argument("--port", type=int, default=DEMO_PORT, help="port (default: %(default)s)")
    demo.add_argument("--data-dir", type=Path, default=demo_data_dir(),
                      help="demo hub database and desk journals (default: %(default)s)")
    demo.add_argument("--desk", default="guichet-3", help="the desk to open (default: %(default)s)")
    demo.add_argument("--supervisor", metavar="ID",
                      help="open the supervisor pane of ID (e.g. m.durand) instead of a desk")
    demo.add_argument("--join", action="store_true",
                      help="do not start a hub: open the desk on the demo hub already running")
    demo.add_argument("--hub-only", action="store_true", help="run the demo hub alone, no screen")
    demo.add_argument("--language", choices=["fr", "en"], default="fr")
    demo.set_defaults(handler=_run_demo)

    send = commands.add_parser(
        "send",
        help="raise an alert without the desk screen (a shortcut, a foot pedal, a script)",
        description="Raise an alert through the desk's outbox: written to the journal first, then"
        " sent until the hub has it. Exit 0 once the hub stored it; 1 if it is still queued (it"
        " goes out with the next `deskalert desk` or `deskalert send`) or was refused.",
    )
    send.add_argument("code", metavar="CODE", help="an alert code of the hub's repertoire, e.g. renfort")
    send.add_argument("--config", type=Path, help="config.toml (default: $DESKALERT_CONFIG, then"
                      " the user config directory)")
    send.add_argument("--message", help="short text, at most 280 characters; never the visitor's"
                      " name or file number")
    send.add_argument("--test", action="store_true", help="a drill: marked EXERCICE everywhere")
    send.add_argument("--timeout", type=float, default=10.0,
                      help="seconds to keep trying before giving up for now (default: %(default)s)")
    send.set_defaults(handler=_send)

    interview = commands.add_parser(
        "interview", help="the interview timer: the hub checks on this desk when time is up",
        description="Start (or stop) an interview session held by the hub: when the expected"
        " time is up the desk is asked 'Tout va bien ?', and without an answer the hub alerts"
        " the on-call chain. Exit 0 once the hub has it, 1 if it could not be reached.")
    interview_commands = interview.add_subparsers(title="interview commands", metavar="COMMAND")
    interview.set_defaults(handler=lambda _args: _usage(interview))
    start = interview_commands.add_parser("start", help="start a session on this desk")
    start.add_argument("--minutes", type=float, default=30.0,
                       help="expected length in minutes (default: %(default)g)")
    start.add_argument("--room", default="", help='where, e.g. "Box A"')
    stop = interview_commands.add_parser("stop", help="close this desk's open session")
    for command in (start, stop):
        command.add_argument("--config", type=Path, help="config.toml (default: $DESKALERT_CONFIG,"
                             " then the user config directory)")
        command.set_defaults(handler=_interview, stop=command is stop)

    desk = commands.add_parser(
        "desk",
        help="the desk screen: the supervisor on call, the link, one key to call for help",
        description="Open the desk app. Alerts queued by an earlier run go out at start; those"
        " `deskalert send` or `deskalert hotkeys` leave queued while it is open go out as soon as"
        " the hub answers.",
    )
    desk.add_argument("--config", type=Path, help="config.toml (default: $DESKALERT_CONFIG, then"
                      " the user config directory)")
    desk.add_argument("--test", action="store_true",
                      help="drill session: every alert sent is marked EXERCICE")
    desk.set_defaults(handler=_desk)

    hotkeys = commands.add_parser(
        "hotkeys",
        help="listen to the global keys of [hotkeys] without the desk screen (autostart at login)",
        description="Raise alerts from key combinations pressed anywhere on the desktop (X11,"
        " Windows, macOS), or from an input device ([hotkeys] device = ..., evdev), through the"
        " desk's outbox like `deskalert send`. Prints nothing; logs to hotkeys.log beside the"
        " journal. Exit 0 on SIGTERM or ctrl+c; 2 if [hotkeys] is missing or the device cannot"
        " be read.",
    )
    hotkeys.add_argument("--config", type=Path, help="config.toml (default: $DESKALERT_CONFIG,"
                         " then the user config directory)")
    hotkeys.set_defaults(handler=_hotkeys)

    supervise = commands.add_parser(
        "supervise",
        help="the supervisor pane: live alerts, j'arrive, escalation, presence, on-call",
        description="Open the supervisor pane (config.toml with a [supervisor] section).",
    )
    supervise.add_argument("--config", type=Path, help="config.toml (default: $DESKALERT_CONFIG,"
                           " then the user config directory)")
    # Retired for the hub's page (README, "The supervisors' page"); kept so that an old
    # command line gets a pointer rather than a usage error.
    supervise.add_argument("--web", action="store_true",
                           help="retired: prints where the hub's page is, exit 2")
    supervise.add_argument("--host", help=argparse.SUPPRESS)
    supervise.add_argument("--port", type=int, help=argparse.SUPPRESS)
    supervise.set_defaults(handler=_supervise)

    for name, help_text in (
        ("export", "the incidents and their notes for the debrief: Markdown, CSV or JSON"),
        ("report", "the figures: incidents per week, type and desk, response times, as charts"),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text + ". A desk"
                                      " reads its journal; a supervisor reads the hub (every"
                                      " desk's alerts and shared notes). Without --since and"
                                      " --until: every alert recorded.")
        _identity_options(command, supervisors=True)
        command.add_argument("--since", type=_date, metavar="D",
                             help="first day, YYYY-MM-DD (included)")
        command.add_argument("--until", type=_date, metavar="D",
                             help="last day, YYYY-MM-DD (included)")
        if name == "export":
            command.add_argument("--format", choices=list(FORMATS), default="md")
            command.add_argument("--output", type=Path, metavar="F",
                                 help="file to write (default: stdout)")
        command.set_defaults(handler=_export if name == "export" else _report)

    journal = commands.add_parser(
        "journal", help="the desk's incidents, their timelines and notes (also key j of the desk)",
        description="Open the desk's journal: incidents newest first, search, filters, the"
        " incident note of any past alert, sharing a finished note with the hub.",
    )
    _identity_options(journal, supervisors=False)
    journal.set_defaults(handler=_journal)

    purge = commands.add_parser(
        "purge", help="forget the desk's incidents older than retention_days (config.toml)",
        description="Delete from the desk's journal the incidents, notes and sent alerts older"
        " than retention_days; alerts still queued are never deleted.",
    )
    _identity_options(purge, supervisors=False)
    purge.set_defaults(handler=_purge)

    login = commands.add_parser(
        "login",
        help="store this desk's or supervisor's token in the system keyring",
        description="Ask for the token (it is not echoed) and store it in the system keyring"
        " (service deskalert, user = the desk or supervisor id of config.toml).",
    )
    login.add_argument("--config", type=Path, help="config.toml")
    login.set_defaults(handler=_login)

    backup = commands.add_parser(
        "backup", help="copy the hub's database while it runs and prune old copies; or restore one",
        description="Copy hub.sqlite3 with SQLite's backup API into --out (0600 files), give the"
        " copy an epoch of its own, and delete the copies older than retention_days (hub.toml)."
        " With --restore, and the hub stopped: put a copy back as the hub's database, under a new"
        " epoch, so that every desk and pane reloads instead of waiting for events it had.",
    )
    backup.add_argument("--config", type=Path, default=_default_hub_config(),
                        help="hub.toml, for retention_days (default: %(default)s)")
    backup.add_argument("--data-dir", type=Path, default=user_data_dir(),
                        help="where hub.sqlite3 lives (default: %(default)s)")
    backup.add_argument("--out", type=Path, help="directory of the copies (default: DATA_DIR/backups)")
    backup.add_argument("--restore", type=Path, metavar="COPY",
                        help="with the hub stopped: make COPY the hub's database again")
    backup.set_defaults(handler=_backup)

    token = commands.add_parser("token", help="make tokens for desks and supervisors")
    token_commands = token.add_subparsers(title="token commands", metavar="COMMAND")
    token.set_defaults(handler=lambda args: _usage(token))
    new = token_commands.add_parser(
        "new", help="print a fresh random token and the token_sha256 line for hub.toml"
    )
    new.set_defaults(handler=_new_token)
    return parser


def build_migrate_parser() -> argparse.ArgumentParser:
    migrate = _Parser(
        prog="deskalert hub migrate",
        description="Move a site's history (alerts, events with their ids and epoch, notes,"
        " notifications, sessions, presence, the page's link secret) from the SQLite file of a"
        " stopped hub into an empty PostgreSQL database, in one transaction; then start the hubs"
        " with [hub] database = that URL. With --new-epoch: give the PostgreSQL event log a new"
        " identity, after restoring a backup of the database.",
    )
    migrate.add_argument("--from", dest="source", type=Path, metavar="HUB_SQLITE3",
                         help="the stopped hub's hub.sqlite3")
    migrate.add_argument("--to", dest="target", metavar="POSTGRESQL_URL",
                         help="postgresql://user:password@host/db (an empty database), or"
                         " env:NAME, file:/path to read it from (default: $DESKALERT_DATABASE,"
                         " so the password stays out of the command line)")
    migrate.add_argument("--new-epoch", action="store_true",
                         help="instead of moving: stamp a new epoch on --to")
    migrate.set_defaults(handler=_hub_migrate)
    return migrate


def _hub_migrate(args: argparse.Namespace) -> int:
    import os

    from deskalert.hub import migrate
    from deskalert.hub.pgstore import masked
    from deskalert.hub.server import resolve_database

    given = args.target or os.environ.get("DESKALERT_DATABASE")
    target = resolve_database(given, "--to" if args.target else "DESKALERT_DATABASE")
    if target is None:
        raise ConfigError("--to: the PostgreSQL database (a postgresql:// URL, env:NAME,"
                          " file:/path), or set DESKALERT_DATABASE")
    if args.new_epoch:
        if args.source is not None:
            raise ConfigError("--new-epoch stamps --to only; leave out --from")
        print(f"new epoch {migrate.new_epoch(target)} on {masked(target)}: desks and"
              " panes reload their picture at their next connection")
        return 0
    if args.source is None:
        raise ConfigError("--from: the hub.sqlite3 to move (or --new-epoch)")
    print(migrate.migrate(args.source, target).describe(args.source))
    return 0


def build_oncall_parser() -> argparse.ArgumentParser:
    oncall = _Parser(
        prog="deskalert hub oncall",
        description="Print, per site, who the hub would call at --at (default: now) and the"
        " chain after them, computed as the hub does from the calendars and weekly slots of"
        " hub.toml (overrides taken on a running hub are not known here: GET /v1/oncall)."
        " Exit 1 if a site's calendar could not be used.",
    )
    oncall.add_argument("--config", type=Path, default=_default_hub_config(),
                        help="hub.toml (default: %(default)s)")
    oncall.add_argument("--at", help='a date and time in the hub\'s zone, e.g. "2026-12-24 22:00"')
    oncall.add_argument("--site", help="only this site")
    oncall.add_argument("--data-dir", type=Path, default=user_data_dir(),
                        help="the hub's data directory, for the cached copy of url calendars"
                        " (default: %(default)s)")
    oncall.set_defaults(handler=_hub_oncall)
    return oncall


def _identity_options(command: argparse.ArgumentParser, *, supervisors: bool) -> None:
    """--config, or --demo [ID]: a desk (or supervisor) of `deskalert demo` on this machine."""
    who = "a desk or supervisor" if supervisors else "a desk"
    command.add_argument("--config", type=Path, metavar="F", help="config.toml (default:"
                         " $DESKALERT_CONFIG, then the user config directory)")
    command.add_argument("--demo", nargs="?", const=DEMO_DESK, metavar="ID",
                         help=f"use {who} of `deskalert demo` instead of config.toml: its journal,"
                         f" the demo hub, the demo token (default ID: {DEMO_DESK})")
    command.add_argument("--language", choices=["fr", "en"], metavar="LANG",
                         help="with --demo: fr (default) or en")
    command.add_argument("--port", type=int,
                         help=f"with --demo: the demo hub's port (default: {DEMO_PORT})")


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_CONFIG


def _default_hub_config() -> Path:
    from deskalert.hub.settings import default_hub_config_path

    return default_hub_config_path()


def _run_hub(args: argparse.Namespace) -> int:
    from deskalert.hub.settings import default_hub_config_path, load_hub_config

    if not args.config.exists() and args.config == default_hub_config_path():
        raise ConfigError(
            f"no hub configuration at {args.config}: copy hub.example.toml there, then give each"
            " desk and supervisor a token made with `deskalert token new`"
        )
    config = load_hub_config(args.config)
    if args.check:
        from deskalert.hub.calendar import CalendarError, check_calendars

        try:
            calendars = check_calendars(config)
        except CalendarError as exc:
            raise ConfigError(f"{args.config}: {exc}") from None
        _check_database(config)
        print(f"{args.config}: OK ({len(config.desks)} desks, {len(config.supervisors)} supervisors)")
        for line in calendars:
            print(line)
        return _check_channels(config, args.notify_test)
    if args.notify_test:
        raise ConfigError("--notify-test goes with --check")
    from deskalert.hub.jsonlog import use_log_format

    use_log_format(args.log_format, args.log_level)
    return _serve(config, args.config, args.host, args.port, args.data_dir,
                  args.tls_cert, args.tls_key, args.log_level)


def _check_database(config: Any) -> None:
    """With `[hub] database`: reach it and compare its schema with this hub's (one line)."""
    from deskalert.hub.server import database_url

    url = database_url(config)
    if url is None:
        print("database: the SQLite file hub.sqlite3 in the data dir (one hub; [hub] database"
              " unset and no DESKALERT_DATABASE)")
        return
    from deskalert.errors import StoreUnavailable
    from deskalert.hub.pgstore import describe_database

    try:
        print(describe_database(url))
    except StoreUnavailable as exc:
        raise ConfigError(exc.detail) from None


def _hub_oncall(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from deskalert.hub import oncall
    from deskalert.hub.settings import load_hub_config

    config = load_hub_config(args.config)
    sites = [s.id for s in config.sites]
    if args.site is not None and args.site not in sites:
        raise ConfigError(f"--site {args.site!r}: unknown site (known: {', '.join(sites)})")
    moment = oncall.parse_moment(args.at, config)
    chosen = [args.site] if args.site else sites
    data_dir = args.data_dir
    logging.getLogger("deskalert.hub").setLevel(logging.ERROR)  # the warnings are printed below
    cards = asyncio.run(oncall.cards_at(config, moment, chosen, data_dir))
    print(f"On call at {moment:%Y-%m-%d %H:%M %Z}:")
    for card in cards:
        print("\n".join(oncall.describe(card, config)))
    return 1 if any(card.warning for card in cards) else 0


def _check_channels(config: Any, notify_test: str | None) -> int:
    """One line per notification channel (masked: scheme and host); with `notify_test`, the
    result of a test message to each channel of that supervisor. 1 if any cannot be used."""
    from deskalert.hub import notify

    failed = 0
    for channel in notify.all_channels(config).values():
        try:
            notify.check_channel(channel)
            state = "ok"
        except notify.ChannelError as exc:
            failed, state = failed + 1, f"UNUSABLE: {exc}"
        print(f"  notify {channel.owner}: {channel.shown()} {state}")
    if notify_test:
        try:
            results = notify.send_test(config, notify_test)
        except notify.ChannelError as exc:
            raise ConfigError(str(exc)) from None
        if not results:
            print(f"  test {notify_test}: no notify channel")
            return 1
        for shown, reason in results:
            failed += reason is not None
            print(f"  test {notify_test}: {shown} " + ("sent" if reason is None
                                                        else f"FAILED: {reason}"))
    return 1 if failed else 0


def _backup(args: argparse.Namespace) -> int:
    from deskalert.hub import backup
    from deskalert.hub.server import DB_NAME
    from deskalert.hub.settings import load_hub_config

    import os

    from deskalert.hub.server import database_url

    db_path = args.data_dir / DB_NAME
    on_postgresql = (database_url(load_hub_config(args.config)) if args.config.exists()
                     else os.environ.get("DESKALERT_DATABASE"))
    if on_postgresql:
        raise ConfigError("this hub's database is PostgreSQL ([hub] database or"
                          " DESKALERT_DATABASE): back it up with its own tools (pg_dump,"
                          " pgBackRest, the managed service); after a restore, `deskalert hub"
                          " migrate --new-epoch`")
    if args.restore is not None:
        epoch, aside = backup.restore(args.restore, db_path)
        kept = f"; the database it replaced is kept as {aside}" if aside else ""
        print(f"restored {args.restore} as {db_path} (epoch {epoch}){kept}; start the hub")
        return 0
    retention_days = load_hub_config(args.config).hub.retention_days
    copy, pruned = backup.backup(db_path, args.out or args.data_dir / "backups", retention_days)
    print(f"backed up {db_path} to {copy}; pruned {len(pruned)} older than {retention_days} days")
    return 0


def _demo_roster() -> Any:
    from deskalert.hub.settings import load_hub_config

    with resources.as_file(resources.files("deskalert.data") / "hub.example.toml") as path:
        return load_hub_config(path)


def _run_demo(args: argparse.Namespace) -> int:
    config = _demo_roster()
    set_language(args.language)
    if args.supervisor:
        _check_demo_id(args.supervisor, config, desks=False, supervisors=True,
                       option="--supervisor")
    _check_demo_id(args.desk, config, desks=True, supervisors=False, option="--desk")
    if args.hub_only:
        print(t("demo.hub_only", desk=args.desk), flush=True)
        return _serve(config, Path("(built-in demo roster)"), "127.0.0.1", args.port,
                      args.data_dir, None, None, "info")
    url = f"http://127.0.0.1:{args.port}"
    if args.join:
        return _demo_screen(url, args)
    import logging
    import threading

    from deskalert.hub.server import build_server

    args.data_dir.mkdir(parents=True, exist_ok=True)
    log = args.data_dir / "hub.log"
    logging.basicConfig(level="INFO", filename=log,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    hub = build_server(config, host="127.0.0.1", port=args.port, data_dir=args.data_dir)
    thread = threading.Thread(target=hub.run, name="demo-hub", daemon=True)
    thread.start()
    try:
        _demo_screen(url, args)
    finally:
        hub.stop()
        thread.join(timeout=5)
    print(demo_goodbye(launcher(), log, url, args))
    return 0


def demo_goodbye(command: str, log: Path, url: str, args: argparse.Namespace) -> str:
    """What the demo says when it stops: the next commands, spelled as this one was launched."""
    extra = "" if args.port == DEMO_PORT else f" --port {args.port}"
    journal = ("" if args.desk == DEMO_DESK else f" {args.desk}") + extra
    return t("demo.goodbye", log=log, url=url, deskalert=command, port=extra, desk=journal)


def launcher() -> str:
    """How the person started deskalert, to name the next commands the same way.

    `deskalert` when that is what their PATH finds; else the path they typed (`.venv/bin/deskalert`
    after `make run`); `python -m deskalert` for the module.
    """
    import os
    import shlex
    import shutil

    program = Path(sys.argv[0])
    if program.name == "__main__.py":
        return f"{shlex.quote(_shown_path(Path(sys.executable)))} -m deskalert"
    found = shutil.which("deskalert")
    if found and os.path.realpath(found) == os.path.realpath(program):
        return "deskalert"
    return shlex.quote(_shown_path(program))


def _shown_path(path: Path) -> str:
    """`path` relative to the current directory when under it, else absolute."""
    absolute = path.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def _check_demo_id(identity: str, roster: Any, *, desks: bool, supervisors: bool,
                   option: str) -> None:
    known = [d.id for d in roster.desks] * desks + [p.id for p in roster.supervisors] * supervisors
    if identity not in known:
        kind = ("desk or supervisor" if desks and supervisors else
                "desk" if desks else "supervisor")
        raise ConfigError(f"{option}: {identity!r} is not a {kind} of the demo roster"
                          f" ({', '.join(known)})")


def _demo_screen(url: str, args: argparse.Namespace) -> int:
    from deskalert.client.outbox import quiet_retries
    from deskalert.client.profile import demo_profile
    from deskalert.journal.store import Journal
    from deskalert.tui.desk.app import DeskApp

    port = int(url.rsplit(":", 1)[1])
    if args.supervisor:
        from deskalert.tui.pane.app import PaneApp as SupervisorApp

        pane = demo_profile(args.supervisor, supervisor=True, language=args.language, port=port,
                            data_dir=args.data_dir)
        SupervisorApp(pane.config, pane.token()).run()
        return 0
    desk = demo_profile(args.desk, supervisor=False, language=args.language, port=port,
                        data_dir=args.data_dir)
    quiet_retries()
    journal = Journal(desk.journal_path)
    try:
        DeskApp(desk.config, desk.token(), journal).run()
    finally:
        journal.close()
    return 0


def _serve(config: object, config_path: Path, host: str, port: int, data_dir: Path,
           tls_cert: Path | None, tls_key: Path | None, log_level: str) -> int:
    from deskalert.hub.server import build_server, configure_logging, print_banner
    from deskalert.hub.settings import HubConfig

    assert isinstance(config, HubConfig)
    configure_logging(log_level)
    server = build_server(config, host=host, port=port, data_dir=data_dir,
                          tls_cert=tls_cert, tls_key=tls_key)
    print_banner(server, config, config_path, sys.stdout)
    server.run()
    return 0


def _new_token(args: argparse.Namespace) -> int:
    from deskalert.hub.settings import token_hash

    token = secrets.token_urlsafe(32)
    print(f"token (give it to the desk or supervisor, keep it secret): {token}")
    print(f'line for hub.toml: token_sha256 = "{token_hash(token)}"')
    return 0


def _client_config(args: argparse.Namespace, role: str | None, needs: str) -> Any:
    """config.toml; with `role` ("desk" or "supervisor"), refused in one line without it."""
    from deskalert.client.settings import find_config_path, load_client_config

    config = load_client_config(args.config)
    set_language(config.language)
    if role is not None and getattr(config, role) is None:
        raise ConfigError(f"{find_config_path(args.config)}: {needs}")
    return config


def _profile(args: argparse.Namespace, *, desk_only: bool, needs: str) -> Any:
    """config.toml, or with --demo a desk (or supervisor) of the demo; the language set."""
    from deskalert.client.profile import configured_profile, demo_profile

    if args.demo is None:
        if args.language is not None or args.port is not None:
            raise ConfigError(t("cli.demo_options"))
        profile = configured_profile(args.config)
        set_language(profile.config.language)
        if desk_only and not profile.is_desk:
            from deskalert.client.settings import find_config_path

            raise ConfigError(f"{find_config_path(args.config)}: {needs}")
        return profile
    language: Language = args.language or "fr"
    set_language(language)
    roster = _demo_roster()
    supervisor = args.demo in {s.id for s in roster.supervisors}
    _check_demo_id(args.demo, roster, desks=True, supervisors=not desk_only, option="--demo")
    return demo_profile(args.demo, supervisor=supervisor, language=language,
                        port=args.port or DEMO_PORT)


def _token(config: Any) -> str:
    """The desk's or supervisor's token; none is a configuration problem (exit 2)."""
    from deskalert.client.settings import TokenMissing, find_token

    try:
        return find_token(config.identity)
    except TokenMissing as exc:
        raise ConfigError(str(exc)) from None


def _profile_token(profile: Any) -> str:
    from deskalert.client.settings import TokenMissing

    try:
        return str(profile.token())
    except TokenMissing as exc:
        raise ConfigError(str(exc)) from None


def _send(args: argparse.Namespace) -> int:
    import asyncio

    from deskalert.client.api import HubClient
    from deskalert.client.outbox import quiet_retries
    from deskalert.client.send import argv_text, check_message, send_alert
    from deskalert.journal.store import Journal, default_journal_path

    config = _client_config(args, "desk", "`deskalert send` needs a [desk] section")
    args.message = argv_text(args.message)
    check_message(args.message)
    token = _token(config)

    async def send() -> Any:
        async with HubClient(config.hub_urls, token) as client:
            return await send_alert(journal, client, args.code, test=args.test,
                                    message=args.message, timeout=args.timeout)

    quiet_retries()
    journal = Journal(default_journal_path())
    try:
        report = asyncio.run(send())
    finally:
        journal.close()
    return _print_send(report)


def _print_send(report: Any) -> int:
    from deskalert.client.outbox import outside_site_network
    from deskalert.journal.store import Delivery

    for earlier, result in report.earlier:
        print(t("send.earlier", id=earlier.id, code=earlier.code,
                status=label("delivery", result.status.value)), file=sys.stderr)
    entry, result = report.entry, report.result
    if result.transmitted:
        print(t("send.transmitted", label=entry.code, id=entry.id,
                drill=t("drill") if entry.test else ""))
        return 0
    call = t("send.call", name=report.call.name, phone=report.call.phone) if report.call else ""
    if (outside := outside_site_network(result.reason)) is not None:  # IT must fix it
        print(t("send.outside_network", detail=outside, call=call or t("send.call_anyone")),
              file=sys.stderr)
        return EXIT_RUNTIME
    key = {Delivery.REFUSED: N_("send.refused"),
           Delivery.CANCELLED: N_("send.cancelled")}.get(result.status, N_("send.queued"))
    print(t(key, reason=result.reason or "?", call=call), file=sys.stderr)
    return EXIT_RUNTIME


def _interview(args: argparse.Namespace) -> int:
    import asyncio

    from deskalert.client.api import HubClient
    from deskalert.client.interview import start_interview, stop_interviews

    config = _client_config(args, "desk", "`deskalert interview` needs a [desk] section")
    if not args.stop and not 0 < args.minutes <= 480:
        raise ConfigError(t("interview.bad_minutes"))
    token = _token(config)

    async def call() -> str:
        async with HubClient(config.hub_urls, token) as client:
            if args.stop:
                closed = await stop_interviews(client, config.desk.id)
                return tn("interview.stopped", len(closed))
            session = await start_interview(client, args.room, args.minutes)
            due = session.due_at.astimezone().strftime("%H:%M")
            return t("interview.started", minutes=f"{session.expected_min:g}", due=due,
                     room=session.room or "-")

    print(asyncio.run(call()))
    return 0


def _desk(args: argparse.Namespace) -> int:
    from deskalert.client.outbox import quiet_retries
    from deskalert.journal.store import Journal, default_journal_path

    config = _client_config(args, "desk", "`deskalert desk` needs a [desk] section"
                            " (a [supervisor] uses `deskalert supervise`)")
    token = _token(config)
    from deskalert.tui.desk.app import DeskApp

    quiet_retries()
    journal = Journal(default_journal_path())
    try:
        DeskApp(config, token, journal, drill_session=args.test).run()
    finally:
        journal.close()
    return 0


def _hotkeys(args: argparse.Namespace) -> int:
    import asyncio

    from deskalert.client.outbox import quiet_retries
    from deskalert.journal.store import Journal, default_journal_path

    config = _client_config(args, "desk", "`deskalert hotkeys` needs a [desk] section")
    if config.hotkeys is None:
        from deskalert.client.settings import find_config_path

        raise ConfigError(t("hotkeys.missing", path=find_config_path(args.config)))
    token = _token(config)
    from deskalert.client.hotkeys import open_source, standalone

    source = open_source(config.hotkeys)  # a device that cannot be read: exit 2 at once
    quiet_retries()
    journal = Journal(default_journal_path())
    standalone.log_to_file(journal.path.with_name("hotkeys.log"))
    try:
        asyncio.run(standalone.run(config.hotkeys, source, config.hub_urls, token, journal))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass  # ctrl+c or SIGTERM before the listener was up: a normal stop too
    finally:
        journal.close()
    return 0


def _supervise(args: argparse.Namespace) -> int:
    if args.web:
        return _page_pointer(args)
    config = _client_config(args, "supervisor", "`deskalert supervise` needs a [supervisor]"
                            " section (a [desk] uses `deskalert desk`)")
    token = _token(config)
    from deskalert.journal.store import Journal, default_journal_path
    from deskalert.tui.pane.app import PaneApp as SupervisorApp

    journal = Journal(default_journal_path())
    try:
        SupervisorApp(config, token, journal=journal).run()
    finally:
        journal.close()
    return 0


def _page_pointer(args: argparse.Namespace) -> int:
    """`supervise --web` is retired for the hub's page: one line that says where it went."""
    from deskalert.client.settings import load_client_config

    try:
        page = f"{load_client_config(args.config).hub_url}/page/"
    except ConfigError:
        page = "<hub url>/page/"
    print(f"deskalert: `supervise --web` is retired; open the hub's page instead: {page}"
          " (README, \"The supervisors' page\")", file=sys.stderr)
    return 2


def _date(value: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date as YYYY-MM-DD") from None


def _incidents(args: argparse.Namespace) -> tuple[Any, Any, list[Any]]:
    """(profile, period, incidents of the period): a desk's journal, or the hub."""
    import asyncio

    from deskalert.client.incidents import incidents_of
    from deskalert.journal.debrief import Period

    profile = _profile(args, desk_only=False, needs="")
    period = Period.of_days(args.since, args.until)
    token = None if profile.is_desk else _profile_token(profile)
    return profile, period, asyncio.run(incidents_of(profile, period, token))


async def _hub_figures(config: Any, token: str, incidents: list[Any],
                       period: Any) -> tuple[dict[str, int], Any]:
    """For a supervisor's report: the notification attempts in the alerts' histories, and the
    interview sessions and checks of the period."""
    from deskalert.client.api import HubClient
    from deskalert.journal.debrief import count_notifications

    async with HubClient(config.hub_urls, token) as client:
        notifications = count_notifications([await client.history(i.alert.id) for i in incidents])
        return notifications, await client.session_figures(period.since, period.until)


def _export(args: argparse.Namespace) -> int:
    from deskalert.journal.debrief import export_text

    profile, period, incidents = _incidents(args)
    text = export_text(incidents, args.format, profile.config.language, period)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(t("export.cannot_write", path=args.output, reason=exc.strerror)) from None
    print(tn("export.written", len(incidents), path=args.output), file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from deskalert.journal.debrief import report_text

    profile, period, incidents = _incidents(args)
    notifications = sessions = None
    if not profile.is_desk:  # a supervisor: the hub holds notifications, sessions and checks
        import asyncio

        notifications, sessions = asyncio.run(
            _hub_figures(profile.config, _profile_token(profile), incidents, period))
    sys.stdout.write(report_text(incidents, profile.config.language, period.since, period.until,
                                 color=sys.stdout.isatty(), notifications=notifications,
                                 sessions=sessions))
    return 0


def _journal(args: argparse.Namespace) -> int:
    from deskalert.client.settings import TokenMissing
    from deskalert.journal.store import Journal
    from deskalert.tui.desk.journal import JournalApp

    profile = _profile(args, desk_only=True, needs="`deskalert journal` is a desk's journal; a"
                       " supervisor uses `deskalert export` or `report`")
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


def _purge(args: argparse.Namespace) -> int:
    from deskalert.journal.store import Journal, purge_expired

    profile = _profile(args, desk_only=True, needs="`deskalert purge` cleans a desk's journal")
    days = profile.config.retention_days
    journal = Journal(profile.journal_path)
    try:
        count = purge_expired(journal, days)
    finally:
        journal.close()
    print(tn("purge.done", count, days=days))
    return 0


def _login(args: argparse.Namespace) -> int:
    import getpass

    import keyring
    import keyring.errors

    from deskalert.client.settings import KEYRING_SERVICE, TOKEN_ENV, load_client_config

    config = load_client_config(args.config)
    token = getpass.getpass(f"token for {config.identity}: ").strip()
    if not token:
        raise ConfigError("no token given: nothing stored")
    try:
        keyring.set_password(KEYRING_SERVICE, config.identity, token)
    except keyring.errors.KeyringError as exc:
        raise ConfigError(
            f"this machine has no usable system keyring ({exc.__class__.__name__}): set"
            f" {TOKEN_ENV}=<token> in the environment that starts deskalert instead"
        ) from None
    set_language(config.language)
    print(t("login.stored", who=config.identity))
    return 0
