"""The hub's start-up banner: where it listens, what it stores, what it loaded, and what is wrong
with the machine it runs on (split from hub/server.py along that seam)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from deskalert import __version__
from deskalert.hub.server import (
    FILES_HEADROOM,
    FILES_PER_PRINCIPAL,
    needed_open_files,
    open_files_warning,
)
from deskalert.i18n import N_, t

if TYPE_CHECKING:
    from deskalert.hub.server import HubServer
    from deskalert.hub.settings import HubConfig


def print_banner(hub: HubServer, config: HubConfig, config_path: Path, out: TextIO) -> None:
    """What the operator needs to see at start: where it listens, what it stores, what it
    loaded; in the command line's language (the hub's log stays English, for the SIEM)."""
    rows = [(N_("banner.listening"), t("banner.listening_on", url=hub.url))]
    rows += [
        (N_("banner.database"), str(hub.database)),
        (N_("banner.config"), str(config_path)),
        (N_("banner.loaded"), loaded(config)),
        (N_("banner.codes"), ", ".join(f"{c.code} ({c.key.upper()})" for c in config.codes)),
        *limits(config),
        (N_("banner.open_files"), open_files(config, hub.open_files)),
    ]
    if open_files_warning(config, hub.open_files):
        rows.append((N_("banner.warning"), files_warning(config, hub.open_files)))
    if hub.demo_tokens:  # in force: a desk enrolled since uses its own token
        rows.append((N_("banner.warning"), t("banner.demo_tokens", count=hub.demo_tokens)))
    width = max(len(t(label)) for label, _ in rows) + 2
    lines = [f"deskalert hub {__version__}"]
    lines += [f"  {t(label):<{width}}{text}" for label, text in rows]
    print("\n".join(lines), file=out, flush=True)


def loaded(config: HubConfig) -> str:
    return t(
        "banner.loaded_counts",
        sites=len(config.sites),
        desks=len(config.desks),
        supervisors=len(config.supervisors),
        slots=len(config.oncall),
    )


def limits(config: HubConfig) -> list[tuple[str, str]]:
    """The timing, the connection limits and the rates of [hub], one row each."""
    h = config.hub
    return [
        (
            N_("banner.timing"),
            t(
                "banner.timing_values",
                ack=f"{h.ack_timeout_s:g}",
                cancel=f"{h.cancel_window_s:g}",
                heartbeat=f"{h.heartbeat_s:g}",
            ),
        ),
        (
            N_("banner.limits"),
            t(
                "banner.limits_values",
                request=f"{h.request_timeout_s:g}",
                keepalive=f"{h.keepalive_timeout_s:g}",
                connections=h.max_connections_per_address,
                streams=h.max_streams_per_identity,
            ),
        ),
        (
            N_("banner.alert_rate"),
            t("banner.alert_rate_values", burst=h.alert_burst, rate=f"{h.alerts_per_minute:g}"),
        ),
        (
            N_("banner.request_rate"),
            t(
                "banner.request_rate_values",
                burst=h.request_burst,
                rate=f"{h.requests_per_second:g}",
            ),
        ),
    ]


def open_files(config: HubConfig, limit: int) -> str:
    return t("banner.open_files_values", files=limit, needed=needed_open_files(config))


def files_warning(config: HubConfig, limit: int) -> str:
    return t(
        "banner.files_warning",
        limit=limit,
        needed=needed_open_files(config),
        people=len(config.principals()),
        per=FILES_PER_PRINCIPAL,
        headroom=FILES_HEADROOM,
    )
