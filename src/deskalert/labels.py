"""Message ids of the words chosen by a value (a state, an incident type, a column...).

Every id is written out here, marked with `N_`, so that Babel's extractor and the catalogue test
see them: an id assembled at run time (`f"state.{x}"`) would be invisible to both.
"""

from __future__ import annotations

from deskalert.i18n import N_, t

FAMILIES: dict[str, dict[str, str]] = {
    "state": {
        "open": N_("state.open"),
        "acknowledged": N_("state.acknowledged"),
        "resolved": N_("state.resolved"),
        "cancelled": N_("state.cancelled"),
    },
    "step": {
        "queued": N_("step.queued"),
        "transmitted": N_("step.transmitted"),
        "acknowledged": N_("step.acknowledged"),
        "resolved": N_("step.resolved"),
        "cancelled": N_("step.cancelled"),
        "refused": N_("step.refused"),
    },
    "delivery": {
        "queued": N_("delivery.queued"),
        "transmitted": N_("delivery.transmitted"),
        "refused": N_("delivery.refused"),
        "cancelled": N_("delivery.cancelled"),
    },
    "type": {
        "verbal": N_("type.verbal"),
        "incivility": N_("type.incivility"),
        "psychological": N_("type.psychological"),
        "physical": N_("type.physical"),
        "property": N_("type.property"),
        "other": N_("type.other"),
        "unknown": N_("type.unknown"),
    },
    "lever": {
        "correction": N_("lever.correction"),
        "rules": N_("lever.rules"),
        "expertise": N_("lever.expertise"),
        "sanction": N_("lever.sanction"),
    },
    "support": {
        "debrief": N_("support.debrief"),
        "occupational_health": N_("support.occupational_health"),
        "psychological": N_("support.psychological"),
        "none_wanted": N_("support.none_wanted"),
    },
    "report": {
        "internal": N_("report.internal"),
        "main_courante": N_("report.main_courante"),
        "complaint": N_("report.complaint"),
    },
    "journal.period": {
        "all": N_("journal.period.all"),
        "day": N_("journal.period.day"),
        "week": N_("journal.period.week"),
        "month": N_("journal.period.month"),
    },
    "journal.col": {
        "when": N_("journal.col.when"),
        "code": N_("journal.col.code"),
        "state": N_("journal.col.state"),
        "first": N_("journal.col.first"),
        "resolve": N_("journal.col.resolve"),
        "note": N_("journal.col.note"),
    },
    "col": {
        "desk": N_("col.desk"),
        "code": N_("col.code"),
        "location": N_("col.location"),
        "elapsed": N_("col.elapsed"),
        "state": N_("col.state"),
        "responders": N_("col.responders"),
        "level": N_("col.level"),
        "time": N_("col.time"),
    },
    "col.short": {"desk": N_("col.short.desk"), "state": N_("col.short.state")},
    "pane.binding": {
        "respond": N_("pane.binding.respond"),
        "resolve": N_("pane.binding.resolve"),
        "cancel": N_("pane.binding.cancel"),
        "details": N_("pane.binding.details"),
        "oncall": N_("pane.binding.oncall"),
        "history": N_("pane.binding.history"),
        "debrief": N_("pane.binding.debrief"),
        "note": N_("pane.binding.note"),
    },
    "event": {
        "alert.raised": N_("event.alert.raised"),
        "alert.acknowledged": N_("event.alert.acknowledged"),
        "alert.escalated": N_("event.alert.escalated"),
        "alert.resolved": N_("event.alert.resolved"),
        "alert.cancelled": N_("event.alert.cancelled"),
    },
    "notify": {
        "notify.sent": N_("notify.line.sent"),
        "notify.failed": N_("notify.line.failed_final"),
        "notify.gave_up": N_("notify.line.gave_up"),
    },
}


def label(family: str, value: object, /, **values: object) -> str:
    """The words for `value` in `family` (`label("state", alert.state)`)."""
    return t(FAMILIES[family][str(value)], **values)
