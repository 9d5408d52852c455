"""JSONL exports (.jsonl): one article per line, `{"text": ..., "title": ..., "date": ..., ...}`.

Fields: `text` (required; also read as `content`, `body`, `maintext`), and optionally `title`
(`headline`), `date` (`published`, `published_at`, `date_publish`...), `url` (`link`), `source` or
`outlet` (a NewsAPI-style `{"name": ...}` too), `author` (a list is joined), `id`. Each record is
addressed as `file#id`, else `file#line number`. A broken line is skipped with a warning naming it and
the rest is indexed; a file in which no line is a record of this layout is skipped, naming the first
line and what it lacks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from ..types import Article
from .fields import ID, TEXT, TITLE, clean, first, metadata, warn
from .text import extracted_article

_SHOWN_KEYS = 8  # how many of a record's fields an error lists
MAX_WARNINGS = 10  # broken lines named one by one in a file; the rest are counted


def read_records(source: str, data: bytes, warnings: list[str] | None = None) -> list[Article]:
    """The articles of one JSONL file. Raises ValueError when the file holds no usable record."""
    if not data.strip():
        raise ValueError("empty file")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}); JSON Lines files are UTF-8") from exc
    articles: list[Article] = []
    names = Addresses(source)
    problems: list[tuple[int, str]] = []  # (line number, why it was skipped)
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((number, f"is not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"))
            continue
        if not isinstance(record, Mapping):
            problems.append((number, f"is a JSON {_kind(record)}, not an object with a `text` field"))
            continue
        text = first(record, TEXT)
        if not isinstance(text, str) or not text.strip():
            present = next((name for name in TEXT if name in record), None)
            if present is not None and (text is None or isinstance(text, str)):
                problems.append((number, f"has an empty `{present}` field"))  # there, but nothing in it
            else:
                keys = ", ".join(list(map(str, record))[:_SHOWN_KEYS]) or "none"
                problems.append((number, f"has no `text` field with the article (its fields: {keys})"))
            continue
        address = names.claim(clean(first(record, ID)) or str(number), f"line {number}", warnings, where)
        try:
            article = extracted_article(address, clean(first(record, TITLE)), text,
                                        metadata(record, where, warnings))
        except ValueError as exc:
            problems.append((number, f"has {exc}"))
            continue
        articles.append(article)
    if not articles:
        number, why = problems[0] if problems else (1, "holds no record")
        raise ValueError(f"line {number} {why}; each line must be a JSON object with a `text` field")
    for number, why in problems[:MAX_WARNINGS]:
        warn(warnings, f"{source} line {number}: skipped, it {why}")
    if len(problems) > MAX_WARNINGS:
        warn(warnings, f"{source}: {len(problems) - MAX_WARNINGS} more broken lines skipped")
    return articles


def _kind(value: object) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")


class Addresses:
    """Sources `file#id` for the articles of one file; an id used twice gets its position added."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.used: dict[str, str] = {}  # address -> where it was first used

    def claim(self, ident: str, position: str, warnings: list[str] | None, where: str) -> str:
        address = f"{self.source}#{ident}"
        if address in self.used:
            first_at = self.used[address]
            address = f"{self.source}#{ident}@{position.replace(' ', '')}"
            n = 2
            while address in self.used:  # only if ids are chosen to collide with these names
                address = f"{self.source}#{ident}@{position.replace(' ', '')}-{n}"
                n += 1
            warn(warnings, f"{where}: id {ident!r} is also used at {first_at}; this one is {address}")
        self.used[address] = position
        return address
