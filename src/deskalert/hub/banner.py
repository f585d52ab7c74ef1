"""The hub's start-up banner: where it listens, what it stores, what it loaded, and what is wrong
with the machine it runs on (split from hub/server.py along that seam)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from deskalert import __version__
from deskalert.hub.server import needed_open_files, open_files_warning

if TYPE_CHECKING:
    from deskalert.hub.server import HubServer
    from deskalert.hub.settings import HubConfig


def print_banner(hub: HubServer, config: HubConfig, config_path: Path, out: TextIO) -> None:
    """What the operator needs to see at start: where it listens, what it stores, what it loaded."""
    c, h = config, config.hub
    keys = ", ".join(f"{code.code} ({code.key.upper()})" for code in c.codes)
    lines = [
        f"deskalert hub {__version__}",
        f"  listening on  {hub.url}   (API: {hub.url}/docs, {hub.url}/openapi.json)",
        f"  database      {hub.database}",
        f"  config        {config_path}",
        (
            f"  loaded        {len(c.sites)} sites, {len(c.desks)} desks, "
            f"{len(c.supervisors)} supervisors, {len(c.oncall)} on-call slots"
        ),
        f"  codes         {keys}",
        (
            f"  timing        j'arrive expected within {h.ack_timeout_s:g} s, cancel window "
            f"{h.cancel_window_s:g} s, heartbeat {h.heartbeat_s:g} s"
        ),
    ]
    lines += [
        (
            f"  limits        request {h.request_timeout_s:g} s,"
            f" keep-alive {h.keepalive_timeout_s:g} s,"
            f" {h.max_connections_per_address} connections per address,"
            f" {h.max_streams_per_identity} streams per token"
        ),
        f"  alert rate    {h.alert_burst} back to back per desk, then {h.alerts_per_minute:g}/min",
        (
            f"  request rate  {h.request_burst} back to back per token, then"
            f" {h.requests_per_second:g}/s (new alerts apart)"
        ),
        f"  open files    {hub.open_files} (this roster needs {needed_open_files(config)})",
    ]
    files_warning = open_files_warning(config, hub.open_files)
    if files_warning:
        lines.append(f"  WARNING       {files_warning}")
    demo = config.demo_token_users()
    if demo:
        lines.append(
            f"  WARNING       {len(demo)} of the desks/supervisors still use the published demo"
            " token: fine for a try-out, never on a real site (deskalert token new)"
        )
    print("\n".join(lines), file=out, flush=True)
