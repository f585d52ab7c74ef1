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
}


def t(key: str, language: Language, **values: object) -> str:
    return CATALOGUE[key][language].format(**values)
