"""The link to the hub as the person sees it: plain data, no Textual (tui/base.py draws it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from deskalert.errors import (
    DeskAlertError,
    HubError,
    HubIncompatible,
    HubTimeout,
    HubUnreachable,
    Unauthorized,
    is_outside_site_network,
)
from deskalert.i18n import t
from deskalert.text import strip_control


class Change(Protocol):
    """A link change (tui.messages.LinkChanged): up, or down with a reason and an error."""

    up: bool
    reason: str
    error: DeskAlertError | None
    hub: int


class LinkKind(StrEnum):
    """What the link to the hub is, each failure named as what it is."""

    CONNECTING = "connecting"  # not tried yet
    UP = "up"  # the event stream is open
    UNREACHABLE = "unreachable"  # no answer: network, hub stopped, connection refused
    TIMEOUT = "timeout"  # no answer in time, or the stream went silent
    TOKEN_REFUSED = "token_refused"  # 401: alerts are impossible until the token is fixed
    OUTSIDE_NETWORK = "outside_network"  # 403 outside_site_network: the desk's address is not
    #                                      on its site's networks; impossible until IT fixes it
    INCOMPATIBLE = "incompatible"  # an answer that is not the hub's (a proxy's page, wrong JSON)
    HUB_ERROR = "hub_error"  # 5xx: the hub (or a gateway in front of it) failed
    REFUSED = "refused"  # another refusal (403, 404...): the hub says no

    @property
    def is_down(self) -> bool:
        return self not in (LinkKind.CONNECTING, LinkKind.UP)

    @property
    def is_refusal(self) -> bool:
        """Not an outage: the hub answers and says no to this desk; alerts will not leave by
        themselves, someone must fix the token or the site's networks (shown in red)."""
        return self in (LinkKind.TOKEN_REFUSED, LinkKind.OUTSIDE_NETWORK)


@dataclass(frozen=True)
class LinkState:
    """The link as the person sees it: its kind, since when it is down, one line of detail."""

    kind: LinkKind = LinkKind.CONNECTING
    since: datetime | None = None
    detail: str = ""
    hub: int = 1  # up: which configured hub the stream is on; shown only when not the first

    @property
    def up(self) -> bool | None:
        """True when up, False when down, None before the first answer (the old tri-state)."""
        return None if self.kind is LinkKind.CONNECTING else self.kind is LinkKind.UP

    @staticmethod
    def kind_of(error: DeskAlertError | None) -> LinkKind:
        match error:
            case Unauthorized():
                return LinkKind.TOKEN_REFUSED
            case HubIncompatible():
                return LinkKind.INCOMPATIBLE
            case HubTimeout():
                return LinkKind.TIMEOUT
            case HubError() if is_outside_site_network(error):
                return LinkKind.OUTSIDE_NETWORK
            case HubError(status=status) if status >= 500:
                return LinkKind.HUB_ERROR
            case HubError():
                return LinkKind.REFUSED
            case HubUnreachable() | None:
                return LinkKind.UNREACHABLE
            case _:
                return LinkKind.HUB_ERROR

    def after(self, change: Change, now: datetime) -> LinkState:
        """The next state. Down keeps its first `since`; a refusal (token, site's networks) is
        not replaced by an outage (the token or the address is still unproven), only by the
        stream opening or another refusal."""
        if change.up:
            return LinkState(LinkKind.UP, hub=change.hub)
        kind = self.kind_of(change.error)
        if self.kind.is_refusal and not kind.is_refusal:
            return self
        since = self.since if self.kind.is_down and self.since else now
        return LinkState(kind, since, one_line(change.reason))


def one_line(text: str, width: int = 160) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def link_reason(link: LinkState) -> str:  # one answer per kind
    """Why the link is down, in the person's words (the technical line: `link_detail`)."""
    match link.kind:
        case LinkKind.UNREACHABLE:
            return t("linkwhy.unreachable")
        case LinkKind.TIMEOUT:
            return t("linkwhy.timeout")
        case LinkKind.TOKEN_REFUSED:
            return t("linkwhy.token_refused")
        case LinkKind.OUTSIDE_NETWORK:
            return t("linkwhy.outside_network")
        case LinkKind.INCOMPATIBLE:
            return t("linkwhy.incompatible")
        case LinkKind.HUB_ERROR:
            return t("linkwhy.hub_error")
        case LinkKind.REFUSED:
            return t("linkwhy.refused")
        case _:
            return ""


def link_detail(link: LinkState) -> str:
    """The technical line of a link down for an answer that is not the hub's, a hub error or a
    refusal: labelled for the administrator, apart from the person's words (`link_reason`)."""
    if link.kind in (LinkKind.INCOMPATIBLE, LinkKind.HUB_ERROR, LinkKind.REFUSED) and link.detail:
        return t("hubsays.details", detail=strip_control(link.detail))
    return ""
