"""Saved web pages (.html/.htm): the article's main text and metadata, through trafilatura.

trafilatura finds the main text and leaves out navigation, comments, related links, cookie banners
and ads; it reads the title, author, site name, canonical URL and date (htmldate) from the page's
metadata. The text it extracts is the article's `text`, which the index keeps and citations quote.

Two things are done before it: the bytes are decoded as the page says (a BOM, else valid UTF-8, else
the charset its <meta> declares, else a guess), and scripts, styles, inline SVG and embedded `data:`
images are cut out, so a 20 MB "complete" saved page costs what its text costs.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ..types import Article
from .dates import DateError, normalise_date
from .fields import Metadata, clean, site_of, warn
from .text import extracted_article

log = logging.getLogger(__name__)

_NO_STORY = "no article text in the page (only navigation, links or page furniture)"
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
# A story has a sentence: a page whose every kept line is shorter than this is link labels (a menu, "Home").
MIN_LINE_WORDS = 6
LARGE_PAGE_CHARS = 2_000_000  # markup beyond this (after scripts and images go) skips trafilatura's fallbacks
_DECLARED_WINDOW = 8_192  # the charset declaration must come early in the page (the HTML spec: 1,024 bytes)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_HEAVY = re.compile(
    r"<(script|style|svg|noscript|template)\b[^>]*>.*?</\1\s*>|<!--.*?-->"
    r"|(?<=[\"'(])data:[^\"')]{512,}",
    re.IGNORECASE | re.DOTALL,
)
# Dates: structured metadata and the URL only. htmldate's extensive search also reads copyright
# lines and years in the text ("© 2022" becomes 2022-01-01), which is worse than no date.
_DATE_PARAMS = {"extensive_search": False, "original_date": True, "max_date": "9999-12-31"}


def decode_page(data: bytes) -> str:
    """The page as text: its BOM, else UTF-8 if it is valid UTF-8, else its declared charset, else a guess.

    Valid UTF-8 goes first because browsers save pages as UTF-8 while keeping the original declaration."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.search(data[:_DECLARED_WINDOW])
    if declared is not None:
        try:
            return data.decode(declared.group(1).decode("ascii").lower(), errors="replace")
        except (LookupError, UnicodeDecodeError):
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    encoding = best.encoding if best is not None else "utf-8"
    return data.decode(encoding, errors="replace")


def strip_heavy(html: str) -> str:
    """The page without scripts, styles, inline SVG, comments and long `data:` URIs (never article text)."""
    return _HEAVY.sub("", html)


def read_page(source: str, data: bytes, warnings: list[str] | None = None) -> Article:
    """One web page as an article. Raises ValueError for a page without article text."""
    if not data.strip():
        raise ValueError("empty file")
    if b"\x00" in data[:_DECLARED_WINDOW] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("binary file (contains NUL bytes)")
    html = strip_heavy(decode_page(data))
    doc = _extract(html) or {}
    text = str(doc.get("text") or "").strip("\n")
    if not text.strip():
        raise ValueError(_NO_STORY)
    url = clean(doc.get("url"))
    date = _date(doc.get("date"), html, url, source, warnings)
    outlet = clean(doc.get("sitename")) or site_of(url)
    meta = Metadata(date=date, outlet=outlet, url=url, author=clean(doc.get("author")))
    article = extracted_article(source, clean(doc.get("title")), text, meta)
    if max(len(article.text[s:e].split()) for s, e in article.body) < MIN_LINE_WORDS:
        raise ValueError(_NO_STORY)
    return article


def _extract(html: str) -> dict[str, Any] | None:
    """trafilatura's main text and metadata. Its fallback extractors (readability, jusText) re-read the
    whole page; on a very large page the main extractor alone is used, which is about 1.6x faster."""
    import trafilatura

    quiet_extractors()
    doc = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_images=False, include_links=False,
        include_tables=True, favor_precision=True, date_extraction_params=_DATE_PARAMS,
        fast=len(html) > LARGE_PAGE_CHARS,
    )
    if doc is None:
        return None
    return doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)


def quiet_extractors() -> None:
    """trafilatura and htmldate log "discarding data: None" and the like for every page (or feed entry)
    without a story; the reader's own warning names the file instead. A level set by the user is left alone."""
    for name in ("trafilatura", "htmldate"):
        library = logging.getLogger(name)
        if library.level == logging.NOTSET:
            library.setLevel(logging.CRITICAL)


def _date(found: object, html: str, url: str | None, source: str, warnings: list[str] | None) -> str | None:
    """The page's date as trafilatura found it, else htmldate's (metadata and URL only), normalised."""
    if not found:
        from htmldate import find_date

        try:
            found = find_date(html, url=url, **_DATE_PARAMS)  # type: ignore[arg-type]
        except Exception as exc:  # htmldate raises on odd markup; the page is still an article
            log.debug("%s: htmldate failed: %s", source, exc)
            found = None
    try:
        return normalise_date(found)
    except DateError as exc:
        warn(warnings, f"{source}: {exc}; kept without a date")
        return None
