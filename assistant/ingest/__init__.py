"""Reading a corpus folder into `Article`s: which files are articles, and each format's reader.

`corpus_files` lists the files; `read_file` turns one file into its articles (a page or a .txt file is
one article, a JSONL export or a feed holds many, addressed `file#id`) or raises ValueError saying why
it is skipped; `read_corpus` does both for a whole folder. The index calls `read_file` only for files
that changed. Formats: .txt/.md (text.py, with optional YAML front matter), .html/.htm (html.py),
.jsonl (records.py), .xml/.rss/.atom (feeds.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from ..config import ARTICLE_SUFFIXES, FEED_SUFFIXES, PAGE_SUFFIXES, RECORD_SUFFIXES
from ..errors import CorpusError
from ..types import Article
from .feeds import read_feed
from .html import read_page
from .records import read_records
from .text import parse_article

__all__ = ["corpus_files", "parse_article", "read_corpus", "read_file"]

log = logging.getLogger(__name__)


def corpus_files(folder: Path) -> Iterator[Path]:
    """The article files under `folder`, sorted by path; hidden files and folders are left out."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).parts
        if any(part.startswith(".") for part in rel):
            continue
        if path.suffix.lower() in ARTICLE_SUFFIXES and (path.is_file() or path.is_symlink()):
            yield path


def _reader(suffix: str) -> Callable[[str, bytes, list[str] | None], list[Article]]:
    """The reader of a file suffix: each takes (source, bytes, warnings) and returns the file's articles."""
    if suffix in PAGE_SUFFIXES:
        return lambda source, data, warnings: [read_page(source, data, warnings)]
    if suffix in RECORD_SUFFIXES:
        return read_records
    if suffix in FEED_SUFFIXES:
        return read_feed
    return lambda source, data, warnings: [parse_article(source, data, warnings)]


def read_file(folder: Path, path: Path, warnings: list[str] | None = None) -> list[Article]:
    """The articles of one file. Raises OSError or ValueError (the reason to show) for a file that is
    skipped: unreadable, a symbolic link, or not an article of its format. What is read but not all
    usable (a broken line of an export, a date that is not one) is added to `warnings`, each message
    naming the file and, where there is one, the line or entry."""
    source = path.relative_to(folder).as_posix()
    if path.is_symlink():
        raise ValueError("a symbolic link (not followed)")
    return _reader(path.suffix.lower())(source, path.read_bytes(), warnings)


def read_corpus(folder: Path) -> tuple[list[Article], list[str]]:
    """All readable articles under `folder`, sorted by name, and a warning for each file skipped
    (and for each record skipped or metadata value dropped inside a file that is read)."""
    if not folder.exists():
        raise CorpusError(f"corpus folder not found: {folder}")
    if not folder.is_dir():
        raise CorpusError(f"corpus is not a folder: {folder}")
    articles: list[Article] = []
    skipped: list[str] = []
    for path in corpus_files(folder):
        source = path.relative_to(folder).as_posix()
        notes: list[str] = []
        try:
            articles.extend(read_file(folder, path, notes))
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            notes.append(f"{source}: skipped, {reason}")
        for note in notes:
            log.warning("%s", note)
        skipped.extend(notes)
    if not articles:
        detail = f" ({len(skipped)} skipped: {'; '.join(skipped[:3])})" if skipped else ""
        raise CorpusError(f"no readable article ({', '.join(ARTICLE_SUFFIXES)} files) in {folder}{detail}")
    return articles, skipped
