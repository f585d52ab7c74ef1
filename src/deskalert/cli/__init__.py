"""The `deskalert` command and its subcommands, one module per audience.

    common      the parser class, exit codes, config and identity options, the demo roster
    hub         the hub and the administrator: hub (and hub oncall, hub migrate, hub reload),
                backup, token
    roster      the roster while the hub runs: hub token revoke|rotate, hub enrol; enrol
    desk        a desk: desk, send, interview, hotkeys, login
    supervisor  a supervisor: supervise
    journal     after the incidents: export, report, journal, purge
    demo        demo

Each module adds its subcommands' parsers (`add_<command>`) next to their handlers
(`run_<command>`); handlers import what they need when they run, so that `deskalert --help`
stays fast and `deskalert desk` never loads the hub (FastAPI).

Every error a person can cause (a wrong file, a busy port, a bad argument) ends as one line on
stderr and a non-zero exit: 2 for a configuration or usage problem, 1 for a runtime failure.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from deskalert import __version__
from deskalert.cli import demo, desk, hub, journal, roster, supervisor
from deskalert.cli.common import (
    EXIT_CONFIG,
    EXIT_RUNTIME,
    Commands,
    Handler,
    Parser,
    usage,
)
from deskalert.cli.words import choose_language, use_language
from deskalert.errors import ConfigError, DeskAlertError, StoreUnavailable
from deskalert.i18n import LANGUAGES, t

# The subcommands in the order `deskalert --help` lists them.
COMMANDS: tuple[Callable[[Commands], None], ...] = (
    hub.add_hub,
    demo.add_demo,
    desk.add_send,
    desk.add_interview,
    desk.add_desk,
    desk.add_hotkeys,
    supervisor.add_supervise,
    journal.add_export,
    journal.add_report,
    journal.add_journal,
    journal.add_purge,
    desk.add_login,
    roster.add_enrol,
    hub.add_backup,
    hub.add_token,
)

# `deskalert hub oncall` and `hub migrate` have parsers of their own: `hub` runs without a
# subcommand, and argparse subcommands under it would drop `hub --config x oncall`'s `--config`
# and word a stray word after `hub` as an unknown command (see deskalert.cli.hub).
NESTED: dict[tuple[str, ...], Callable[[], argparse.ArgumentParser]] = {
    ("hub", "oncall"): hub.oncall_parser,
    ("hub", "migrate"): hub.migrate_parser,
    ("hub", "reload"): hub.reload_parser,
    ("hub", "token"): roster.token_parser,
    ("hub", "enrol"): roster.enrol_parser,
}


def main(argv: Sequence[str] | None = None) -> int:
    """The command, quiet when its reader goes away (`deskalert ... | head -1`): stdout is
    pointed at /dev/null so that the exit's own flush fails no more, as Python's documentation
    of SIGPIPE advises (library/signal.html, "Note on SIGPIPE")."""
    try:
        code = run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_RUNTIME
    return code


def run(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    use_language(choose_language(words))
    args = parse(words)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        failed(one_line(exc))
        return EXIT_CONFIG
    except StoreUnavailable as exc:  # the database's own words are for the administrator
        failed(t("cli.store_unavailable", detail=one_line(exc)))
        return EXIT_RUNTIME
    except DeskAlertError as exc:
        failed(one_line(exc))
        return EXIT_RUNTIME
    except KeyboardInterrupt:
        return 130


def failed(message: str) -> None:
    """A command's one line of failure, as argparse's usage errors begin theirs."""
    print(t("cli.failed", prog="deskalert", message=message), file=sys.stderr)


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line, read by the parser of `hub oncall`, of `hub migrate`, or of the rest.

    `--language` was read already (deskalert.cli.words), before or after a command's name: it
    is taken out of the line for every parser (each lists it in its --help, common.Parser).
    """
    plain = without_language(argv)
    nested = NESTED.get(tuple(plain[:2]))
    parser = build_parser() if nested is None else nested()
    check_language(parser.prog, argv)
    return parser.parse_args(plain if nested is None else plain[2:])


def check_language(prog: str, argv: list[str]) -> None:
    """`--language xx` is a usage error (its choices) for every parser, the nested ones too,
    which never see the option."""
    probe = Parser(prog=prog, add_help=False)
    probe.add_argument("--language", choices=LANGUAGES)
    probe.parse_known_args(argv)


def without_language(argv: list[str]) -> list[str]:
    """`argv` without its `--language X` or `--language=X` (before any `--`)."""
    kept: list[str] = []
    words = iter(argv)
    for word in words:
        if word == "--":
            return [*kept, word, *words]
        if word == "--language":
            next(words, None)
        elif not word.startswith("--language="):
            kept.append(word)
    return kept


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="deskalert",
        description=t("cli.about"),
    )
    parser.add_argument(
        "--version", action="version", version=f"deskalert {__version__}", help=t("cli.version")
    )
    parser.set_defaults(handler=lambda _args: usage(parser))
    commands = parser.add_subparsers(title=t("cli.commands"), metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return parser


def one_line(exc: Exception) -> str:
    """An error as the one line promised (a message may quote a value with a line break)."""
    return " ".join(str(exc).splitlines())
