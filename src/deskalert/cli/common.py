"""What every audience's commands share: the parser class, exit codes, the config and identity
options, and the demo roster.

Imports beyond the standard library and deskalert's light modules stay inside the functions, so
that `deskalert --help` and `deskalert desk` never load the hub (FastAPI) for nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

from deskalert.cli.words import LANGUAGE_ENV, settle_language
from deskalert.client.profile import DEMO_PORT, demo_data_dir
from deskalert.errors import ConfigError
from deskalert.i18n import LANGUAGES, N_, t
from deskalert.i18n import language as current_language

if TYPE_CHECKING:
    from deskalert.client.profile import Profile
    from deskalert.client.settings import ClientConfig
    from deskalert.hub.settings import HubConfig

EXIT_RUNTIME = 1
EXIT_CONFIG = 2
DEMO_DESK = "guichet-3"
CONFIG_HELP = N_("cli.config")

Handler = Callable[[argparse.Namespace], int]
# What add_subparsers returns (generic for type checkers only, hence the string).
Commands: TypeAlias = "argparse._SubParsersAction[Parser]"


class Parser(argparse.ArgumentParser):
    """Usage errors in one line too, like every other error; the usage is one --help away.

    Every parser with a --help lists --language, which is read anywhere on the line before any
    parser is built (deskalert.cli.words) and taken out of the line before parsing
    (`cli.without_language`): before or after a command's name, it means the same.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.add_help:  # the full story on `deskalert --help`, a reminder on the others
            said = N_("cli.cli_language") if self.prog == "deskalert" else N_("cli.language")
            self.add_argument(
                "--language", choices=LANGUAGES, metavar="LANG", help=t(said, env=LANGUAGE_ENV)
            )

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_CONFIG, t("cli.usage_error", prog=self.prog, message=message) + "\n")


def usage(parser: argparse.ArgumentParser) -> int:
    """A command that needs a subcommand, given none: its help on stderr, exit 2."""
    parser.print_help(sys.stderr)
    return EXIT_CONFIG


def default_hub_config() -> Path:
    from deskalert.hub.settings import default_hub_config_path

    return default_hub_config_path()


def client_config(args: argparse.Namespace, role: str | None, needs: str) -> ClientConfig:
    """config.toml; with `role` ("desk" or "supervisor"), refused in one line without it."""
    from deskalert.client.settings import find_config_path, load_client_config

    config = load_client_config(args.config)
    settle_language(config.language)
    if role is not None and getattr(config, role) is None:
        raise ConfigError(f"{find_config_path(args.config)}: {t(needs)}")
    return config


def token_of(config: ClientConfig) -> str:
    """The desk's or supervisor's token; none is a configuration problem (exit 2)."""
    from deskalert.client.settings import TokenMissing, find_token

    try:
        return find_token(config.identity)
    except TokenMissing as exc:
        raise ConfigError(str(exc)) from None


def identity_options(
    command: argparse.ArgumentParser, *, supervisors: bool, demo_id: Callable[[str], str] = str
) -> None:
    """--config, or --demo [ID] (read by `demo_id`): a desk (or supervisor) of `deskalert demo`
    on this machine, with --port and --data-dir when that demo was started with them."""
    command.add_argument("--config", type=Path, metavar="F", help=t(CONFIG_HELP))
    command.set_defaults(demo_command=command.prog)
    command.add_argument(
        "--demo",
        nargs="?",
        const=DEMO_DESK,
        type=demo_id,
        metavar="ID",
        help=t("cli.demo_supervisor" if supervisors else "cli.demo_desk", desk=DEMO_DESK),
    )
    command.add_argument("--port", type=int, help=t("cli.demo_port", port=DEMO_PORT))
    command.add_argument(
        "--data-dir", type=Path, metavar="DIR", help=t("cli.demo_data_dir", path=demo_data_dir())
    )


def not_a_code(prog: str) -> Callable[[str], str]:
    """`--demo`'s reader for a command whose CODE comes first: `send --demo renfort` gave
    "renfort" to --demo and left CODE missing; a demo code given there is named as a code."""

    def demo_id(value: str) -> str:
        roster = demo_roster()
        if value not in {d.id for d in roster.desks} and value in {c.code for c in roster.codes}:
            raise argparse.ArgumentTypeError(t("cli.demo_is_code", code=value, prog=prog))
        return value

    return demo_id


def profile_of(args: argparse.Namespace, *, desk_only: bool, needs: str) -> Profile:
    """config.toml, or with --demo a desk (or supervisor) of the demo; the language set."""
    from deskalert.client.profile import configured_profile, demo_profile

    if args.demo is None:
        if args.port is not None or args.data_dir is not None:
            option = "--port" if args.port is not None else "--data-dir"
            raise ConfigError(t("cli.demo_options", option=option))
        profile = configured_profile(args.config, demo_command=args.demo_command)
        settle_language(profile.config.language)
        if desk_only and not profile.is_desk:
            from deskalert.client.settings import find_config_path

            raise ConfigError(f"{find_config_path(args.config)}: {t(needs)}")
        return profile
    language = current_language()  # --language, read before any parser (cli/words.py)
    roster = demo_roster()
    supervisor = args.demo in {s.id for s in roster.supervisors}
    check_demo_id(args.demo, roster, desks=True, supervisors=not desk_only, option="--demo")
    return demo_profile(
        args.demo,
        supervisor=supervisor,
        language=language,
        port=args.port or DEMO_PORT,
        data_dir=args.data_dir,
    )


def profile_token(profile: Profile) -> str:
    from deskalert.client.settings import TokenMissing

    try:
        return str(profile.token())
    except TokenMissing as exc:
        raise ConfigError(str(exc)) from None


def demo_roster() -> HubConfig:
    """The demo's hub configuration: hub.example.toml, shipped with the package."""
    from deskalert.hub.settings import load_hub_config

    with resources.as_file(resources.files("deskalert.data") / "hub.example.toml") as path:
        return load_hub_config(path)


def check_demo_id(
    identity: str, roster: HubConfig, *, desks: bool, supervisors: bool, option: str
) -> None:
    known = [d.id for d in roster.desks] * desks + [p.id for p in roster.supervisors] * supervisors
    if identity not in known:
        kind = (
            N_("cli.demo_unknown_any")
            if desks and supervisors
            else N_("cli.demo_unknown_desk")
            if desks
            else N_("cli.demo_unknown_supervisor")
        )
        raise ConfigError(t(kind, option=option, id=identity, known=", ".join(known)))
