"""A small YAML front matter block at the top of a .txt/.md file (`title:`, `date:`, `url:`, `source:`).

    ---
    title: Reyes wins Fenwick primary
    date: 2022-06-14
    source: The Daily Ledger
    ---
    Tomas Reyes won ...

The block is metadata, never article text: it is left out of the body (so never indexed or quoted),
while offsets still count from the start of the file as it is on disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_CHARS = 10_000  # a front matter block is small; a longer "---" section is text (or a rule) instead
_OPEN = re.compile(r"\A\ufeff?---[ \t]*(?:\r\n|\r|\n)")
_CLOSE = re.compile(r"(?<=[\r\n])(?:---|\.\.\.)[ \t]*(?:\r\n|\r|\n|\Z)")


@dataclass(frozen=True)
class FrontMatter:
    """The fields of the block (empty if its YAML is broken) and where the article text starts."""

    fields: dict[str, Any]
    end: int  # offset just after the closing line
    problem: str = ""  # why the fields could not be read ("": they were)


def front_matter(text: str) -> FrontMatter | None:
    """The front matter at the start of `text`, or None if the file does not start with one.

    A block whose YAML does not parse is still front matter (it is delimited like one), so it is not
    indexed, and `problem` says why its fields are ignored. A block that is not a mapping of fields
    ("---" used as a rule) is not front matter."""
    opened = _OPEN.match(text)
    if opened is None:
        return None
    closing = _CLOSE.search(text, opened.end(), opened.end() + MAX_CHARS)
    if closing is None:
        return None
    end = closing.end()
    import yaml

    block = text[opened.end() : closing.start()]
    try:
        fields = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)  # where it started
        where = f" (line {mark.line + 2})" if mark is not None else ""
        return FrontMatter({}, end, f"its front matter is not valid YAML{where}; its fields are ignored")
    if fields is None:
        return FrontMatter({}, end)
    if not isinstance(fields, dict):
        return None
    return FrontMatter({str(k): v for k, v in fields.items()}, end)
