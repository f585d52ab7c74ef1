"""The administrator's roster commands on the hub's machine: `hub token revoke` and `rotate`,
`hub enrol`; and the workstation's side of enrolment, `deskalert enrol`.

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

from deskalert.cli.common import CONFIG_HELP, Commands, Parser, default_hub_config
from deskalert.config import user_data_dir
from deskalert.errors import ConfigError
from deskalert.i18n import N_, t

if TYPE_CHECKING:
    from deskalert.hub.settings import DeskConfig, HubConfig, SupervisorConfig
    from deskalert.hub.store import Store


def token_parser() -> argparse.ArgumentParser:
    token = Parser(
        prog="deskalert hub token",
        description=t("cli.hub_token.about"),
    )
    commands = token.add_subparsers(title=t("cli.token.commands"), metavar="COMMAND", required=True)
    for name, help_text in (
        ("revoke", t("cli.hub_token.revoke")),
        ("rotate", t("cli.hub_token.rotate")),
    ):
        command = commands.add_parser(name, help=help_text, description=help_text)
        command.add_argument("id", metavar="ID", help=t("cli.hub_enrol.id"))
        command.add_argument(
            "--config",
            type=Path,
            default=default_hub_config(),
            help=t("cli.hub.config"),
        )
        command.add_argument(
            "--data-dir",
            type=Path,
            default=user_data_dir(),
            help=t("cli.hub_token.data_dir"),
        )
        command.set_defaults(handler=revoke if name == "revoke" else rotate)
    return token


def revoke(args: argparse.Namespace) -> int:
    config = _config(args)
    who = _principal(config, args.id)
    with _HubStore(config, args.data_dir) as store:
        store.set_token(who.id, who.token_sha256, None, datetime.now(UTC))
    print(t("admin.token.revoked", id=who.id))
    return 0


def rotate(args: argparse.Namespace) -> int:
    from deskalert.hub.settings import token_hash

    config = _config(args)
    who = _principal(config, args.id)
    token = secrets.token_urlsafe(32)
    with _HubStore(config, args.data_dir) as store:
        store.set_token(who.id, who.token_sha256, token_hash(token), datetime.now(UTC))
    print(t("admin.token.rotated", id=who.id), token, sep="\n")
    return 0


def _config(args: argparse.Namespace) -> HubConfig:
    from deskalert.hub.settings import load_hub_config

    return load_hub_config(args.config)


def _principal(config: HubConfig, who: str) -> DeskConfig | SupervisorConfig:
    found = next((p for p in config.principals() if p.id == who), None)
    if found is None:
        known = ", ".join(p.id for p in config.principals()[:10])
        raise ConfigError(t("admin.error.unknown_id", id=who, known=known))
    return found


class _HubStore:
    """The hub's database, opened for one write and closed (a context manager)."""

    def __init__(self, config: HubConfig, data_dir: Path) -> None:
        from deskalert.hub.server import DB_NAME, database_url

        self.url, self.path = database_url(config), data_dir / DB_NAME
        if self.url is None and not self.path.exists():
            raise ConfigError(t("admin.error.no_database", path=self.path))

    def __enter__(self) -> Store:
        from deskalert.hub.store import open_store

        self.store = open_store(self.url, self.path)
        return self.store

    def __exit__(self, *_exc: object) -> None:
        self.store.close()


def enrol_parser() -> argparse.ArgumentParser:
    enrol = Parser(
        prog="deskalert hub enrol",
        description=t("cli.hub_enrol.about"),
    )
    enrol.add_argument("id", metavar="ID", help=t("cli.hub_enrol.id"))
    enrol.add_argument(
        "--config", type=Path, default=default_hub_config(), help=t("cli.hub.config")
    )
    enrol.add_argument(
        "--data-dir",
        type=Path,
        default=user_data_dir(),
        help=t("cli.hub_enrol.data_dir"),
    )
    enrol.add_argument("--url", help=t("cli.hub_enrol.url"))
    enrol.add_argument(
        "--minutes",
        type=float,
        default=15.0,
        help=t("cli.hub_enrol.minutes"),
    )
    enrol.add_argument("--no-qr", action="store_true", help=t("cli.hub_enrol.no_qr"))
    enrol.add_argument("--page", action="store_true", help=t("cli.hub_enrol.page"))
    enrol.add_argument("--phone", action="store_true", help=t("cli.hub_enrol.phone"))
    enrol.set_defaults(handler=run_enrol)
    return enrol


def run_enrol(args: argparse.Namespace) -> int:
    from deskalert.hub.agent_links import PHONE_PURPOSE
    from deskalert.hub.enrol import PAGE_PURPOSE, issue

    if not 0 < args.minutes <= 24 * 60:
        raise ConfigError(t("admin.error.minutes"))
    config = _config(args)
    who = _principal(config, args.id)
    if args.page and args.phone:
        raise ConfigError(t("admin.error.page_or_phone"))
    if args.page and who.id not in {s.id for s in config.supervisors}:
        raise ConfigError(t("admin.error.page_desk", id=who.id))
    if args.phone and who.id in {s.id for s in config.supervisors}:
        raise ConfigError(t("admin.error.phone_supervisor", id=who.id))
    url = (args.url or config.hub.public_url or "").rstrip("/")
    if not url:
        phone = args.page or args.phone
        raise ConfigError(
            t(N_("admin.error.url_phone") if phone else N_("admin.error.url_workstation"))
        )
    purpose = PAGE_PURPOSE if args.page else PHONE_PURPOSE if args.phone else "enrol"
    with _HubStore(config, args.data_dir) as store:
        code = issue(store, who.id, args.minutes, datetime.now(UTC), purpose)
    shown = _say_code(args, who.id, url, code)
    if not args.no_qr:
        import segno

        segno.make(shown, error="m").terminal(compact=True)
    return 0


def _say_code(args: argparse.Namespace, who: str, url: str, code: str) -> str:
    """Print the code or link for `who`; what its QR code shows."""
    import shlex

    minutes = f"{args.minutes:g}"
    if args.page:
        shown = f"{url}/page/enrol/{code}"
        print(t("admin.enrol.page", id=who, minutes=minutes), shown, sep="\n")
    elif args.phone:
        shown = f"{url}/page/agent/#code={code}"
        print(t("admin.enrol.phone", id=who, minutes=minutes), shown, sep="\n")
    else:
        print(t("admin.enrol.code", id=who, minutes=minutes), code, sep="\n")
        shown = f"deskalert enrol {code} --hub {shlex.quote(url)}"
        print(t("admin.enrol.workstation"), shown, sep="\n")
    return shown


# -- on the workstation ---------------------------------------------------------------------


def add_enrol(commands: Commands) -> None:
    enrol = commands.add_parser(
        "enrol",
        help=t("cli.enrol.help"),
        description=t("cli.enrol.about"),
    )
    enrol.add_argument("code", metavar="CODE", help=t("cli.enrol.code"))
    enrol.add_argument("--hub", required=True, metavar="URL", help=t("cli.enrol.hub"))
    enrol.add_argument("--config", type=Path, help=t(CONFIG_HELP))
    enrol.set_defaults(handler=run_workstation_enrol)


def run_workstation_enrol(args: argparse.Namespace) -> int:
    from deskalert.client.settings import find_config_path

    path = find_config_path(args.config)
    if path.exists():
        raise ConfigError(t("enrol.exists", path=path))
    answer = _exchange(args.hub, args.code)
    role = "desk" if answer["kind"] == "desk" else "supervisor"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'[hub]\nurl = "{args.hub}"\n\n[{role}]\nid = "{answer["id"]}"\n', encoding="utf-8"
    )
    where = _keep_token(answer["id"], answer["token"])
    print(
        t(
            "enrol.done",
            id=answer["id"],
            name=answer["name"],
            hub=args.hub,
            path=path,
            where=where,
            command="deskalert desk" if role == "desk" else "deskalert supervise",
        )
    )
    return 0


def _exchange(hub: str, code: str) -> dict[str, str]:
    import httpx

    from deskalert.errors import DeskAlertError

    try:
        response = httpx.post(f"{hub.rstrip('/')}/v1/enrol", json={"code": code}, timeout=10)
    except httpx.HTTPError as exc:
        raise DeskAlertError(
            t("enrol.unreachable", hub=hub, error=exc.__class__.__name__)
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or "token" not in body:
        detail = body.get("detail") if isinstance(body, dict) else None
        raise DeskAlertError(t("enrol.refused", hub=hub, detail=detail or response.status_code))
    return body


def _keep_token(identity: str, token: str) -> str:
    """The system keyring, else a 0600 file: where it went, in a few words."""
    import keyring
    import keyring.errors

    from deskalert.client.settings import KEYRING_SERVICE, write_token_file

    try:
        keyring.set_password(KEYRING_SERVICE, identity, token)
        return t("enrol.in_keyring")
    except keyring.errors.KeyringError:
        path = write_token_file(identity, token)
        return t("enrol.in_file", path=path)
