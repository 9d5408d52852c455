"""Sentence splitting and window packing, with every offset pointing into the article file.

pysbd does the sentence boundaries (it keeps "U.S." and "$1.2" whole); we only take its boundaries
and map them back onto the file text, so no character between two sentences is ever lost, then pack
the sentences into overlapping chunks small enough for the encoder.

pysbd's time grows with the square of its input (about 140 KB/s on short paragraphs, 5 KB/s on a
190 KB one), so long paragraphs are cut at likely sentence ends before it sees them, and an article
too large for pysbd to finish in seconds is split at sentence punctuation alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from .config import ChunkSettings
from .types import Article, Chunk, Span

_WORD = re.compile(r"\S+")
# A likely sentence end: terminal punctuation, closing quotes or brackets, then space.
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*(?=\s)")
PYSBD_WINDOW = 3_000  # characters pysbd reads at once; longer paragraphs are cut before it
PYSBD_ARTICLE_LIMIT = 500_000  # body characters (~4 s of pysbd); a larger article is split by punctuation


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _pysbd_sentences(text: str) -> list[str]:
    """pysbd's sentences of `text`. Its processor is fresh per call, so this is safe from many threads
    (Segmenter.segment keeps the text on the shared segmenter, and drops sentences it cannot re-find)."""
    return list(_segmenter().processor(text).process())


def split_sentences(text: str, span: Span, max_words: int, fast: bool = False) -> list[Span]:
    """Sentence spans covering `text[span]`, stripped of whitespace; over-long sentences are cut at words.

    `fast` splits at sentence punctuation only, for articles too large for pysbd."""
    start, end = span
    ends = _punctuation_ends(text, start, end) if fast else _pysbd_ends(text, start, end)
    spans: list[Span] = []
    prev = start
    for cut in ends:
        stripped = _strip(text, prev, cut)
        if stripped is not None:
            spans.append(stripped)
        prev = cut
    return [piece for s in spans for piece in _cut_long(text, s, max_words)]


def _strip(text: str, start: int, end: int) -> Span | None:
    """`(start, end)` without surrounding whitespace, or None if nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _pysbd_ends(text: str, start: int, end: int) -> list[int]:
    """Sentence end offsets by pysbd, window by window; the last one is always `end`."""
    ends: list[int] = []
    for lo, hi in _windows(text, start, end):
        piece = text[lo:hi]
        try:
            sentences = _pysbd_sentences(piece)
        except Exception:  # pysbd fails on some odd inputs: punctuation still gives the boundaries
            ends.extend(_punctuation_ends(text, lo, hi))
            continue
        cursor = 0
        for sentence in sentences:
            stripped = sentence.strip()
            found = piece.find(stripped, cursor) if stripped else -1
            if found < 0:  # pysbd altered the text: the rest of the window is one sentence
                break
            cursor = found + len(stripped)
            ends.append(lo + cursor)
        ends.append(hi)
    return ends


def _punctuation_ends(text: str, start: int, end: int) -> list[int]:
    """Sentence end offsets at terminal punctuation followed by space; the last one is always `end`."""
    return [m.end() for m in _SENTENCE_END.finditer(text, start, end)] + [end]


def _windows(text: str, start: int, end: int) -> Iterator[Span]:
    """Consecutive pieces of at most PYSBD_WINDOW characters, cut at the last likely sentence end in
    the second half, else at a space, else anywhere (a 'word' of thousands of characters)."""
    lo = start
    while end - lo > PYSBD_WINDOW:
        limit = lo + PYSBD_WINDOW
        cut = 0
        for m in _SENTENCE_END.finditer(text, lo + PYSBD_WINDOW // 2, limit):
            cut = m.end()
        if not cut:
            cut = max(text.rfind(" ", lo + 1, limit), text.rfind("\n", lo + 1, limit))
        if cut <= lo:
            cut = limit
        yield lo, cut
        lo = cut
    yield lo, end


def _cut_long(text: str, span: Span, max_words: int) -> Iterator[Span]:
    """A sentence longer than a chunk is cut into word windows, so the encoder sees all of it."""
    if word_count(text[span[0] : span[1]]) <= max_words:
        yield span
        return
    words = [m.span() for m in _WORD.finditer(text, span[0], span[1])]
    for i in range(0, len(words), max_words):
        window = words[i : i + max_words]
        yield window[0][0], window[-1][1]


def article_sentences(article: Article, max_words: int) -> list[Span]:
    """Every body sentence of the article, in order; a huge article is split by punctuation alone."""
    fast = sum(e - s for s, e in article.body) > PYSBD_ARTICLE_LIMIT
    return [s for para in article.body for s in split_sentences(article.text, para, max_words, fast)]


def word_count(text: str) -> int:
    """Words as `_WORD` finds them (str.split() splits at the same whitespace, and is faster)."""
    return len(text.split())


def chunk_article(article: Article, settings: ChunkSettings, first_id: int) -> list[Chunk]:
    """Pack consecutive sentences into chunks of at most `max_words`, overlapping by whole sentences."""
    sentences = article_sentences(article, settings.max_words)
    lengths = [word_count(article.text[s:e]) for s, e in sentences]
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j, words = i, 0
        while j < len(sentences) and (j == i or words + lengths[j] <= settings.max_words):
            words += lengths[j]
            j += 1
        group = tuple(sentences[i:j])
        chunks.append(
            Chunk(
                id=first_id + len(chunks),
                source=article.source,
                title=article.title,
                start=group[0][0],
                end=group[-1][1],
                sentences=group,
                text=" ".join(article.text[s:e] for s, e in group),
            )
        )
        if j >= len(sentences):
            break
        i = max(i + 1, j - settings.overlap_sentences)
    return chunks


def chunk_articles(articles: Iterable[Article], settings: ChunkSettings) -> list[Chunk]:
    chunks: list[Chunk] = []
    for article in articles:
        chunks.extend(chunk_article(article, settings, len(chunks)))
    return chunks
