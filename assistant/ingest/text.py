"""Read .txt/.md article files and mark which of their text is the article, not page furniture.

Scraped pages end in comment forms, share widgets and theme credits, and carry image credits and
teasers. Those must never be indexed or quoted, so each file becomes spans of kept paragraphs over
the untouched file text: offsets stay those of the file on disk. A YAML front matter block at the top
(frontmatter.py) gives the title and metadata and is left out of the body the same way.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from ..types import Article, Span
from .fields import Metadata, clean, metadata, warn
from .frontmatter import front_matter

# A line that is exactly one of these ends the article: what follows is comments, widgets, teasers.
_TAIL = re.compile(
    r"^(leave a (reply|comment|response)|like it\? share with your friends!?|what'?s your reaction\??"
    r"|check also|related (posts|articles|stories)|you (may|might) also like|share this:?|post navigation"
    r"|be the first to comment\b.*|you can leave a response\b.*|source article from\b.*"
    r"|your email address will not be published\b.*|comments?|\d+ comments?)$",
    re.IGNORECASE,
)
# A line matching one of these is dropped wherever it stands, and so is a line with one of the phrases.
_FURNITURE = re.compile(
    r"^(read more\W*|image result for\b.*|advertisement|sponsored|continue reading\W*"
    r"|share on (facebook|twitter|whatsapp)\b.*|home\s*/.*)$",
    re.IGNORECASE,
)
_FURNITURE_PHRASES = ("powered by wordpress", "all rights reserved", "required fields are marked",
                      "website uses cookies", "we use cookies", "subscribe to our newsletter", "click to share",
                      "may not be published, broadcast, rewritten or redistributed")
_FURNITURE_PHRASE = re.compile(r"\b(" + "|".join(_FURNITURE_PHRASES) + r")\b", re.IGNORECASE)
# Short lines naming a picture agency or credit are captions, not article text.
_CREDIT = re.compile(
    r"©|\bgetty images\b|\bistock\b|\bshutterstock\b|\breuters/|/\s*afp\b|^(photo|image|credit|photograph)\s*:",
    re.IGNORECASE,
)
_CREDIT_KEYS = ("©", "getty", "istock", "shutterstock", "reuters", "afp", "photo", "image", "credit")
_CREDIT_MAX_WORDS = 25
_FURNITURE_MAX_CHARS = 400
_HEADING = re.compile(r"^#{1,6}\s+")
_BREADCRUMB = re.compile(r"^home\s*/(?:[^/]*/)*\s*", re.IGNORECASE)
MAX_TITLE_CHARS = 500  # a longer first line is article text, not a title (the file name stands in)
SHORT_TITLE_WORDS = 12  # an extracted article without a title is shown by its first words
_SAMPLE_CHARS = 8_192  # how much of a file is looked at to tell text from binary
_MAX_CONTROL_SHARE = 0.05  # more control characters than this (besides whitespace) is not text
_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_article(source: str, data: bytes, warnings: list[str] | None = None) -> Article:
    """Decode one file (strict UTF-8) and find its title, body spans and front matter metadata.

    Raises ValueError, saying why, for a file that is not an article: empty, binary, not UTF-8, or
    with no text besides its title and page furniture. Metadata that cannot be used (a date that is
    not one) is dropped with a message added to `warnings`."""
    if not data.strip():
        raise ValueError("empty file")
    if b"\x00" in data:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8 to index it") from exc
    sample = text[:_SAMPLE_CHARS]
    if sum(ch < " " and not ch.isspace() for ch in sample) > _MAX_CONTROL_SHARE * len(sample):
        raise ValueError("binary file (mostly control characters)")
    matter = front_matter(text)
    meta, begin, title = Metadata(), 0, ""
    if matter is not None:
        if matter.problem:
            warn(warnings, f"{source}: {matter.problem}")
        meta, begin = metadata(matter.fields, source, warnings), matter.end
        title = clean(matter.fields.get("title")) or ""
    body: list[Span] = []
    markdown = source.lower().endswith(".md")
    for start, end in lines(text, begin):
        line = text[start:end]
        heading = _HEADING.sub("", line) if markdown else line  # "# Title" is the title in Markdown
        if not title and end - start <= MAX_TITLE_CHARS:
            title = _BREADCRUMB.sub("", heading).strip() or line
            continue
        title = title or source  # a first line too long to be a title is text
        if _TAIL.match(line) and body:
            break
        if is_furniture(line) or line == title or heading == title:
            continue
        body.append((start, end))
    if not body:
        raise ValueError("no article text besides the title and page furniture")
    return Article(source=source, title=title or source, text=text, body=tuple(body),
                   sha256=hashlib.sha256(data).hexdigest(), date=meta.date, outlet=meta.outlet, url=meta.url,
                   author=meta.author)


def extracted_article(source: str, title: str | None, text: str, meta: Metadata) -> Article:
    """An Article over extracted `text` (kept as it is, but for lone surrogates, which are no text: citations
    quote it). Raises ValueError if no line of it is article text (all furniture, or only the title)."""
    text = _SURROGATE.sub("\ufffd", text)
    title = clean(title)
    if title and len(title) > MAX_TITLE_CHARS:
        title = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"
    body: list[Span] = []
    for start, end in lines(text):
        line = text[start:end]
        if _TAIL.match(line) and body:
            break
        if is_furniture(line) or (title is not None and clean(line) == title):
            continue
        body.append((start, end))
    if not body:
        raise ValueError("no article text besides the title and page furniture")
    if not title:
        words = text[body[0][0] : body[0][1]].split()
        title = " ".join(words[:SHORT_TITLE_WORDS]) + ("…" if len(words) > SHORT_TITLE_WORDS else "")
    digest = hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()
    return Article(source=source, title=title, text=text, body=tuple(body), sha256=digest,
                   date=meta.date, outlet=meta.outlet, url=meta.url, author=meta.author)


def is_furniture(line: str) -> bool:
    """True for a line that is page furniture (credits, widgets, cookie notices), never article text.

    Furniture is short: a long paragraph that happens to mention cookies is article text."""
    if len(line) > _FURNITURE_MAX_CHARS:
        return False
    if _FURNITURE.match(line) or _TAIL.match(line):
        return True
    lower = line.lower()  # `in` first: the word-bounded regex is slow on every line of a large file
    if any(phrase in lower for phrase in _FURNITURE_PHRASES) and _FURNITURE_PHRASE.search(line):
        return True
    return (any(key in lower for key in _CREDIT_KEYS) and len(line.split()) <= _CREDIT_MAX_WORDS
            and bool(_CREDIT.search(line)))


def lines(text: str, begin: int = 0) -> Iterator[Span]:
    """Spans of the non-blank lines of `text[begin:]`, stripped of surrounding whitespace (and a BOM)."""
    pos = begin
    for raw in text[begin:].splitlines(keepends=True):
        start, end = pos, pos + len(raw)
        pos = end
        while start < end and (text[start].isspace() or text[start] == "\ufeff"):
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            yield start, end
