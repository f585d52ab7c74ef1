"""MkDocs hook: an `<img src="../page.png">` written in a page's HTML points at the same file on
the site as on GitHub.

The pages show their pictures with HTML (`<img ... width="300">`: GitHub has no Markdown for a
picture's width), and MkDocs rewrites only Markdown's links to the site's directory URLs: a
page `agents/phone.md` is served as `agents/phone/`, where `../agent-phone.png` would point at
`agents/agent-phone.png`, which does not exist. This hook resolves each relative `src` of an
`<img>` from the page's source file, as GitHub does, and writes it relative to the page's URL.
A picture that is not a file of the site fails the build (strict), as a broken link does.
"""

from __future__ import annotations

import logging
import posixpath
import re
from typing import Any

from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

log = logging.getLogger("mkdocs.plugins.html_images")
IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')


def site_src(src: str, page: Page, files: Files) -> str | None:
    """The `src` relative to the page's URL, or None when it names no file of the site."""
    if re.match(r"^([a-z][a-z0-9+.-]*:|/|#)", src, re.IGNORECASE):
        return src  # an address, or absolute: left as it is
    source_dir = posixpath.dirname(page.file.src_uri)
    target = files.get_file_from_path(posixpath.normpath(posixpath.join(source_dir, src)))
    if target is None:
        return None
    return get_relative_url(target.url, page.url)


def on_page_content(html: str, page: Page, config: Any, files: Files) -> str:
    def rewrite(match: re.Match[str]) -> str:
        src = site_src(match.group(2), page, files)
        if src is None:
            log.warning(
                "%s: the picture %s is not a file of the site", page.file.src_uri, match.group(2)
            )
            return match.group(0)
        return match.group(1) + src + match.group(3)

    return IMG_SRC.sub(rewrite, html)
