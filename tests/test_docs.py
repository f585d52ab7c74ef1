"""The documentation site builds with `mkdocs build --strict`, its generated pages match the code,
and the README's links resolve.

A broken link, a missing page or anchor, or a snippet naming a missing file fails the build
(mkdocs.yml: `strict`, `validation`); a settings field or a command-line option changed without
`python docs/generate.py` fails here too, so the reference cannot drift from the code.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None,
    reason="needs the docs extra (pip install -e '.[docs]'; the test extra brings it)",
)
MKDOCS_ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=root,
        env=MKDOCS_ENV,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def copy_of_the_sources(into: Path) -> Path:
    """What the build reads: mkdocs.yml, docs/, and the files its snippets include."""
    into.mkdir(parents=True)
    for name in ("mkdocs.yml", "config.example.toml", "README.md"):
        shutil.copy(ROOT / name, into / name)
    for name in ("docs", "bench", "deploy", "src/deskalert/data"):
        shutil.copytree(
            ROOT / name, into / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    return into


def test_the_site_builds_strict_and_fetches_nothing_from_outside(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = build(ROOT, site)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    pages = list(site.rglob("*.html"))
    assert len(pages) > 30
    outside = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(?:https?:)?//', re.I)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not outside.search(text), f"{page.relative_to(site)} loads something from outside"
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page
    # every picture is a file of the site, seen from the page's directory URL (a page's
    # <img src="../page.png"> is written for GitHub: docs/hooks/html_images.py)
    img = re.compile(r'<img\b[^>]*\bsrc="([^"]+)"', re.I)
    for page in pages:
        for src in img.findall(page.read_text(encoding="utf-8")):
            if not src.startswith("data:"):
                shown = (page.parent / src).resolve()
                assert shown.is_file(), f"{page.relative_to(site)}: no picture at {src}"
    # the agents' printable sheet, the generated references and an included bench file are there
    assert "F10" in (site / "agents" / "fiche" / "index.html").read_text(encoding="utf-8")
    assert "ack_timeout_s" in (site / "reference" / "hub-toml" / "index.html").read_text(
        encoding="utf-8"
    )
    assert "deskalert benchmarks" in (site / "developers" / "results" / "index.html").read_text(
        encoding="utf-8"
    )
    # lists as GitHub reads them (docs/hooks/gfm_lists.py): right under a paragraph, and nested
    desk = (site / "agents" / "desk" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"counter to read:</p>\s*<ul>\s*<li>", desk), "a list under a paragraph"
    replicas = (site / "admin" / "postgresql" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"killed in turn\):</p>\s*<ul>\s*<li>", replicas), "a nested list"
    assert re.search(
        r"<li>\s*<p><strong>Moving a site's history</strong>.*?</p>\s*<pre>", replicas, re.S
    ), "a code block inside a list item"


def test_a_broken_link_or_a_missing_page_fails_the_build(tmp_path: Path) -> None:
    """Why: the point of --strict in the suite; without it a dead link ships silently."""
    root = copy_of_the_sources(tmp_path / "src")
    start = root / "docs" / "start.md"
    start.write_text(
        start.read_text(encoding="utf-8") + "\n[gone](admin/no-such-page.md)\n", encoding="utf-8"
    )
    result = build(root, tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-page.md" in result.stderr

    start.write_text(
        start.read_text(encoding="utf-8").replace(
            "[gone](admin/no-such-page.md)", "[gone](guarantees.md#no-such-anchor)"
        ),
        encoding="utf-8",
    )
    result = build(root, tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-anchor" in result.stderr


@pytest.mark.parametrize("home", [None, "/home/an-ordinary-user-with-a-long-name"])
def test_the_generated_reference_pages_match_the_code(home: str | None) -> None:
    """Whoever runs it: before, the help's default paths were wrapped at their length in this
    user's home, so the check failed for any user but root (found by `make test` as one)."""
    env = {**os.environ, **({"HOME": home, "XDG_CONFIG_HOME": f"{home}/.cfg"} if home else {})}
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "generate.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr


def test_a_stale_reference_page_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "docs"))
    monkeypatch.setattr(generate, "REFERENCE", tmp_path / "docs" / "reference")
    monkeypatch.setattr(generate, "DOCS", tmp_path / "docs")
    assert generate.main([]) == 0
    page = tmp_path / "docs" / "reference" / "hub-toml.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace("ack_timeout_s", "ack_s"), encoding="utf-8"
    )
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0


def test_every_settings_key_is_described() -> None:
    """Why: the hub.toml and config.toml references are made from these descriptions."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "docs"))
    from deskalert.client.settings import ClientConfig
    from deskalert.hub.settings import HubConfig

    assert generate.undocumented(HubConfig) == []
    assert generate.undocumented(ClientConfig) == []


def test_every_link_of_the_readme_resolves() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", readme) + re.findall(r'src="([^"]+)"', readme)
    local = [t for t in targets if not t.startswith(("http://", "https://", "mailto:"))]
    assert local, "the README links to its documentation"
    for target in local:
        path = target.split("#", 1)[0]
        if path:
            assert (ROOT / path).exists(), f"README links to {target}, which does not exist"


def test_the_shape_of_hub_toml_on_the_configuration_page_has_every_key_and_no_other() -> None:
    """Why: the page's one-of-each example is written by hand; a key added to the hub (or
    renamed) must show there too, and a key the hub no longer reads must not."""
    import tomllib

    from deskalert.hub.settings import HubConfig

    page = (ROOT / "docs" / "admin" / "configuration.md").read_text(encoding="utf-8")
    shape = tomllib.loads(re.search(r"```toml\n(.*?)```", page, re.S).group(1))
    for name, field in HubConfig.model_fields.items():
        assert name in shape, f"[{name}] is missing from the shape"
        model = typing_model(field.annotation)
        section = shape[name][0] if isinstance(shape[name], list) else shape[name]
        assert set(section) <= set(model.model_fields), (
            f"[{name}]: {set(section) - set(model.model_fields)}"
        )
        if name == "hub":  # every [hub] key, with its value
            commented = re.findall(r"^# (\w+) = ", page, re.M)
            missing = set(model.model_fields) - set(section) - set(commented)
            assert not missing, f"[hub] keys missing from the shape: {missing}"


def typing_model(annotation: object) -> type:
    from typing import get_args

    from pydantic import BaseModel

    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    raise AssertionError(f"no model in {annotation}")


def test_the_readme_shows_the_desk_as_captured() -> None:
    """Why: GitHub has no include, so the README holds a copy of a capture; `make docs-captures`
    rewrites it with the others (docs/capture.py), and a copy edited by hand or left behind fails
    here."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import capture
    finally:
        sys.path.remove(str(ROOT / "docs"))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = list(capture.README_CAPTURE.finditer(readme))
    assert blocks, "the README shows the desk screen, marked <!-- capture: docs/captures/... -->"
    for block in blocks:
        captured = (ROOT / "docs" / "captures" / block[2]).read_text(encoding="utf-8")
        assert block[3] == captured.rstrip("\n") + "\n", f"README's copy of {block[2]} is stale"
