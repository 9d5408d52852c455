"""Read article files and mark which of their text is the article, not page furniture.

Scraped pages end in comment forms, share widgets and theme credits, and carry image credits and
teasers. Those must never be indexed or quoted, so each file becomes spans of kept paragraphs over
the untouched file text: offsets stay those of the file on disk.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from .config import ARTICLE_SUFFIXES
from .errors import CorpusError
from .types import Article, Span

log = logging.getLogger(__name__)

# A line that is exactly one of these ends the article: what follows is comments, widgets, teasers.
_TAIL = re.compile(
    r"^(leave a (reply|comment|response)|like it\? share with your friends!?|what'?s your reaction\??"
    r"|check also|related (posts|articles|stories)|you (may|might) also like|share this:?|post navigation"
    r"|be the first to comment\b.*|you can leave a response\b.*|source article from\b.*"
    r"|your email address will not be published\b.*|comments?|\d+ comments?)$",
    re.IGNORECASE,
)
# A line matching one of these is dropped wherever it stands.
_FURNITURE = re.compile(
    r"^(read more\W*|image result for\b.*|advertisement|sponsored|continue reading\W*"
    r"|.*\bpowered by wordpress\b.*|.*\ball rights reserved\b.*|.*\brequired fields are marked\b.*"
    r"|.*\bwebsite uses cookies\b.*|.*\bwe use cookies\b.*|.*\bsubscribe to our newsletter\b.*"
    r"|.*\bclick to share\b.*|share on (facebook|twitter|whatsapp)\b.*|home\s*/.*)$",
    re.IGNORECASE,
)
# Short lines naming a picture agency or credit are captions, not article text.
_CREDIT = re.compile(
    r"©|\bgetty images\b|\bistock\b|\bshutterstock\b|\breuters/|/\s*afp\b|^(photo|image|credit|photograph)\s*:",
    re.IGNORECASE,
)
_CREDIT_MAX_WORDS = 25
_BREADCRUMB = re.compile(r"^home\s*/(?:[^/]*/)*\s*", re.IGNORECASE)


def read_corpus(folder: Path) -> tuple[list[Article], list[str]]:
    """All readable articles under `folder`, sorted by name, and a warning for each file skipped."""
    if not folder.exists():
        raise CorpusError(f"corpus folder not found: {folder}")
    if not folder.is_dir():
        raise CorpusError(f"corpus is not a folder: {folder}")
    articles: list[Article] = []
    skipped: list[str] = []
    for path in _article_files(folder):
        source = path.relative_to(folder).as_posix()
        try:
            if path.is_symlink():
                raise ValueError("a symbolic link (not followed)")
            data = path.read_bytes()
            articles.append(parse_article(source, data))
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            skipped.append(f"{source}: skipped, {reason}")
            log.warning("%s: skipped, %s", source, reason)
    if not articles:
        detail = f" ({len(skipped)} skipped: {'; '.join(skipped[:3])})" if skipped else ""
        raise CorpusError(f"no readable .txt or .md article in {folder}{detail}")
    return articles, skipped


def _article_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).parts
        if any(part.startswith(".") for part in rel):
            continue
        if path.suffix.lower() in ARTICLE_SUFFIXES and (path.is_file() or path.is_symlink()):
            yield path


def parse_article(source: str, data: bytes) -> Article:
    """Decode one file (strict UTF-8) and find its title and body spans."""
    if b"\x00" in data:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from exc
    lines = list(_lines(text))
    title = ""
    body: list[Span] = []
    for start, end in lines:
        line = text[start:end]
        if not title:
            title = _BREADCRUMB.sub("", line).strip() or line
            continue
        if _TAIL.match(line) and body:
            break
        if is_furniture(line) or line == title:
            continue
        body.append((start, end))
    return Article(source=source, title=title or source, text=text, body=tuple(body),
                   sha256=hashlib.sha256(data).hexdigest())


def is_furniture(line: str) -> bool:
    """True for a line that is page furniture (credits, widgets, cookie notices), never article text."""
    if _FURNITURE.match(line) or _TAIL.match(line):
        return True
    return bool(_CREDIT.search(line)) and len(line.split()) <= _CREDIT_MAX_WORDS


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
