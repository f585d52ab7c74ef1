"""Config errors in the person's words (issue 23): one line, the unknown key named first with the
closest known key, and none of pydantic's wording, for every kind of error hub.toml and
config.toml can produce."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskalert import i18n
from deskalert.client.settings import load_client_config
from deskalert.errors import ConfigError
from deskalert.hub.settings import load_hub_config
from support.roster import roster_toml

PYDANTIC_WORDS = (
    "Input should",
    "Extra inputs",
    "Field required",
    "input_value",
    "input_type",
    "Value error,",
    "relative URL",
    "pydantic",
    "For further information",
    "validation error",
)
CLIENT = '[hub]\nurl = "http://127.0.0.1:1"\n[desk]\nid = "g1"\n'


def hub_error(tmp_path: Path, replace: str, by: str) -> str:
    text = roster_toml()
    assert replace in text
    path = tmp_path / "hub.toml"
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_hub_config(path)
    return str(caught.value).removeprefix(f"{path}: ")


def client_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_client_config(path)
    return str(caught.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("replace", "by", "french"),
    [
        (
            "heartbeat_s = 5",
            "hartbeat_s = 5",
            "hub.hartbeat_s : clé inconnue ; vouliez-vous dire heartbeat_s ?",
        ),
        ("heartbeat_s = 5", "heartbeat_s = -1", "hub.heartbeat_s : doit être > 0"),
        (
            "heartbeat_s = 5",
            'heartbeat_s = "vite"',
            'hub.heartbeat_s : attendu : un nombre, pas "vite"',
        ),
        ("heartbeat_s = 5", "heartbeat_s = [5]", "hub.heartbeat_s : attendu : un nombre, pas [5]"),
        (
            'start = "00:00"',
            'start = "25:00"',
            'oncall[0].start : attendu : une heure « HH:MM », pas "25:00"',
        ),
        (
            'start = "00:00"',
            "start = true",
            "oncall[0].start : attendu : une heure « HH:MM », pas true",
        ),
        ('key = "f4"', "key = 4", "codes[1].key : attendu : un texte entre guillemets, pas 4"),
        (
            'site = "etage"',
            "site = {a = 1}",
            'desks[2].site : attendu : un texte entre guillemets, pas {"a": 1}',
        ),
        ('site = "etage"', 'site = "nowhere"', "desks[2].site : 'nowhere' inconnu (connus :"),
        ("[hub]", "hub = 3\n[hubb]", "hubb : clé inconnue ; vouliez-vous dire hub ?"),
    ],
)
def test_hub_toml_errors_speak_the_catalogue(
    tmp_path: Path, replace: str, by: str, french: str
) -> None:
    message = hub_error(tmp_path, replace, by)
    assert message.startswith(french), message
    assert "\n" not in message and not any(word in message for word in PYDANTIC_WORDS)


def test_a_misspelt_required_key_is_one_problem_named_by_its_typo(tmp_path: Path) -> None:
    """`tokn_sha256` is unknown and `token_sha256` missing: one typo, shown as the unknown key
    with its suggestion, not as "missing (and 1 more problem)"."""
    message = hub_error(tmp_path, "token_sha256 =", "tokn_sha256 =")
    assert message.endswith(" : clé inconnue ; vouliez-vous dire token_sha256 ?"), message


@pytest.mark.parametrize(
    ("text", "french", "english"),
    [
        (
            CLIENT + "[dsk]\n",
            "dsk : clé inconnue ; vouliez-vous dire desk ?",
            "dsk: unknown key; did you mean desk?",
        ),
        (
            CLIENT.replace("http://127.0.0.1:1", "hub.local"),
            "hub.url : attendu : une adresse complète",
            "hub.url: expected a full address",
        ),
        (
            'language = "de"\n' + CLIENT,
            "language : doit valoir l'une de ces valeurs : 'fr' ou 'en'",
            "language: must be one of 'fr' or 'en'",
        ),
        ("retention_days = 0\n" + CLIENT, "retention_days : doit être", "retention_days: must be"),
        (
            'retention_days = "x"\n' + CLIENT,
            'retention_days : attendu : un nombre entier, pas "x"',
            'retention_days: expected a whole number, not "x"',
        ),
        (
            "retention_days = 1.5\n" + CLIENT,
            "retention_days : attendu : un nombre entier, pas 1.5",
            "retention_days: expected a whole number, not 1.5",
        ),
        (
            "hub = 1\n[desk]\nid = 'g1'\n",
            "hub : attendu : une table [nom], pas 1",
            "hub: expected a table [name], not 1",
        ),
        (
            "[desk]\nid = 'g1'\n",
            "hub : manquante (cette clé est obligatoire)",
            "hub: missing (this key is required)",
        ),
        (
            CLIENT + "[hotkeys]\nhold_ms = 'x'\n",
            'hotkeys.hold_ms : attendu : un nombre entier, pas "x"',
            'hotkeys.hold_ms: expected a whole number, not "x"',
        ),
        (
            CLIENT + "[hotkeys]\ngrab = 'x'\n",
            'hotkeys.grab : attendu : true ou false, pas "x"',
            'hotkeys.grab: expected true or false, not "x"',
        ),
        (CLIENT.replace('"g1"', '""'), "desk.id : ", "desk.id: "),
    ],
)
def test_config_toml_errors_speak_the_catalogue_in_both_languages(
    tmp_path: Path, text: str, french: str, english: str
) -> None:
    for language, expected in (("fr", french), ("en", english)):
        i18n.set_language(language)  # type: ignore[arg-type]
        message = client_error(tmp_path, text)
        assert message.startswith(expected), message
        assert "\n" not in message and not any(word in message for word in PYDANTIC_WORDS)
