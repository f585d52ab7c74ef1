"""The test roster: two sites, three desks, three supervisors, on-call all week."""

from __future__ import annotations

from deskalert.hub.settings import HubConfig, token_hash

ALL_DAYS = '["mon", "tue", "wed", "thu", "fri", "sat", "sun"]'


def roster_toml(extra_desks: int = 0, **hub: float) -> str:
    """A small two-site roster; every token is "tok-<id>"; on-call covers the whole week.

    `extra_desks` adds desks d00, d01, ... on the site accueil (for many-desk fault tests).
    """
    timing = {"ack_timeout_s": 30, "cancel_window_s": 10, "heartbeat_s": 5, **hub}
    lines = ["[hub]", *(f"{k} = {v}" for k, v in timing.items()), 'timezone = "Europe/Paris"']
    lines += [
        '[[codes]]\ncode = "renfort"\nlabel = "Renfort"\nkey = "f2"\ndiscreet = true\n'
        'protocol = "L\'encadrant vient au guichet."',
        '[[codes]]\ncode = "malaise"\nlabel = "Urgence médicale"\nkey = "f4"\npriority = 1\n'
        'protocol = "Le secouriste vient avec la trousse."',
        '[[sites]]\nid = "accueil"\nlabel = "Accueil RDC"',
        '[[sites]]\nid = "etage"\nlabel = "Étage"',
    ]
    many = [(f"d{i:02d}", "accueil") for i in range(extra_desks)]
    for desk, site in (("g1", "accueil"), ("g2", "accueil"), ("e1", "etage"), *many):
        lines.append(
            f'[[desks]]\nid = "{desk}"\nlabel = "Desk {desk}"\nsite = "{site}"\n'
            f'location = "near {desk}"\ntoken_sha256 = "{token_hash("tok-" + desk)}"'
        )
    for sup, name in (("s.a", "Ana Sup"), ("s.b", "Bob Sup"), ("s.c", "Cleo Sup")):
        lines.append(
            f'[[supervisors]]\nid = "{sup}"\nname = "{name}"\nphone = "01 00"\n'
            f'location = "office {sup}"\ntoken_sha256 = "{token_hash("tok-" + sup)}"'
        )
    lines.append(
        f'[[oncall]]\nsite = "accueil"\nsupervisor = "s.a"\ndays = {ALL_DAYS}\n'
        'start = "00:00"\nend = "00:00"\nbackup = ["s.b"]'
    )
    return "\n\n".join(lines) + "\n"


def make_config(**hub: float) -> HubConfig:
    import tomllib

    return HubConfig.model_validate(tomllib.loads(roster_toml(**hub)))
