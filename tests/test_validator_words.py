"""Our own validators' refusals in the person's language (issue 23): every check of hub.toml and
config.toml that is ours, not pydantic's, says what is wrong in one line of the catalogue, in
French by default and in English on demand, with the key and the values kept verbatim.

Before, these sentences were English inside a French line ("hub : give either url = ... , not
both"): the words lists below catch an English word in the French line, and the other way round.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from deskalert import i18n
from deskalert.client.settings import load_client_config
from deskalert.errors import ConfigError
from deskalert.hub.settings import PUBLIC_URL_ENV, load_hub_config
from support.cli import run_cli
from support.roster import roster_toml

ENGLISH = (
    "give", "must", "unknown", "twice", "either", "known", "not", "is", "listed", "appears",
    "needs", "address", "path", "write", "e.g.", "least", "exactly", "once", "string", "in", "of",
)  # fmt: skip
FRENCH = (
    "indiquez", "doit", "inconnu", "connus", "deux", "fois", "figure", "plusieurs", "pas",
    "n'est", "adresse", "chemin", "par exemple", "écrivez", "demande", "une", "dans", "ou", "ni",
    "après", "touche", "touches",
)  # fmt: skip
CLIENT = '[hub]\nurl = "http://127.0.0.1:1"\n[desk]\nid = "g1"\n'
CALENDAR = '\n[[oncall_calendar]]\nsite = "accueil"\n'
KINDS = '\n[broadcasts]\n[[broadcasts.kinds]]\nid = "a"\nlabel = "A"\n'


def hub(replace: str, by: str) -> Callable[[], str]:
    def edited() -> str:
        text = roster_toml()
        assert replace in text
        return text.replace(replace, by, 1)

    return edited


def hub_plus(extra: str) -> Callable[[], str]:
    return lambda: roster_toml() + extra


def client(text: str) -> Callable[[], str]:
    return lambda: text


HUB_CASES = {
    "public_url": (
        hub("heartbeat_s = 5", 'heartbeat_s = 5\npublic_url = "hub.example.org"'),
        "hub.public_url",
    ),
    "timezone": (hub('"Europe/Paris"', '"Mars/Olympus"'), "hub.timezone"),
    "trusted_proxies": (
        hub("heartbeat_s = 5", 'heartbeat_s = 5\ntrusted_proxies = ["salle-3"]'),
        "hub.trusted_proxies",
    ),
    "site networks": (
        hub('label = "Étage"', 'label = "Étage"\nnetworks = ["10.1.2.0/33"]'),
        "sites[1].networks",
    ),
    "metrics allow": (hub_plus('\n[metrics]\nallow = ["partout"]\n'), "metrics.allow"),
    "notify env:": (
        hub('label = "Étage"', 'label = "Étage"\nnotify = ["env:1BAD"]'),
        "sites[1].notify[0]",
    ),
    "notify file:": (
        hub('label = "Étage"', 'label = "Étage"\nnotify = ["file:x.url"]'),
        "sites[1].notify[0]",
    ),
    "notify entry": (
        hub('label = "Étage"', 'label = "Étage"\nnotify = ["salle"]'),
        "sites[1].notify[0]",
    ),
    "email": (
        hub('name = "Bob Sup"\n', 'name = "Bob Sup"\nemail = "bob"\n'),
        "supervisors[1].email",
    ),
    "calendar file": (hub_plus(CALENDAR + 'file = "a.ics"\n'), "oncall_calendar[0].file"),
    "calendar url": (
        hub_plus(CALENDAR + 'url = "ftp://x.example/a.ics"\n'),
        "oncall_calendar[0].url",
    ),
    "calendar source": (hub_plus(CALENDAR), "oncall_calendar[0]"),
    "duplicate key": (hub('key = "f4"', 'key = "F2"'), "codes"),
    "unknown site": (hub('site = "etage"', 'site = "nowhere"'), "desks[2].site"),
    "unknown backup": (hub('backup = ["s.b"]', 'backup = ["s.z"]'), "oncall[0].backup"),
    "duplicate kind": (
        hub_plus(KINDS + '[[broadcasts.kinds]]\nid = "a"\nlabel = "B"\n'),
        "broadcasts.kinds",
    ),
    "unknown kind": (
        hub_plus(KINDS + '[[broadcasts.templates]]\nid = "t"\nkind = "b"\ntext = "T"\n'),
        "broadcasts.templates[0].kind",
    ),
}
CLIENT_CASES = {
    "url and urls": (client(CLIENT.replace("\n[desk]", '\nurls = ["https://b"]\n[desk]')), "hub"),
    "no url": (client('[hub]\n[desk]\nid = "g1"\n'), "hub"),
    "urls empty": (client('[hub]\nurls = []\n[desk]\nid = "g1"\n'), "urls"),
    "urls twice": (
        client('[hub]\nurls = ["https://a", "https://a/"]\n[desk]\nid = "g1"\n'),
        "https://a",
    ),
    "not a key": (client(CLIENT + '[hotkeys]\nrenfort = "<ctrl>+ +x"\n'), "'<ctrl>+ +x'"),
    "not a code": (client(CLIENT + '[hotkeys]\n"bad code" = "<f2>"\n'), "'bad code'"),
    "not a string": (client(CLIENT + "[hotkeys]\nrenfort = 3\n"), "renfort"),
    "no hotkey": (client(CLIENT + "[hotkeys]\nhold_ms = 10\n"), "renfort ="),
    "grab": (client(CLIENT + '[hotkeys]\nrenfort = "<f2>"\ngrab = true\n'), "grab = true"),
    "identity": (client('[hub]\nurl = "http://127.0.0.1:1"\n'), "[desk] id"),
}


def words_of(message: str, words: tuple[str, ...]) -> list[str]:
    """Which of `words` appear as whole words in `message`, quoted values left out."""
    text = re.sub(r"(?<!\w)'[^']*'|\"[^\"]*\"", " ", message)  # not the ' of n'est
    return [w for w in words if re.search(rf"(?<![\w.']){re.escape(w)}(?![\w'])", text)]


def refusal_line(tmp_path: Path, make: Callable[[], str], name: str) -> str:
    path = tmp_path / name
    path.write_text(make(), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        (load_hub_config if name == "hub.toml" else load_client_config)(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message, message
    return message.removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    ("make", "named", "name"),
    [pytest.param(*case, "hub.toml", id=f"hub.toml {key}") for key, case in HUB_CASES.items()]
    + [
        pytest.param(*case, "config.toml", id=f"config.toml {key}")
        for key, case in CLIENT_CASES.items()
    ],
)
def test_own_refusals_are_one_line_in_each_language(
    tmp_path: Path, make: Callable[[], str], named: str, name: str
) -> None:
    french = refusal_line(tmp_path, make, name)
    i18n.set_language("en")
    english = refusal_line(tmp_path, make, name)
    assert french != english
    for message in (french, english):
        assert named in message, message
        assert "Value error" not in message and "Input should" not in message, message
    assert words_of(french, ENGLISH) == [], french
    assert words_of(english, FRENCH) == [], english


def test_the_public_url_of_the_environment_is_refused_in_the_persons_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(roster_toml(), encoding="utf-8")
    monkeypatch.setenv(PUBLIC_URL_ENV, "hub.example.org")
    with pytest.raises(ConfigError) as caught:
        load_hub_config(path)
    assert str(caught.value) == (
        f"{PUBLIC_URL_ENV}: public_url : 'hub.example.org' n'est pas une adresse de base comme"
        " 'https://hub.example.org' ou 'https://proxy.example.org/deskalert' (http ou https,"
        " sans partie « ?… »)"
    )


def test_the_command_line_says_a_refusal_in_the_chosen_language(tmp_path: Path) -> None:
    """The language is chosen before the file is read: French by default, English with
    --language en or DESKALERT_LANG=en (the words are the catalogue's, chosen when shown)."""
    hub_toml = tmp_path / "hub.toml"
    hub_toml.write_text(HUB_CASES["email"][0](), encoding="utf-8")
    french = run_cli("hub", "--config", hub_toml, "--check")
    english = run_cli("--language", "en", "hub", "--config", hub_toml, "--check")
    assert french.returncode == english.returncode == 2
    assert french.stderr == (
        f"deskalert : {hub_toml}: supervisors[1].email : 'bob' n'est pas une adresse"
        " électronique (par exemple 'm.durand@example.org')\n"
    )
    assert english.stderr == (
        f"deskalert: {hub_toml}: supervisors[1].email: 'bob' is not an e-mail address"
        " (e.g. 'm.durand@example.org')\n"
    )
    config = tmp_path / "config.toml"
    config.write_text(CLIENT_CASES["url and urls"][0](), encoding="utf-8")
    env = {**os.environ, "DESKALERT_TOKEN": "tok-g1"}
    french = run_cli("send", "renfort", "--config", config, env=env)
    english = run_cli("send", "renfort", "--config", config, env={**env, "DESKALERT_LANG": "en"})
    assert french.returncode == english.returncode == 2
    assert french.stderr == (
        f'deskalert : {config}: hub : indiquez url = "..." ou urls = ["...", "..."], pas les deux\n'
    )
    assert english.stderr == (
        f'deskalert: {config}: hub: give either url = "..." or urls = ["...", "..."], not both\n'
    )


TOML_CASES = {
    "table twice": ("[hub]", "[hub]\n[hub]"),
    "value twice": ("heartbeat_s = 5", "heartbeat_s = 5\nheartbeat_s = 6"),
    "no closing quote": ("heartbeat_s = 5", 'heartbeat_s = "abc'),
    "no closing bracket": ("heartbeat_s = 5", "heartbeat_s = [1,"),
    "no closing brace": ("heartbeat_s = 5", "heartbeat_s = {a=1"),
    "inline key twice": ("heartbeat_s = 5", "heartbeat_s = {a=1, a=2}"),
    "backslash": ("heartbeat_s = 5", 'heartbeat_s = "a\\q"'),
    "two values": ("heartbeat_s = 5", "heartbeat_s = 5 6"),
    "bare word": ("heartbeat_s = 5", "heartbeat_s = cinq"),
    "no equals": ("heartbeat_s = 5", "heartbeat_s 5"),
    "statement": ("heartbeat_s = 5", "!x = 5"),
    "table name": ("[hub]", "[hub"),
    "an id with a space": ('id = "g1"', 'id = "g 1"'),
    "a hash": ('token_sha256 = "e14', 'token_sha256 = "x14'),
    "one of": ("[hub]", '[hub]\nlanguage = "de"'),
}


@pytest.mark.parametrize(("replace", "by"), TOML_CASES.values(), ids=TOML_CASES.keys())
def test_toml_syntax_and_pydantic_forms_are_said_in_each_language(
    tmp_path: Path, replace: str, by: str
) -> None:
    """tomllib's complaints and the forms pydantic checks (an id, a hash, one of) were English
    ("not valid TOML: Cannot overwrite a value", "'fr' or 'en'", "expected a string" for an id
    with a space): now the catalogue's, with the line and column kept."""
    french = refusal_line(tmp_path, hub(replace, by), "hub.toml")
    i18n.set_language("en")
    english = refusal_line(tmp_path, hub(replace, by), "hub.toml")
    assert words_of(french, (*ENGLISH, "or", "expected", "line", "value", "a")) == [], french
    assert words_of(english, (*FRENCH, "ligne", "valeur", "attendu")) == [], english
    assert "texte entre guillemets, pas" not in french  # an id is more than a quoted text
    line = re.search(r"ligne (\d+), colonne (\d+)", french)
    if line is not None:
        assert f"line {line[1]}, column {line[2]}" in english


def test_a_config_file_that_cannot_be_read_is_said_in_each_language(tmp_path: Path) -> None:
    binary = tmp_path / "hub.toml"
    binary.write_bytes(b"\xff\xfe")
    said = {}
    for language in ("fr", "en"):
        i18n.set_language(language)  # type: ignore[arg-type]
        for path in (tmp_path / "absent.toml", tmp_path, binary):
            with pytest.raises(ConfigError) as caught:
                load_hub_config(path)
            said[language, path.name] = str(caught.value).removeprefix(f"{path}: ")
    assert said["fr", "absent.toml"] == "fichier introuvable"
    assert said["en", "absent.toml"] == "file not found"
    assert said["fr", tmp_path.name] == "c'est un dossier, pas un fichier"
    assert said["en", "hub.toml"] == "not UTF-8 text"
    assert said["fr", "hub.toml"] == "pas du texte en UTF-8"


def test_no_token_is_said_in_each_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """What to do without a token (no keyring on this machine, or nothing stored in it) was
    English in a French command line."""
    import keyring
    import keyring.backend
    from keyring.backends.fail import Keyring as NoKeyring

    from deskalert.client.settings import TokenMissing, find_token

    class EmptyKeyring(keyring.backend.KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            raise NotImplementedError

        def delete_password(self, service: str, username: str) -> None:
            raise NotImplementedError

    monkeypatch.delenv("DESKALERT_TOKEN", raising=False)
    said = []
    previous = keyring.get_keyring()
    try:
        for language in ("fr", "en"):
            i18n.set_language(language)  # type: ignore[arg-type]
            for backend in (NoKeyring(), EmptyKeyring()):
                keyring.set_keyring(backend)
                with pytest.raises(TokenMissing) as caught:
                    find_token("g-none")
                said.append(str(caught.value))
    finally:
        keyring.set_keyring(previous)
    assert said[0].startswith("pas de jeton : ce poste n'a pas de trousseau système utilisable")
    assert said[1] == "pas de jeton pour 'g-none' : lancez `deskalert login` ou donnez" + (
        " DESKALERT_TOKEN=<jeton>"
    )
    assert said[2].startswith("no token: this machine has no usable system keyring")
    assert said[3] == "no token for 'g-none': run `deskalert login` or set DESKALERT_TOKEN=<token>"
    assert all("DESKALERT_TOKEN" in line and "\n" not in line for line in said)
