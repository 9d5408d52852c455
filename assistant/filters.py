"""Filters on what a question searches: a publication period and some outlets or files.

    Filter(since="2022-06-01", until="2022-06-30", sources=("cnn.com", "feeds/*.xml"))

`since` and `until` are inclusive days; `YYYY-MM` (or `YYYY`) means its first day for `since` and its last
for `until`. An article without a date is outside any date filter. A source is an outlet ("CNN", matched
without case), a site ("cnn.com", also matching www.cnn.com and edition.cnn.com through the article's
URL), or a file glob over the article's source ("feeds/*.xml", "wire.jsonl#*", "2022/06/*"). Filters are
applied before ranking: the retrievers rank only the chunks of matching articles.
"""

from __future__ import annotations

import calendar
import datetime as dt
import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import FilterError
from .ingest.dates import day_of
from .ingest.fields import site_of
from .types import Described

_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_GLOB = re.compile(r"[*?\[/#]|\.(txt|md|html?|jsonl|xml|rss|atom)$", re.IGNORECASE)

DateLike = str | dt.date | None


@dataclass(frozen=True)
class Filter:
    """What a question may search. The default (no field set) searches everything."""

    since: str | None = None  # YYYY-MM-DD, inclusive
    until: str | None = None  # YYYY-MM-DD, inclusive
    sources: tuple[str, ...] = ()  # outlets, sites or file globs; an article matching any one is in

    @property
    def active(self) -> bool:
        return bool(self.since or self.until or self.sources)

    @property
    def dated(self) -> bool:
        """Does the filter ask for a period (which leaves out every article without a date)?"""
        return bool(self.since or self.until)

    def to_dict(self) -> dict[str, Any]:
        """For JSON, history and `Assistant.ask(q, **filter.to_dict())`."""
        return {"since": self.since, "until": self.until, "sources": list(self.sources)}

    def arguments(self) -> dict[str, Any]:
        """The fields that are set, as `Assistant.ask(q, **filter.arguments())` takes them (none: no filter)."""
        return {name: value for name, value in self.to_dict().items() if value}

    def describe(self) -> str:
        """In words, for messages and the chat's filter bar: "published 2022-06-01 to 2022-06-30, from cnn.com"."""
        parts = []
        if self.since and self.until:
            parts.append(f"published {self.since} to {self.until}" if self.since != self.until
                         else f"published on {self.since}")
        elif self.since:
            parts.append(f"published since {self.since}")
        elif self.until:
            parts.append(f"published until {self.until}")
        if self.sources:
            parts.append("from " + " or ".join(self.sources))
        return ", ".join(parts) or "all articles"

    def matches(self, article: Described) -> bool:
        return self.matches_dates(article) and self.matches_sources(article)

    def matches_dates(self, article: Described) -> bool:
        if not self.dated:
            return True
        if article.date is None:
            return False
        day = day_of(article.date)
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)

    def matches_sources(self, article: Described) -> bool:
        return not self.sources or any(source_matches(pattern, article) for pattern in self.sources)


def source_matches(pattern: str, article: Described) -> bool:
    """Is the article from this outlet or site, or is its source (or its file) matched by this glob?"""
    file = article.source.split("#", 1)[0]
    if fnmatch.fnmatchcase(article.source, pattern) or fnmatch.fnmatchcase(file, pattern):
        return True
    if _GLOB.search(pattern):
        return False
    wanted = " ".join(pattern.split()).casefold()
    if article.outlet and " ".join(article.outlet.split()).casefold() == wanted:
        return True
    site = wanted.removeprefix("www.")
    host = site_of(article.url)
    return host is not None and (host.casefold() == site or host.casefold().endswith("." + site))


def parse_filter(since: DateLike = None, until: DateLike = None,
                 sources: str | Iterable[str] | None = None) -> Filter:
    """A Filter from user input. Raises FilterError, saying what to type, for a malformed date or
    a period that ends before it starts."""
    start = _day(since, "since", first=True)
    end = _day(until, "until", first=False)
    if start and end and start > end:
        raise FilterError(f"since {start} is after until {end}: no day is in that period")
    if sources is None:
        patterns: tuple[str, ...] = ()
    elif isinstance(sources, str):
        patterns = (sources.strip(),) if sources.strip() else ()
    else:
        items = list(sources)
        if any(not isinstance(s, str) for s in items):
            raise FilterError("sources must be text: outlet names, sites or file globs")
        patterns = tuple(dict.fromkeys(s.strip() for s in items if s.strip()))
    return Filter(start, end, patterns)


def _day(value: DateLike, name: str, first: bool) -> str | None:
    """A date, month or year as the first (or last) day it covers, YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise FilterError(f"{name} must be a date (YYYY-MM-DD, YYYY-MM or YYYY), not {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    try:
        if m := _DAY.match(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        if m := _MONTH.match(text):
            year, month = int(m[1]), int(m[2])
            day = 1 if first else calendar.monthrange(year, month)[1]
            return dt.date(year, month, day).isoformat()
        if m := _YEAR.match(text):
            return dt.date(int(m[1]), 1, 1).isoformat() if first else dt.date(int(m[1]), 12, 31).isoformat()
    except (ValueError, calendar.IllegalMonthError) as exc:
        raise FilterError(f"{name} {text!r} is not a date ({exc}); use YYYY-MM-DD, YYYY-MM or YYYY") from exc
    raise FilterError(f"{name} {text!r} is not a date; use YYYY-MM-DD, YYYY-MM or YYYY (e.g. 2022-06-14 or 2022-06)")
