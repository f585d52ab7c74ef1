"""Who a command runs as: a desk or a supervisor, its hub, its journal file and its token.

Either the workstation's `config.toml` (the journal under the user data directory, the token from
$DESKALERT_TOKEN or the keyring), or one desk or supervisor of `deskalert demo` (the journals the
demo's desk screens write, the published `demo-<id>` tokens), so that `deskalert journal`,
`export` and `report` read what the demo wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deskalert.client.settings import (
    ClientConfig,
    find_config_path,
    find_token,
    load_client_config,
)
from deskalert.config import user_data_dir
from deskalert.errors import ConfigError
from deskalert.i18n import Language, t
from deskalert.journal.store import default_journal_path

DEMO_PORT = 8470


def demo_data_dir() -> Path:
    """Where the demo keeps its hub database, its log and its desks' journals."""
    return user_data_dir() / "demo"


def demo_journal_path(data_dir: Path, desk: str) -> Path:
    return data_dir / f"journal-{desk}.sqlite3"


@dataclass(frozen=True)
class Profile:
    config: ClientConfig
    journal_path: Path
    demo: bool = False

    @property
    def is_desk(self) -> bool:
        return self.config.desk is not None

    def token(self) -> str:
        """The token this workstation calls the hub with; TokenMissing says how to give one."""
        if self.demo:
            return f"demo-{self.config.identity}"
        return find_token(self.config.identity)


def configured_profile(config_path: Path | None, demo_command: str = "") -> Profile:
    """The workstation's own: config.toml (--config, $DESKALERT_CONFIG, user config dir); when
    it is missing, the error names `demo_command --demo` (the same command on the demo)."""
    try:
        return Profile(load_client_config(config_path), default_journal_path())
    except ConfigError as exc:
        if not demo_command or find_config_path(config_path).exists():
            raise
        raise ConfigError(t("config.demo_hint", missing=exc, command=demo_command)) from None


def demo_profile(
    identity: str,
    *,
    supervisor: bool,
    language: Language = "fr",
    port: int = DEMO_PORT,
    data_dir: Path | None = None,
) -> Profile:
    """A desk or supervisor of the demo roster, on the demo hub of this machine."""
    role = "supervisor" if supervisor else "desk"
    config = ClientConfig.model_validate(
        {"language": language, "hub": {"url": f"http://127.0.0.1:{port}"}, role: {"id": identity}}
    )
    journal_dir = data_dir or demo_data_dir()
    journal = (
        journal_dir / f"journal-supervisor-{identity}.sqlite3"
        if supervisor
        else demo_journal_path(journal_dir, identity)
    )
    return Profile(config, journal, demo=True)
