"""The interface's words, French by default, English available: one catalogue, no text in code."""

from __future__ import annotations

from typing import Literal

Language = Literal["fr", "en"]

CATALOGUE: dict[str, dict[Language, str]] = {
    "send.transmitted": {
        "fr": "alerte « {label} » transmise au hub (id {id}){drill}",
        "en": "alert “{label}” transmitted to the hub (id {id}){drill}",
    },
    "send.queued": {
        "fr": "ALERTE NON TRANSMISE ({reason}) : elle reste en file et partira au prochain"
              " `deskalert desk` ou `deskalert send`.{call}",
        "en": "ALERT NOT TRANSMITTED ({reason}): it stays queued and goes out with the next"
              " `deskalert desk` or `deskalert send`.{call}",
    },
    "send.refused": {
        "fr": "ALERTE REFUSÉE par le hub : {reason}.{call}",
        "en": "ALERT REFUSED by the hub: {reason}.{call}",
    },
    "send.call": {
        "fr": " Appelez l'encadrant de permanence : {name}, {phone}.",
        "en": " Call the supervisor on call: {name}, {phone}.",
    },
    "send.earlier": {
        "fr": "alerte en attente {id} ({code}) : {status}",
        "en": "queued alert {id} ({code}): {status}",
    },
    "drill": {"fr": " [EXERCICE]", "en": " [DRILL]"},
    "delivery.transmitted": {"fr": "transmise", "en": "transmitted"},
    "delivery.queued": {"fr": "toujours en file", "en": "still queued"},
    "delivery.refused": {"fr": "refusée", "en": "refused"},
    # -- the desk screen --------------------------------------------------------------------
    "desk.title": {"fr": "deskalert · poste", "en": "deskalert · desk"},
    "oncall.title": {"fr": "Encadrant de permanence", "en": "Supervisor on call"},
    "oncall.none": {
        "fr": "Personne de permanence : une alerte prévient tous les encadrants.",
        "en": "Nobody on call: an alert reaches every supervisor.",
    },
    "oncall.unknown": {
        "fr": "Inconnu : le poste n'a encore jamais joint le hub.",
        "en": "Unknown: this desk has never reached the hub yet.",
    },
    "oncall.next": {"fr": "ensuite : {names}", "en": "next: {names}"},
    "oncall.until": {"fr": "jusqu'à {time}", "en": "until {time}"},
    "oncall.stale": {
        "fr": "dernière information connue ({time})",
        "en": "last known ({time})",
    },
    "link.ok": {"fr": "liaison OK", "en": "link OK"},
    "link.connecting": {"fr": "liaison en cours…", "en": "connecting…"},
    "link.lost": {"fr": "liaison perdue depuis {time}", "en": "link lost since {time}"},
    "link.lost_call": {
        "fr": "Les alertes partiront dès le retour de la liaison. En urgence, appelez {name} : {phone}.",
        "en": "Alerts go out as soon as the link is back. If urgent, call {name}: {phone}.",
    },
    "link.lost_nocall": {
        "fr": "Les alertes partiront dès le retour de la liaison. En urgence, appelez un encadrant.",
        "en": "Alerts go out as soon as the link is back. If urgent, call a supervisor.",
    },
    "codes.title": {"fr": "Alertes", "en": "Alerts"},
    "codes.discreet": {"fr": "discrète", "en": "discreet"},
    "codes.stale": {
        "fr": "répertoire par défaut : le hub n'a pas encore été joint",
        "en": "default repertoire: the hub has not been reached yet",
    },
    "step.queued": {"fr": "en file", "en": "queued"},
    "step.transmitted": {"fr": "transmise", "en": "transmitted"},
    "step.escalated": {"fr": "transmise, relayée à {who}", "en": "transmitted, passed on to {who}"},
    "step.acknowledged": {"fr": "pris en charge : {names}", "en": "on the way: {names}"},
    "step.resolved": {"fr": "terminée", "en": "resolved"},
    "step.cancelled": {"fr": "annulée", "en": "cancelled"},
    "step.refused": {"fr": "refusée : {reason}", "en": "refused: {reason}"},
    "everyone": {"fr": "tous les encadrants", "en": "every supervisor"},
    "status.title": {"fr": "Votre alerte : {label}", "en": "Your alert: {label}"},
    "warning.title": {"fr": "ALERTE NON TRANSMISE", "en": "ALERT NOT TRANSMITTED"},
    "warning.refused_title": {"fr": "ALERTE REFUSÉE PAR LE HUB", "en": "ALERT REFUSED BY THE HUB"},
    "warning.retrying": {
        "fr": "« {label} » n'a pas encore atteint le hub ({reason}) ; nouvel essai en continu.",
        "en": "“{label}” has not reached the hub yet ({reason}); retrying continuously.",
    },
    "warning.refused": {"fr": "« {label} » : {reason}", "en": "“{label}”: {reason}"},
    "warning.call": {
        "fr": "Appelez maintenant {name} : {phone}",
        "en": "Call {name} now: {phone}",
    },
    "warning.call_anyone": {
        "fr": "Appelez maintenant un encadrant par téléphone.",
        "en": "Call a supervisor by phone now.",
    },
    "colleagues.title": {"fr": "Alerte d'un collègue", "en": "A colleague's alert"},
    "colleague.title": {"fr": "{desk} appelle : {label}", "en": "{desk} calls: {label}"},
    "colleague.where": {"fr": "{location}", "en": "{location}"},
    "colleague.since_now": {"fr": "à l'instant", "en": "just now"},
    "colleague.since_min": {"fr": "depuis {minutes} min", "en": "for {minutes} min"},
    "colleague.responders": {"fr": "en route : {names}", "en": "on the way: {names}"},
    "colleague.nobody": {"fr": "personne n'a encore répondu", "en": "nobody has answered yet"},
    "colleague.answer": {"fr": "{key} : j'arrive", "en": "{key}: I'm coming"},
    "colleague.answered": {"fr": "vous avez répondu « j'arrive »", "en": "you answered “I'm coming”"},
    "drill.banner": {
        "fr": "EXERCICE : la prochaine alerte sera un exercice ({key} pour annuler)",
        "en": "DRILL: the next alert will be a drill ({key} to stop)",
    },
    "drill.session": {
        "fr": "EXERCICE : toutes les alertes de cette session sont des exercices",
        "en": "DRILL: every alert of this session is a drill",
    },
    "drill.word": {"fr": "EXERCICE", "en": "DRILL"},
    "reason.unreachable": {"fr": "le hub ne répond pas", "en": "the hub does not answer"},
    "reason.silent": {"fr": "le hub ne donne plus signe de vie", "en": "the hub went silent"},
    "reason.store": {
        "fr": "le hub ne peut plus enregistrer (disque)",
        "en": "the hub cannot store anything (disk)",
    },
    "binding.respond": {"fr": "J'arrive", "en": "I'm coming"},
    "binding.cancel": {"fr": "Annuler mon alerte", "en": "Cancel my alert"},
    "binding.drill": {"fr": "Exercice", "en": "Drill"},
    "binding.quit": {"fr": "Quitter", "en": "Quit"},
    "notify.cancelled": {"fr": "Alerte annulée.", "en": "Alert cancelled."},
    "notify.cancel_refused": {
        "fr": "Annulation impossible : {reason}",
        "en": "Cannot cancel: {reason}",
    },
    "notify.nothing_to_cancel": {
        "fr": "Aucune alerte à annuler.",
        "en": "No alert to cancel.",
    },
    "notify.nobody_to_answer": {
        "fr": "Aucune alerte de collègue en attente.",
        "en": "No colleague alert waiting.",
    },
    "notify.answered": {"fr": "« J'arrive » envoyé à {desk}.", "en": "“I'm coming” sent to {desk}."},
    "notify.answer_failed": {
        "fr": "« J'arrive » non transmis : {reason}",
        "en": "“I'm coming” not transmitted: {reason}",
    },
    "notify.unknown_code": {
        "fr": "Code « {code} » : touche {key} ignorée ({reason}).",
        "en": "Code “{code}”: key {key} ignored ({reason}).",
    },
    "notify.unknown_keys": {
        "fr": "config.toml [keys] : {names} n'est ni un code du répertoire ni une action du poste.",
        "en": "config.toml [keys]: {names} is neither a code of the repertoire nor a desk action.",
    },
    "notify.queued_at_start": {
        "fr": "{count} alerte(s) restée(s) en file : envoi en cours.",
        "en": "{count} alert(s) left queued: sending now.",
    },
}


def t(msgid: str, language: Language, /, **values: object) -> str:
    return CATALOGUE[msgid][language].format(**values)
