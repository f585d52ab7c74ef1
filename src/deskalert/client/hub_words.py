"""What the hub's refusals and failures mean, in the person's words (no Textual).

The hub answers a refusal with a code and an English detail (`unknown_code: unknown code
'renfor' (known: ...)`), and httpx names transport failures in its own words. Neither is for
the agent or the supervisor: they read a sentence of the catalogue chosen by the error's code
(or, for a failure with no answer, its kind), in their language. The detail is for the
administrator: `detail()` gives it, and `logged()` logs it (`deskalert.client` logger), never
mixed into the sentence. The screens, `deskalert journal` and note sharing use it.
"""

from __future__ import annotations

import logging

from deskalert.errors import DeskAlertError, HubError, HubIncompatible, HubTimeout, HubUnreachable
from deskalert.i18n import N_, t
from deskalert.text import strip_control

log = logging.getLogger("deskalert.client")

# The hub's error codes (hub/routes, errors.py's class codes) -> the sentence's message id.
BY_CODE: dict[str, str] = {
    "unauthorized": N_("hubsays.unauthorized"),
    "token_refused": N_("hubsays.unauthorized"),
    "outside_site_network": N_("refusal.outside_network"),
    "unknown_code": N_("hubsays.unknown_code"),
    "unknown_desk": N_("hubsays.unknown_desk"),
    "unknown_site": N_("hubsays.unknown_site"),
    "not_supervisor": N_("hubsays.not_supervisor"),
    "cancel_window_over": N_("hubsays.cancel_window_over"),
    "invalid_transition": N_("hubsays.invalid_transition"),
    "invalid_until": N_("hubsays.invalid_until"),
    "session_closed": N_("hubsays.session_closed"),
    "session_refused": N_("hubsays.session_refused"),
    "check_closed": N_("hubsays.check_closed"),
    "alert_id_reused": N_("hubsays.alert_id_reused"),
    "invalid_request": N_("hubsays.invalid"),
    "invalid": N_("hubsays.invalid"),
    "rate_limited": N_("hubsays.rate_limited"),
    "store_unavailable": N_("hubsays.store_unavailable"),
    "not_found": N_("hubsays.not_found"),
    "forbidden": N_("hubsays.forbidden"),
    "conflict": N_("hubsays.invalid_transition"),
    "server_error": N_("hubsays.server_error"),
    "http_error": N_("hubsays.server_error"),
}


def said(error: DeskAlertError) -> str:
    """The sentence the person reads for `error`, in their language."""
    match error:
        case HubTimeout():
            return t("hubsays.timeout")
        case HubIncompatible():
            return t("hubsays.incompatible")
        case HubUnreachable():
            return t("hubsays.unreachable")
        case HubError(code=code) if code in BY_CODE:
            return t(BY_CODE[code])
        case HubError(status=status) if status >= 500:
            return t("hubsays.server_error")
        case _:
            return t("hubsays.other")


def said_reason(reason: str) -> str:
    """The sentence for a refusal recorded as "code: detail" (the outbox's, in the journal)."""
    code, _, _detail = reason.partition(":")
    return t(BY_CODE[code]) if code in BY_CODE else t("hubsays.other")


def detail(error: DeskAlertError | str) -> str:
    """The hub's (or httpx's) own words, one line: for the administrator, not the screen."""
    return " ".join(strip_control(str(error)).split())


def logged(error: DeskAlertError, what: str) -> str:
    """`said(error)`, after logging the detail for the administrator with what was asked."""
    log.warning("%s: %s (%s)", what, detail(error), type(error).__name__)
    return said(error)
