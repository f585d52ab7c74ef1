"""MkDocs hook: read lists as GitHub does, so the pages read the same on GitHub and on the site.

The pages (moved from the README) and the files they include (bench/results.md) are written for
GitHub: a list may start right under a paragraph, and a nested list, a list item's next line or
its code block are indented from the item's text (2 spaces for "- "). Python-Markdown wants a
blank line before a list and 4 spaces per level. This preprocessor, run right after the snippets
are included, adds the blank line and re-indents each line by 2 spaces per enclosing list item;
fenced blocks are left as they are.
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

ITEM = re.compile(r"^( *)([-*+]|\d+[.)]) +\S")
FENCE = re.compile(r"^ *(```|~~~)")


def gfm_lists(lines: list[str]) -> list[str]:
    """The lines with GitHub's list layout turned into Python-Markdown's."""
    out: list[str] = []
    items: list[int] = []  # content columns of the list items that enclose the current line
    fence: str | None = None
    previous = ""
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        if fence is not None or FENCE.match(line):
            opening = FENCE.match(line)
            if opening and fence is None:
                fence = opening.group(1)
            elif opening and opening.group(1) == fence:
                fence = None
            out.append(" " * (2 * _enclosing(items, indent)) + line if line.strip() else line)
            previous = line
            continue
        item = ITEM.match(line)
        if item:
            while items and items[-1] > indent:
                items.pop()
            if not items and previous.strip() and not ITEM.match(previous):
                out.append("")  # a list right under a paragraph
            depth = len(items)
            items.append(indent + len(item.group(2)) + 1)
            out.append(" " * (2 * depth) + line)
        elif not line.strip():
            out.append(line)
        else:
            if indent == 0 and not previous.strip():
                items.clear()  # a paragraph after a blank line: the list is over
            out.append(" " * (2 * _enclosing(items, indent)) + line)
        previous = line
    return out


def _enclosing(items: list[int], indent: int) -> int:
    return sum(1 for column in items if column <= indent)


class _GfmLists(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return gfm_lists(lines)


class GfmListsExtension(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 - Python-Markdown's naming
        # after pymdownx.snippets (32), before the fenced blocks are stashed (superfences, 25)
        md.preprocessors.register(_GfmLists(md), "gfm_lists", 31)


def on_config(config: Any) -> Any:
    config.markdown_extensions.append(GfmListsExtension())
    return config
