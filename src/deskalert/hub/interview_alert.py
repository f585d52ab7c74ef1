"""The alert an interview check raises on behalf of its desk, and its message: pure rules and
text, split from `InterviewKeeper` (hub/interview.py), which decides when to raise it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from deskalert.hub.roster import Roster
from deskalert.hub.settings_hub import HubSection
from deskalert.i18n import N_, translations
from deskalert.models import Alert, AlertCode, AlertState, Check, CheckAnswer, CheckKind

# An alert raised for a check gets an id derived from the check's: one check, one alert.
ALERT_NAMESPACE = uuid.UUID("5b0c6f0e-9a43-4b8e-9a59-2f64a1d0c3e1")


def alert_code(roster: Roster, code_id: str) -> AlertCode:
    """The roster's code, or a discreet built-in one: a roster without it still alerts."""
    code = roster.codes.get(code_id)
    return code or AlertCode(code=code_id, label=code_id, key="-", discreet=True, priority=1)


def check_alert(
    hub: HubSection,
    roster: Roster,
    chain: list[str],
    check: Check,
    answer: CheckAnswer | None,
    now: datetime,
) -> Alert:
    """The alert a check raises on behalf of its desk: unanswered (`answer` None), duress,
    or "venez"; its message says where, since when, and what happened, in the hub's
    notification language. `chain`: the on-call chain of the desk's site."""
    code = alert_code(roster, hub.no_answer_code if answer is None else hub.duress_code)
    desk = roster.desks[check.desk]
    return Alert(
        id=uuid.uuid5(ALERT_NAMESPACE, str(check.id)),
        code=code.code,
        code_label=code.label,
        code_label_en=code.label_en,
        discreet=code.discreet or answer is not None,
        priority=code.priority,
        desk=desk.id,
        desk_label=desk.label,
        site=desk.site,
        location=desk.location,
        created_at=now,
        received_at=now,
        state=AlertState.OPEN,
        test=False,
        message=check_message(hub, check, answer),
        chain=chain,
        escalated_to=chain[0] if chain else "everyone",
        no_answer=answer is None,
        updated_at=now,
    )


def check_message(hub: HubSection, check: Check, answer: CheckAnswer | None) -> str:
    """Where, since when, and what happened, in the hub's notification language (280 max)."""
    lang = hub.language
    what = {
        None: N_("check.alert.no_answer"),
        CheckAnswer.DURESS: N_("check.alert.duress"),
        CheckAnswer.VENEZ: N_("check.alert.venez"),
    }[answer]
    if check.kind is CheckKind.SESSION:
        started = (check.session_started_at or check.asked_at).astimezone(hub.tz())
        where = _t(
            lang,
            N_("check.alert.session"),
            room=check.room or "-",
            started=started.strftime("%H:%M"),
        )
    else:
        asked = check.asked_at.astimezone(hub.tz())
        where = _t(
            lang,
            N_("check.alert.supervisor"),
            name=check.asked_by_name or "-",
            asked=asked.strftime("%H:%M"),
        )
    return f"{where} {_t(lang, what)}"[:280]


def _t(lang: Any, msgid: str, **values: object) -> str:
    """A message in the hub's notification language (as hub/notify.py writes them)."""
    return translations(lang).gettext(msgid).format(**values)
