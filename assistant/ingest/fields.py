"""The metadata fields every format gives (title, date, outlet, url, author), read and cleaned one way.

Fields are looked up under the names exports commonly use (`headline` for the title, `published` for
the date, `source` for the outlet...), so a news-please or NewsAPI dump reads as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from .dates import DateError, normalise_date

# The names a field goes by in common exports, in order of preference.
TITLE = ("title", "headline")
TEXT = ("text", "content", "body", "maintext", "article")
DATE = ("date", "published", "published_at", "publishedAt", "date_publish", "pubDate", "datePublished")
URL = ("url", "link")
OUTLET = ("outlet", "source", "source_domain", "sitename", "site_name", "site", "publisher")
AUTHOR = ("author", "authors", "byline", "creator")
ID = ("id", "_id", "guid", "uuid")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Metadata:
    """Where and when an article was published, as far as its file says."""

    date: str | None = None
    outlet: str | None = None
    url: str | None = None
    author: str | None = None


def first(fields: Mapping[str, object], names: Sequence[str]) -> object:
    """The value of the first of `names` present and not empty (None if none is)."""
    for name in names:
        value = fields.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def clean(value: object) -> str | None:
    """A field as one line of text: a list is joined ("A, B"), a mapping gives its name, controls go."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = first(value, ("name", "title", "id"))
        return clean(value)
    if isinstance(value, list | tuple):
        parts = [c for c in (clean(v) for v in value) if c]
        return ", ".join(parts) or None
    if isinstance(value, bool):
        return None
    text = _SPACE.sub(" ", _CONTROL.sub(" ", str(value))).strip()
    return text or None


def metadata(fields: Mapping[str, object], where: str, warnings: list[str] | None,
             defaults: Metadata = Metadata()) -> Metadata:
    """Date, outlet, url and author from `fields`; an unusable date is dropped with a warning naming `where`."""
    date = defaults.date
    raw = first(fields, DATE)
    if raw is not None:
        try:
            date = normalise_date(raw)
        except DateError as exc:
            warn(warnings, f"{where}: {exc}; kept without a date")
            date = None
    return Metadata(
        date=date,
        outlet=clean(first(fields, OUTLET)) or defaults.outlet,
        url=clean(first(fields, URL)) or defaults.url,
        author=clean(first(fields, AUTHOR)) or defaults.author,
    )


def warn(warnings: list[str] | None, message: str) -> None:
    """Record a warning for the index report (the caller logs the report's warnings)."""
    if warnings is not None:
        warnings.append(message)


def site_of(url: str | None) -> str | None:
    """The site of a URL without "www." ("cnn.com"): the outlet of a page or entry that names none."""
    if not url:
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # a malformed URL ("http://[x") names no site
        return None
    return host.removeprefix("www.") or None
