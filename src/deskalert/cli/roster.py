"""The administrator's roster commands on the hub's machine: `hub token revoke` and `rotate`.

They write to the hub's database (the SQLite file in --data-dir, or the PostgreSQL database of
hub.toml or DESKALERT_DATABASE), which every hub of it reads at each tick: no restart, no
reload, in force on every hub within a second (hub/store/tokens.py).
"""

from __future__ import annotations

import argparse
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from deskalert.cli.common import Parser, default_hub_config
from deskalert.config import user_data_dir
from deskalert.errors import ConfigError

if TYPE_CHECKING:
    from deskalert.hub.settings import DeskConfig, HubConfig, SupervisorConfig
    from deskalert.hub.store import Store


def token_parser() -> argparse.ArgumentParser:
    token = Parser(
        prog="deskalert hub token",
        description="Revoke or rotate a desk's or supervisor's token without a restart: written"
        " to the hub's database, in force on every hub of it within a second; the desk's"
        " screen shows its token refused, as for any refused token. hub.toml keeps its line;"
        " a new token_sha256 written there later wins over this.",
    )
    commands = token.add_subparsers(title="token commands", metavar="COMMAND", required=True)
    for name, help_text in (
        ("revoke", "refuse ID's token from now on (its open streams end)"),
        ("rotate", "give ID a new token (printed once) and refuse the old one"),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("id", metavar="ID", help="a desk's or supervisor's id in hub.toml")
        command.add_argument("--config", type=Path, default=default_hub_config(),
                             help="hub.toml (default: %(default)s)")
        command.add_argument("--data-dir", type=Path, default=user_data_dir(),
                             help="the hub's data directory, for its SQLite file (default:"
                             " %(default)s)")
        command.set_defaults(handler=revoke if name == "revoke" else rotate)
    return token


def revoke(args: argparse.Namespace) -> int:
    config = _config(args)
    who = _principal(config, args.id)
    with _store(config, args.data_dir) as store:
        store.set_token(who.id, who.token_sha256, None, datetime.now(UTC))
    print(f"token of {who.id} revoked: refused by the hub(s) of this database within a second;"
          f" `deskalert hub token rotate {who.id}` gives it a new one")
    return 0


def rotate(args: argparse.Namespace) -> int:
    from deskalert.hub.settings import token_hash

    config = _config(args)
    who = _principal(config, args.id)
    token = secrets.token_urlsafe(32)
    with _store(config, args.data_dir) as store:
        store.set_token(who.id, who.token_sha256, token_hash(token), datetime.now(UTC))
    print(f"new token of {who.id} (give it to that workstation, keep it secret; the old one is"
          f" refused within a second): {token}")
    return 0


def _config(args: argparse.Namespace) -> HubConfig:
    from deskalert.hub.settings import load_hub_config

    return load_hub_config(args.config)


def _principal(config: HubConfig, who: str) -> DeskConfig | SupervisorConfig:
    found = next((p for p in config.principals() if p.id == who), None)
    if found is None:
        known = ", ".join(p.id for p in config.principals()[:10])
        raise ConfigError(f"{who!r} is no desk or supervisor of hub.toml (known: {known}...)")
    return found


class _store:
    """The hub's database, opened for one write and closed (a context manager)."""

    def __init__(self, config: HubConfig, data_dir: Path) -> None:
        from deskalert.hub.server import DB_NAME, database_url

        self.url, self.path = database_url(config), data_dir / DB_NAME
        if self.url is None and not self.path.exists():
            raise ConfigError(f"no hub database at {self.path}: give the hub's --data-dir (or"
                              " start the hub once)")

    def __enter__(self) -> Store:
        from deskalert.hub.store import open_store

        self.store = open_store(self.url, self.path)
        return self.store

    def __exit__(self, *_exc: object) -> None:
        self.store.close()
