"""Sentence splitting and window packing, with every offset pointing into the article file.

pysbd does the sentence boundaries (it keeps "U.S." and "$1.2" whole); we only map its sentences
back onto the file text and pack them into overlapping chunks small enough for the encoder.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from .config import ChunkSettings
from .types import Article, Chunk, Span

_WORD = re.compile(r"\S+")


@lru_cache(maxsize=1)
def _segmenter() -> Any:
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def split_sentences(text: str, span: Span, max_words: int) -> list[Span]:
    """Sentence spans inside `text[span]`, stripped of whitespace; over-long sentences are cut at words."""
    start, end = span
    para = text[start:end]
    spans: list[Span] = []
    cursor = 0
    for piece in _segmenter().segment(para):
        stripped = piece.strip()
        if not stripped:
            continue
        found = para.find(stripped, cursor)
        if found < 0:  # pysbd altered the text: keep the rest of the paragraph as one sentence
            spans.append((start + cursor, end))
            cursor = len(para)
            break
        spans.append((start + found, start + found + len(stripped)))
        cursor = found + len(stripped)
    tail = para[cursor:].strip()
    if tail:
        found = para.find(tail, cursor)
        spans.append((start + found, start + found + len(tail)))
    return [piece for s in spans for piece in _cut_long(text, s, max_words)]


def _cut_long(text: str, span: Span, max_words: int) -> Iterator[Span]:
    """A sentence longer than a chunk is cut into word windows, so the encoder sees all of it."""
    words = [(span[0] + m.start(), span[0] + m.end()) for m in _WORD.finditer(text[span[0] : span[1]])]
    if len(words) <= max_words:
        yield span
        return
    for i in range(0, len(words), max_words):
        window = words[i : i + max_words]
        yield window[0][0], window[-1][1]


def article_sentences(article: Article, max_words: int) -> list[Span]:
    """Every body sentence of the article, in order."""
    return [s for para in article.body for s in split_sentences(article.text, para, max_words)]


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


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
