"""The desk's and supervisor's `config.toml`, and where their token comes from."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import keyring
import keyring.errors
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from deskalert.config import load_toml, user_config_dir
from deskalert.errors import ConfigError
from deskalert.i18n import t
from deskalert.models import Identifier, refusal

TOKEN_ENV = "DESKALERT_TOKEN"
CONFIG_ENV = "DESKALERT_CONFIG"
KEYRING_SERVICE = "deskalert"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HubLink(_Section):
    """[hub]: `url = "https://hub"`, or `urls = [...]`: hubs of one database, in order of
    preference (client/hubs.py says how a client moves between them)."""

    url: HttpUrl | None = Field(default=None, description="the hub's address (one hub)")
    urls: list[HttpUrl] | None = Field(
        default=None, description="hubs of one database, in order of preference (not with url)"
    )

    @model_validator(mode="after")
    def _one_way(self) -> HubLink:
        if self.url is not None and self.urls is not None:
            raise refusal("config.url_and_urls")
        if self.url is None and self.urls is None:
            raise refusal("config.no_url")
        listed = [_plain(u) for u in self.urls or []]
        if self.urls is not None and not listed:
            raise refusal("config.urls_empty")
        if twice := next((u for i, u in enumerate(listed) if u in listed[:i]), None):
            raise refusal("config.urls_twice", url=twice)
        return self

    @property
    def all_urls(self) -> list[str]:
        """Every hub URL, in order of preference, without a trailing slash."""
        return [_plain(u) for u in (self.urls if self.urls is not None else [self.url])]


def _plain(url: HttpUrl | None) -> str:
    return str(url).rstrip("/")


class Identity(_Section):
    """Who this workstation is: a desk's or a supervisor's id of hub.toml."""

    id: Identifier = Field(description="the id in hub.toml ([[desks]] or [[supervisors]])")


class DeskIdentity(Identity):
    duress_key: str | None = Field(
        default=None,
        max_length=20,
        description="in the 'Tout va bien ?' prompt, a key that answers like 'oui' on screen"
        " but raises a discreet alert (e.g. 'o'); none if unset",
    )


# One part of a key combination: pynput's "<ctrl>", "<f2>" or one character, an evdev name
# ("KEY_F13", "BTN_0") or an evdev key number ("183").
COMBO_PART = re.compile(r"^(<[a-z0-9_]+>|[^+<>\s]|(KEY|BTN)_[A-Z0-9_]+|[0-9]{1,4})$")


def combo_parts(combination: str) -> list[str]:
    """`"<ctrl>+<shift>+<f2>"` as its parts; a refusal (a ValueError) naming the part that is
    not a key."""
    parts = combination.split("+")
    for part in parts:
        if not COMBO_PART.match(part):
            raise refusal("config.not_a_key", part=repr(part), combination=repr(combination))
    return parts


class Hotkeys(BaseModel):
    """[hotkeys]: code = key combination, read anywhere on the desktop or from a device.

    Every key other than the three settings below names an alert code of the hub's repertoire.
    """

    model_config = ConfigDict(extra="allow")

    hold_ms: int = Field(
        default=0,
        ge=0,
        le=10_000,
        description="a combination must be held this long, or nothing is sent",
    )
    device: Path | None = Field(
        default=None,
        description="/dev/input/by-id/...: read through evdev instead of the display",
    )
    grab: bool = Field(
        default=False, description="with device: keep its keys from reaching the applications"
    )

    @model_validator(mode="after")
    def _combinations(self) -> Hotkeys:
        for code, combination in (self.model_extra or {}).items():
            if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", code) or len(code) > 64:
                raise refusal("config.not_a_code", code=repr(code))
            if not isinstance(
                combination, str
            ):  # refused here: pydantic reports a TypeError as a crash
                raise refusal("config.combination_string", code=code)
            combo_parts(combination)
        if not self.model_extra:
            raise refusal("config.no_hotkey")
        if self.grab and self.device is None:
            raise refusal("config.grab_needs_device")
        return self

    @property
    def combinations(self) -> dict[str, str]:
        """Each alert code with its key combination, as written."""
        return {code: str(keys) for code, keys in (self.model_extra or {}).items()}


class ClientConfig(_Section):
    """config.toml: which hub, and whether this workstation is a desk or a supervisor."""

    language: Literal["fr", "en"] = Field(default="fr", description="the screens' language")
    hub: HubLink = Field(description="which hub (or hubs) to use")
    desk: DeskIdentity | None = Field(default=None, description="this workstation is a desk")
    supervisor: Identity | None = Field(
        default=None, description="this workstation is a supervisor's (not with [desk])"
    )
    keys: dict[str, str] = Field(
        default_factory=dict,
        description='local keys: a code or an action = "key(s)", e.g. respond = "f8,ctrl+o"',
    )
    hotkeys: Hotkeys | None = Field(
        default=None, description="global keys: code = combination, from anywhere on the desktop"
    )
    retention_days: int = Field(
        default=365, ge=1, le=3650, description="the desk's journal forgets older incidents"
    )

    @model_validator(mode="after")
    def _one_identity(self) -> ClientConfig:
        if (self.desk is None) == (self.supervisor is None):
            raise refusal("config.one_identity")
        return self

    @property
    def identity(self) -> str:
        who = self.desk or self.supervisor
        assert who is not None
        return who.id

    @property
    def hub_url(self) -> str:
        """The first hub's URL (where a person is sent: the supervisors' page)."""
        return self.hub_urls[0]

    @property
    def hub_urls(self) -> list[str]:
        """Every hub's URL, in order of preference: what clients are built with."""
        return self.hub.all_urls


def find_config_path(given: Path | None) -> Path:
    """--config, else $DESKALERT_CONFIG, else the user config directory's config.toml."""
    if given is not None:
        return given
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return user_config_dir() / "config.toml"


def load_client_config(given: Path | None) -> ClientConfig:
    path = find_config_path(given)
    if not path.exists():
        raise ConfigError(t("config.client_missing", looked=where_looked(given), env=TOKEN_ENV))
    return load_toml(path, ClientConfig)


def where_looked(given: Path | None) -> str:
    """Where config.toml was looked for, in the order `find_config_path` follows."""
    path = find_config_path(given)
    if given is not None:
        return t("config.looked_option", path=path)
    if os.environ.get(CONFIG_ENV):
        return t("config.looked_env", env=CONFIG_ENV, path=path)
    return t("config.looked_default", env=CONFIG_ENV, path=path)


class TokenMissing(Exception):
    """No token in the environment nor in the keyring; the message says how to give one."""


def token_file(identity: str) -> Path:
    """Where `deskalert enrol` keeps the token on a machine without a system keyring (0600)."""
    return user_config_dir() / f"token-{identity}"


def keyring_usable() -> bool:
    """Whether this machine has a system keyring that answers (not on a headless Linux box)."""
    try:
        keyring.get_password(KEYRING_SERVICE, "deskalert-probe")
    except keyring.errors.KeyringError:
        return False
    return True


def write_token_file(identity: str, token: str) -> Path:
    """Keep `token` in `token_file(identity)`, readable by its owner only (0600)."""
    path = token_file(identity)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    os.chmod(path, 0o600)
    return path


def find_token(identity: str) -> str:
    """$DESKALERT_TOKEN if set, else the system keyring (service deskalert, user = identity),
    else the file `deskalert enrol` wrote where there is no keyring (`token_file`)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    try:
        kept = token_file(identity).read_text(encoding="utf-8").strip()
    except OSError:
        kept = ""
    try:
        stored = keyring.get_password(KEYRING_SERVICE, identity)
    except keyring.errors.KeyringError as exc:
        if kept:
            return kept
        raise TokenMissing(
            t("config.no_keyring", kind=exc.__class__.__name__, env=TOKEN_ENV)
        ) from None
    if not stored and kept:
        return kept
    if not stored:
        raise TokenMissing(t("config.no_token", identity=repr(identity), env=TOKEN_ENV))
    return stored
