"""Fuzzed hub.toml and config.toml: whatever is in the file, one clear line and exit 2, or it runs.

Each example starts from the shipped example file, parsed, then mutated (a key removed, a value
replaced by any TOML value, an unknown key added), written back with tomli-w; and raw text
too. The command runs in this process, so an exception that escapes `main` fails the test,
exactly as it would print a traceback to the person at the terminal.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.cli import run_cli
from support.examples import examples

ROOT = Path(__file__).resolve().parents[1]
HUB_EXAMPLE = tomllib.loads((ROOT / "hub.example.toml").read_text(encoding="utf-8"))
DESK_EXAMPLE = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
FUZZ = settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    st.text(max_size=40),
    st.datetimes(),
    st.dates(),
    st.times(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=10), inner, max_size=4),
    ),
    max_leaves=8,
)


def places(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a parsed TOML document (tables, arrays of tables, values)."""
    found = [path] if path else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += places(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found += places(value, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, example: dict[str, Any]) -> str:
    doc = copy.deepcopy(example)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        where = places(doc)
        path = draw(st.sampled_from(where))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(values)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(values)
        if not places(doc):
            break
    return tomli_w.dumps(doc)


def run(argv: list[str]) -> tuple[int, str]:
    done = run_cli(*argv)
    return done.code, done.err


def assert_clear(code: int, err: str, path: Path, allowed: set[int]) -> None:
    assert code in allowed, (code, err)
    if code != 0:
        assert err.startswith("deskalert : "), err
        assert err.count("\n") == 1, f"one line, not:\n{err}"
        assert "Traceback" not in err


@FUZZ
@given(text=mutated(HUB_EXAMPLE))
def test_fuzzed_hub_toml_gives_one_line_and_exit_2(text: str, tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8")
    code, err = run(["hub", "--config", str(path), "--check"])
    assert_clear(code, err, path, {0, 2})
    if code == 2:
        assert str(path) in err, "the line names the file"


@FUZZ
@given(
    text=st.one_of(
        st.text(max_size=200), st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
    )
)
def test_any_text_as_hub_toml_gives_one_line(text: str, tmp_path: Path) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    code, err = run(["hub", "--config", str(path), "--check"])
    assert_clear(code, err, path, {2})


@FUZZ
@given(text=st.one_of(mutated(DESK_EXAMPLE), st.text(max_size=200)))
def test_fuzzed_config_toml_gives_one_line(
    text: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `deskalert purge` reads config.toml and the desk's journal, and nothing from the network.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("DESKALERT_TOKEN", "tok-fuzz")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    code, err = run(["purge", "--config", str(path)])
    assert_clear(code, err, path, {0, 2})
