"""RSS and Atom feeds (.xml/.rss/.atom), through feedparser: each entry is one article.

An entry's text is its full content where the feed carries it (`content:encoded`, Atom `content`),
else its summary, turned from HTML into plain paragraphs. The outlet is the feed's title (else the
link's host), the date the entry's published (else updated) date. Entries are addressed `file#id`
with the entry's id or guid, else its position in the feed (1 for the first).
"""

from __future__ import annotations

import html as html_escape
from collections.abc import Mapping
from typing import Any

from ..types import Article
from .dates import DateError, normalise_date
from .fields import Metadata, clean, site_of, warn
from .html import quiet_extractors
from .records import MAX_WARNINGS, Addresses
from .text import extracted_article

_HTML_TYPES = ("text/html", "application/xhtml+xml")


def read_feed(source: str, data: bytes, warnings: list[str] | None = None) -> list[Article]:
    """The entries of one feed as articles. Raises ValueError for a file that is not a feed."""
    import feedparser

    if not data.strip():
        raise ValueError("empty file")
    parsed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
    entries = parsed.get("entries") or []
    if not entries:
        if parsed.get("bozo"):
            raise ValueError(f"not an RSS or Atom feed ({_xml_problem(parsed.get('bozo_exception'))})")
        if not parsed.get("version"):
            raise ValueError("not an RSS or Atom feed (no channel or feed element)")
        raise ValueError("a feed without entries")
    if parsed.get("bozo"):
        warn(warnings, f"{source}: the feed is not well-formed XML ({_xml_problem(parsed.get('bozo_exception'))});"
                       " read what could be parsed")
    channel = parsed.get("feed") or {}
    outlet = clean(channel.get("title")) or site_of(clean(channel.get("link")))
    names = Addresses(source)
    articles: list[Article] = []
    problems: list[str] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source} entry {number}"
        text = _entry_text(entry)
        if not text.strip():
            problems.append(f"{where}: skipped, it has no content or summary")
            continue
        address = names.claim(clean(entry.get("id")) or str(number), f"entry {number}", warnings, where)
        link = clean(entry.get("link"))
        meta = Metadata(date=_entry_date(entry, where, warnings), outlet=outlet or site_of(link), url=link,
                        author=clean(entry.get("author")))
        try:
            articles.append(extracted_article(address, clean(entry.get("title")), text, meta))
        except ValueError as exc:
            problems.append(f"{where}: skipped, it has {exc}")
    if not articles:
        raise ValueError(f"no entry has article text ({problems[0].split(': skipped, ', 1)[-1]})")
    for problem in problems[:MAX_WARNINGS]:
        warn(warnings, problem)
    if len(problems) > MAX_WARNINGS:
        warn(warnings, f"{source}: {len(problems) - MAX_WARNINGS} more entries skipped")
    return articles


def _entry_text(entry: Mapping[str, Any]) -> str:
    """The entry's full content if it has any, else its summary, as plain text."""
    for part in entry.get("content") or []:
        text = _as_text(part.get("value") or "", part.get("type") or "text/html")
        if text.strip():
            return text
    detail = entry.get("summary_detail") or {}
    return _as_text(entry.get("summary") or "", detail.get("type") or "text/html")


def _as_text(value: str, kind: str) -> str:
    """Feed content as paragraphs of text: HTML through trafilatura, plain text as it is."""
    if kind not in _HTML_TYPES:
        return value.strip()
    import trafilatura

    quiet_extractors()
    extracted = trafilatura.extract(f"<html><body><article>{value}</article></body></html>", favor_recall=True,
                                    include_comments=False, include_links=False, include_images=False)
    if extracted:
        return str(extracted)
    # Very short HTML (a one-line summary) can fall below trafilatura's size limits: unescape it instead.
    from lxml import html as lxml_html

    try:
        return str(lxml_html.fromstring(f"<div>{value}</div>").text_content()).strip()
    except Exception:  # lxml rejects some fragments outright; the plain unescaped text still reads
        return html_escape.unescape(value).strip()


def _entry_date(entry: Mapping[str, Any], where: str, warnings: list[str] | None) -> str | None:
    """The published date as the feed wrote it (its own time zone), else feedparser's reading (UTC)."""
    for raw_key, parsed_key in (("published", "published_parsed"), ("updated", "updated_parsed")):
        raw = entry.get(raw_key)
        if not raw:
            continue
        try:
            return normalise_date(raw)
        except DateError as exc:
            problem = str(exc)
        if entry.get(parsed_key):  # a format feedparser knows and we do not
            try:
                return normalise_date(entry[parsed_key])
            except DateError as exc:
                problem = str(exc)
        warn(warnings, f"{where}: {problem}; kept without a date")
        return None
    return None


def _xml_problem(exc: object) -> str:
    if exc is None:
        return "unreadable"
    message = str(getattr(exc, "getMessage", lambda: exc)())
    line = getattr(exc, "getLineNumber", lambda: None)()
    return f"XML error: {message}" + (f" at line {line}" if line else "")
