"""The lock files (`make lock`) and pyproject.toml cannot drift: every requirement of pyproject is
pinned exactly, and every pin appears in its lock at the same version; the two locks agree on
every package they share; the runtime lock holds for every platform a desk runs on (Windows
included), not only for the machine that wrote it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = ROOT / "requirements" / "hub-desk.lock"
DEV_LOCK = ROOT / "requirements" / "dev.lock"
WINDOWS = {
    "sys_platform": "win32",
    "platform_system": "Windows",
    "os_name": "nt",
    "python_version": "3.11",
    "python_full_version": "3.11.9",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
}


def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def requirements(group: str | None) -> list[Requirement]:
    """A group's requirements, less the project's own extras it names (`deskalert[docs]`)."""
    table = project()
    lines = table["dependencies"] if group is None else table["optional-dependencies"][group]
    return [r for r in map(Requirement, lines) if r.name != table["name"]]


def extras() -> list[str]:
    return sorted(project()["optional-dependencies"])


def locked(path: Path) -> dict[str, tuple[str, Marker | None]]:
    """name -> (version, marker) of every pin of a lock written by `uv pip compile`."""
    pins: dict[str, tuple[str, Marker | None]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line[0] in "# -":
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {line!r} is not an exact pin"
        pins[canonicalize_name(requirement.name)] = (specifier.version, requirement.marker)
    return pins


def pinned_version(requirement: Requirement) -> str:
    specifiers = list(requirement.specifier)
    assert len(specifiers) == 1 and specifiers[0].operator == "==", (
        f"pyproject.toml: {requirement} is not pinned exactly (==)"
    )
    return specifiers[0].version


def drift(group_requirements: list[Requirement], lock: Path) -> list[str]:
    pins = locked(lock)
    wrong = []
    for requirement in group_requirements:
        name = canonicalize_name(requirement.name)
        version = pinned_version(requirement)
        got = pins.get(name, ("missing", None))[0]
        if got != version:
            wrong.append(f"{requirement.name}: pyproject {version}, {lock.name} {got}")
    return wrong


def test_every_runtime_pin_of_pyproject_is_in_the_runtime_lock_at_its_version() -> None:
    assert drift(requirements(None), RUNTIME_LOCK) == [], "run `make lock`"


def test_every_pin_of_pyproject_and_its_extras_is_in_the_dev_lock_at_its_version() -> None:
    everything = requirements(None) + [r for group in extras() for r in requirements(group)]
    assert {"test", "dev", "bench"} <= set(extras())
    assert drift(everything, DEV_LOCK) == [], "run `make lock`"


def test_the_two_locks_agree_on_every_package_they_share() -> None:
    runtime, dev = locked(RUNTIME_LOCK), locked(DEV_LOCK)
    assert runtime.keys() <= dev.keys()
    assert {n: v for n, (v, _) in runtime.items() if dev[n][0] != v} == {}


def test_the_runtime_lock_holds_for_windows_desks_as_well_as_linux_hubs() -> None:
    """Written on Linux, a lock without markers would ask Windows for uvloop and evdev (which do
    not install there) and leave out what keyring needs there."""
    pins = locked(RUNTIME_LOCK)

    def on_windows(name: str) -> bool:
        marker = pins[name][1]
        return marker is None or marker.evaluate(WINDOWS)

    assert not on_windows("uvloop") and not on_windows("evdev") and not on_windows("python-xlib")
    assert on_windows("pywin32-ctypes") and on_windows("textual") and on_windows("keyring")
    assert {"uvloop", "evdev", "python-xlib", "jeepney"} <= pins.keys()
