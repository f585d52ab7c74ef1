"""The desk's and supervisor's `config.toml`, and where their token comes from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import keyring
import keyring.errors
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from deskalert.config import load_toml, user_config_dir
from deskalert.models import Identifier

TOKEN_ENV = "DESKALERT_TOKEN"
CONFIG_ENV = "DESKALERT_CONFIG"
KEYRING_SERVICE = "deskalert"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HubLink(_Section):
    url: HttpUrl


class Identity(_Section):
    id: Identifier


class DeskIdentity(Identity):
    duress_key: str | None = Field(
        default=None, max_length=20,
        description="in the 'Tout va bien ?' prompt, a key that answers like 'oui' on screen"
        " but raises a discreet alert (e.g. 'o'); none if unset",
    )


class ClientConfig(_Section):
    """config.toml: which hub, and whether this workstation is a desk or a supervisor."""

    language: Literal["fr", "en"] = "fr"
    hub: HubLink
    desk: DeskIdentity | None = None
    supervisor: Identity | None = None
    keys: dict[str, str] = Field(default_factory=dict)
    retention_days: int = Field(default=365, ge=1, le=3650)

    @model_validator(mode="after")
    def _one_identity(self) -> ClientConfig:
        if (self.desk is None) == (self.supervisor is None):
            raise ValueError("give exactly one of [desk] id = ... or [supervisor] id = ...")
        return self

    @property
    def identity(self) -> str:
        who = self.desk or self.supervisor
        assert who is not None
        return who.id

    @property
    def hub_url(self) -> str:
        return str(self.hub.url).rstrip("/")


def find_config_path(given: Path | None) -> Path:
    """--config, else $DESKALERT_CONFIG, else the user config directory's config.toml."""
    if given is not None:
        return given
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return user_config_dir() / "config.toml"


def load_client_config(given: Path | None) -> ClientConfig:
    return load_toml(find_config_path(given), ClientConfig)


class TokenMissing(Exception):
    """No token in the environment nor in the keyring; the message says how to give one."""


def find_token(identity: str) -> str:
    """$DESKALERT_TOKEN if set, else the system keyring (service deskalert, user = identity)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        return token
    try:
        stored = keyring.get_password(KEYRING_SERVICE, identity)
    except keyring.errors.KeyringError as exc:
        raise TokenMissing(
            f"no token: this machine has no usable system keyring ({exc.__class__.__name__});"
            f" set {TOKEN_ENV}=<token> in the environment of deskalert"
        ) from None
    if not stored:
        raise TokenMissing(
            f"no token for {identity!r}: run `deskalert login` or set {TOKEN_ENV}=<token>"
        )
    return stored
