"""Read article files and mark which of their text is the article, not page furniture.

Scraped pages end in comment forms, share widgets and theme credits, and carry image credits and
teasers. Those must never be indexed or quoted, so each file becomes spans of kept paragraphs over
the untouched file text: offsets stay those of the file on disk.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from ..types import Article, Span

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
                      "website uses cookies", "we use cookies", "subscribe to our newsletter", "click to share")
_FURNITURE_PHRASE = re.compile(r"\b(" + "|".join(_FURNITURE_PHRASES) + r")\b", re.IGNORECASE)
# Short lines naming a picture agency or credit are captions, not article text.
_CREDIT = re.compile(
    r"©|\bgetty images\b|\bistock\b|\bshutterstock\b|\breuters/|/\s*afp\b|^(photo|image|credit|photograph)\s*:",
    re.IGNORECASE,
)
_CREDIT_KEYS = ("©", "getty", "istock", "shutterstock", "reuters", "afp", "photo", "image", "credit")
_CREDIT_MAX_WORDS = 25
_FURNITURE_MAX_CHARS = 400
_BREADCRUMB = re.compile(r"^home\s*/(?:[^/]*/)*\s*", re.IGNORECASE)
MAX_TITLE_CHARS = 500  # a longer first line is article text, not a title (the file name stands in)
_SAMPLE_CHARS = 8_192  # how much of a file is looked at to tell text from binary
_MAX_CONTROL_SHARE = 0.05  # more control characters than this (besides whitespace) is not text


def parse_article(source: str, data: bytes) -> Article:
    """Decode one file (strict UTF-8) and find its title and body spans.

    Raises ValueError, saying why, for a file that is not an article: empty, binary, not UTF-8, or
    with no text besides its title and page furniture."""
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
    title = ""
    body: list[Span] = []
    for start, end in _lines(text):
        line = text[start:end]
        if not title and end - start <= MAX_TITLE_CHARS:
            title = _BREADCRUMB.sub("", line).strip() or line
            continue
        title = title or source  # a first line too long to be a title is text
        if _TAIL.match(line) and body:
            break
        if is_furniture(line) or line == title:
            continue
        body.append((start, end))
    if not body:
        raise ValueError("no article text besides the title and page furniture")
    return Article(source=source, title=title or source, text=text, body=tuple(body),
                   sha256=hashlib.sha256(data).hexdigest())


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


def _lines(text: str) -> Iterator[Span]:
    """Spans of the non-blank lines, stripped of surrounding whitespace (and a BOM)."""
    pos = 0
    for raw in text.splitlines(keepends=True):
        start, end = pos, pos + len(raw)
        pos = end
        while start < end and (text[start].isspace() or text[start] == "\ufeff"):
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            yield start, end
