"""The roster's `[broadcasts]` section: the kinds of message a supervisor sends to every desk of
a site (each with its look and protocol), ready-made texts, and the delay after which the desks
that have not read one are named.

A hub.toml without the section gets the four kinds and templates below: `vigilance`,
`confinement`, `evacuation` and `fin-alerte` (which ends the current broadcasts of its sites).
A roster that lists kinds (or templates) replaces the built-in ones of that list.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from deskalert.models.base import refusal
from deskalert.models.broadcasts import BroadcastKind, BroadcastTemplate, RosterEntry

DEFAULT_KINDS = [
    BroadcastKind(
        id="vigilance",
        label="Vigilance",
        label_en="Be alert",
        look="warning",
        protocol="Restez attentif, ne restez pas seul, gardez la touche d'alerte à portée de main.",
        protocol_en="Stay alert, do not stay alone, keep the alert key at hand.",
    ),
    BroadcastKind(
        id="confinement",
        label="Confinement",
        label_en="Lockdown",
        look="danger",
        protocol="Fermez la porte, éloignez-vous des vitres, restez à votre poste"
        " jusqu'à la fin d'alerte.",
        protocol_en="Close the door, keep away from windows, stay at your desk until"
        " the all clear.",
    ),
    BroadcastKind(
        id="evacuation",
        label="Évacuation",
        label_en="Evacuation",
        look="danger",
        protocol="Quittez votre poste par l'issue la plus proche et rejoignez le point"
        " de rassemblement.",
        protocol_en="Leave your desk by the nearest exit and go to the assembly point.",
    ),
    BroadcastKind(
        id="fin-alerte",
        label="Fin d'alerte",
        label_en="All clear",
        look="clear",
        protocol="Reprise normale de l'activité.",
        protocol_en="Back to normal work.",
        ends=True,
    ),
]
DEFAULT_TEMPLATES = [
    BroadcastTemplate(
        id="agite",
        kind="vigilance",
        text="Une personne agitée se dirige vers les guichets.",
        text_en="An agitated person is heading towards the desks.",
    ),
    BroadcastTemplate(
        id="confinement",
        kind="confinement",
        text="Confinement du bâtiment : restez à votre poste, porte fermée.",
        text_en="Building lockdown: stay at your desk, door closed.",
    ),
    BroadcastTemplate(
        id="evacuation",
        kind="evacuation",
        text="Évacuation du bâtiment : sortez par l'issue la plus proche.",
        text_en="Building evacuation: leave by the nearest exit.",
    ),
    BroadcastTemplate(
        id="fin-alerte",
        kind="fin-alerte",
        text="Fin d'alerte : reprise normale de l'activité.",
        text_en="All clear: back to normal work.",
    ),
]


class BroadcastSection(RosterEntry):
    """Each config gets its own copies of the built-in kinds and templates: changing one (a
    reload's swap, a test) never changes another config's."""

    unread_after_s: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="desks that have not read a broadcast after this are named to supervisors",
    )
    kinds: list[BroadcastKind] = Field(
        default_factory=lambda: [kind.model_copy() for kind in DEFAULT_KINDS],
        min_length=1,
        max_length=50,
        description="the kinds of message; unset: vigilance, confinement, evacuation, fin-alerte",
    )
    templates: list[BroadcastTemplate] = Field(
        default_factory=lambda: [each.model_copy() for each in DEFAULT_TEMPLATES],
        max_length=100,
        description="ready-made messages; unset: one per built-in kind",
    )

    @model_validator(mode="after")
    def _consistent(self) -> BroadcastSection:
        kinds = [k.id for k in self.kinds]
        for ids, what in ((kinds, "kinds"), ([t.id for t in self.templates], "templates")):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            if twice:
                raise refusal(
                    "config.twice", table=f"broadcasts.{what}", key="id", value=repr(twice[0])
                )
        for index, template in enumerate(self.templates):
            if template.kind not in kinds:
                raise refusal(
                    "config.unknown_id",
                    where=f"broadcasts.templates[{index}].kind",
                    value=repr(template.kind),
                    known=", ".join(kinds),
                )
        return self

    def kind(self, kind_id: str) -> BroadcastKind | None:
        return next((k for k in self.kinds if k.id == kind_id), None)

    def template(self, template_id: str) -> BroadcastTemplate | None:
        return next((t for t in self.templates if t.id == template_id), None)
