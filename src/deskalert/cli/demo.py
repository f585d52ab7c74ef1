"""`deskalert demo`: a local hub with the demo roster and a desk's (or a supervisor's) screen,
and the goodbye that names the next commands the way deskalert was launched."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from deskalert.cli.common import DEMO_DESK, Commands, check_demo_id, demo_roster
from deskalert.client.profile import DEMO_PORT, demo_data_dir
from deskalert.errors import ConfigError
from deskalert.i18n import N_, language, t

if TYPE_CHECKING:
    from deskalert.hub.settings import HubConfig


def add_demo(commands: Commands) -> None:
    demo = commands.add_parser(
        "demo",
        help=t("cli.demo.help"),
        description=t("cli.demo.about"),
    )
    demo.add_argument("--port", type=int, default=DEMO_PORT, help=t("cli.demo.port"))
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=demo_data_dir(),
        help=t("cli.demo.data_dir"),
    )
    demo.add_argument("--desk", default="guichet-3", help=t("cli.demo.desk"))
    demo.add_argument(
        "--supervisor",
        metavar="ID",
        help=t("cli.demo.supervisor"),
    )
    demo.add_argument(
        "--join",
        action="store_true",
        help=t("cli.demo.join"),
    )
    demo.add_argument("--hub-only", action="store_true", help=t("cli.demo.hub_only"))
    demo.add_argument("--fresh", action="store_true", help=t("cli.demo.fresh"))
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    config = demo_roster()
    args.language = language()  # --language, read before any parser (cli/words.py)
    if args.supervisor:
        check_demo_id(args.supervisor, config, desks=False, supervisors=True, option="--supervisor")
    check_demo_id(args.desk, config, desks=True, supervisors=False, option="--desk")
    if args.fresh:
        start_fresh(args)
    if args.hub_only:
        from deskalert.cli.hub import serve

        print(t("demo.hub_only", desk=args.desk), flush=True)
        try:
            return serve(
                config,
                Path(t("demo.roster_source")),
                "127.0.0.1",
                args.port,
                args.data_dir,
                None,
                None,
                "info",
            )
        except ConfigError:
            raise demo_clash(args) from None
    url = f"http://127.0.0.1:{args.port}"
    if args.join:
        return demo_screen(url, args)
    return demo_with_hub(config, url, args)


def demo_with_hub(config: HubConfig, url: str, args: argparse.Namespace) -> int:
    """The demo hub in a thread (its log in the data dir) while the screen runs."""
    import logging
    import threading

    from deskalert.hub.server import build_server

    args.data_dir.mkdir(parents=True, exist_ok=True)
    log = args.data_dir / "hub.log"
    logging.basicConfig(
        level="INFO", filename=log, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        hub = build_server(config, host="127.0.0.1", port=args.port, data_dir=args.data_dir)
    except ConfigError:
        raise demo_clash(args) from None
    thread = threading.Thread(target=hub.run, name="demo-hub", daemon=True)
    thread.start()
    try:
        demo_screen(url, args)
    finally:
        hub.stop()
        thread.join(timeout=5)
    print(demo_goodbye(launcher(), log, url, args))
    return 0


# What a demo leaves in its data dir: the hub's database (its companions, its note), its log,
# the desks' and supervisors' journals. Named files only: --data-dir may be any directory.
DEMO_FILES = ("hub.sqlite3*", "hub.log", "journal-*.sqlite3*")


def start_fresh(args: argparse.Namespace) -> None:
    """--fresh: the demo's earlier alerts, journals and log removed, under the hold on the hub's
    file, so that a demo still running on them is never emptied (it is named, as without)."""
    from deskalert.hub.server import DB_NAME
    from deskalert.hub.store.sqlite import hold_hub_file

    if args.join:
        raise ConfigError(t("demo.fresh_join"))
    try:
        hold = hold_hub_file(args.data_dir / DB_NAME, N_("hub.held.serve"))
    except ConfigError:
        raise demo_clash(args) from None
    try:
        for pattern in DEMO_FILES:
            for path in args.data_dir.glob(pattern):
                if path.suffix != ".lock" and path.is_file():  # the holds stay
                    path.unlink()
    finally:
        hold.release()


def demo_clash(args: argparse.Namespace) -> ConfigError:
    """Why the demo hub could not start, in one line: a demo already runs (join it), or its
    port is another program's (choose one with --port)."""
    port = "" if args.port in (DEMO_PORT, 0) else f" --port {args.port}"
    if port_taken(args.port) and not hub_answers(f"http://127.0.0.1:{args.port}"):
        return ConfigError(t("demo.port_busy", port=args.port, default=DEMO_PORT))
    return ConfigError(t("demo.already_running", command=f"{launcher()} demo --join{port}"))


def port_taken(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def hub_answers(url: str) -> bool:
    """Whether a deskalert hub answers at `url` (its health route, in JSON)."""
    import logging

    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)  # the hub-only demo logs at INFO
    try:
        response = httpx.get(f"{url}/healthz", timeout=2)
    except httpx.HTTPError:
        return False
    return str(response.headers.get("content-type", "")).startswith("application/json")


def demo_screen(url: str, args: argparse.Namespace) -> int:
    """The desk's screen, or with --supervisor the pane, on the demo hub at `url`."""
    from deskalert.client.outbox import quiet_retries
    from deskalert.client.profile import demo_profile
    from deskalert.journal.store import Journal
    from deskalert.tui.desk.app import DeskApp

    port = int(url.rsplit(":", 1)[1])
    if args.supervisor:
        from deskalert.tui.pane.app import PaneApp as SupervisorApp

        pane = demo_profile(
            args.supervisor,
            supervisor=True,
            language=args.language,
            port=port,
            data_dir=args.data_dir,
        )
        SupervisorApp(pane.config, pane.token()).run()
        return 0
    desk = demo_profile(
        args.desk, supervisor=False, language=args.language, port=port, data_dir=args.data_dir
    )
    quiet_retries()
    journal = Journal(desk.journal_path)
    try:
        DeskApp(desk.config, desk.token(), journal).run()
    finally:
        journal.close()
    return 0


def demo_goodbye(command: str, log: Path, url: str, args: argparse.Namespace) -> str:
    """What the demo says when it stops: the next commands, spelled as this one was launched,
    with the --port and --data-dir it was started with (without them they read another demo)."""
    extra = "" if args.port == DEMO_PORT else f" --port {args.port}"
    if args.data_dir.absolute() != demo_data_dir().absolute():
        extra += f" --data-dir {shlex.quote(_shown_path(args.data_dir))}"
    journal = ("" if args.desk == DEMO_DESK else f" {args.desk}") + extra
    return t("demo.goodbye", log=log, url=url, deskalert=command, port=extra, desk=journal)


def launcher() -> str:
    """How the person started deskalert, to name the next commands the same way.

    `deskalert` when that is what their PATH finds; else the path they typed (`.venv/bin/deskalert`
    after `make run`); `python -m deskalert` for the module.
    """
    import os
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
