"""Bring an index folder up to date with its corpus, embedding only articles that are new or changed."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from . import store
from .chunking import chunk_article
from .config import Settings
from .encoder import Encoder
from .errors import IndexStoreError
from .ingest import read_corpus
from .lexical import TOKENIZER_VERSION, tokenize
from .store import ArticleEntry, StoredIndex
from .types import Article, Chunk, IndexReport

log = logging.getLogger(__name__)


def identity(settings: Settings) -> dict[str, Any]:
    """What must match for a stored index to be used: the chunking and the tokenizer."""
    return settings.index_identity() | {"tokenizer": TOKENIZER_VERSION}


def open_index(
    corpus: Path, folder: Path, settings: Settings, encoder: Encoder, progress: bool = False
) -> tuple[StoredIndex, dict[str, Article], IndexReport]:
    """Load the index at `folder`, updating it first if the corpus or the settings changed."""
    articles, skipped = read_corpus(corpus)
    by_source = {a.source: a for a in articles}
    old, rebuilt = _load_usable(folder, settings, encoder)
    if old is not None and _current(old, articles):
        return old, by_source, IndexReport(len(articles), len(old.chunks), 0, len(articles), tuple(skipped), False)
    with store.build_lock(folder):
        fresh, _ = _load_usable(folder, settings, encoder)  # another process may have just finished
        if fresh is not None and _current(fresh, articles):
            return fresh, by_source, IndexReport(len(articles), len(fresh.chunks), 0, len(articles), tuple(skipped), False)
        index, encoded, reused = build(articles, fresh, settings, encoder, progress)
        store.save(folder, index)
    report = IndexReport(len(articles), len(index.chunks), encoded, reused, tuple(skipped), rebuilt)
    return index, by_source, report


def _load_usable(folder: Path, settings: Settings, encoder: Encoder) -> tuple[StoredIndex | None, bool]:
    """The stored index if it is whole and was built the way we would build it; else None (rebuild)."""
    if not (folder / store.MANIFEST).exists():
        return None, False
    try:
        index = store.load(folder)
    except IndexStoreError as exc:
        log.warning("%s; rebuilding it from the articles", exc)
        return None, True
    if index.model != encoder.model_id or index.identity != identity(settings):
        log.warning("index at %s was built with another model or settings; rebuilding it", folder)
        return None, True
    return index, False


def _current(index: StoredIndex, articles: list[Article]) -> bool:
    return {a.source: a.sha256 for a in articles} == {s: e.sha256 for s, e in index.articles.items()}


def build(
    articles: list[Article], old: StoredIndex | None, settings: Settings, encoder: Encoder, progress: bool
) -> tuple[StoredIndex, int, int]:
    """A new index: rows of unchanged (or renamed) articles are copied, the rest chunked and embedded.

    Returns the index, how many chunks were embedded, and how many articles were reused."""
    reusable: dict[str, ArticleEntry] = {}
    if old is not None:
        for entry in old.articles.values():
            reusable.setdefault(entry.sha256, entry)
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    chunk_rows: list[np.ndarray | str] = []  # a stored vector, or the text to embed
    sentence_rows: list[np.ndarray | str] = []
    entries: dict[str, ArticleEntry] = {}
    reused = 0
    for article in articles:
        first, first_sentence = len(chunks), len(sentence_rows)
        entry = reusable.get(article.sha256)
        if old is not None and entry is not None:
            reused += 1
            for row in range(entry.first, entry.first + entry.count):
                chunks.append(replace(old.chunks[row], id=len(chunks), source=article.source, title=article.title))
                tokens.append(old.tokens[row])
                chunk_rows.append(old.vectors[row])
            start = entry.first_sentence
            sentence_rows.extend(old.sentence_vectors[start : start + entry.sentences])
        else:
            seen: set[int] = set()
            for chunk in chunk_article(article, settings.chunk, first):
                text = chunk.indexed_text(settings.chunk.title_in_text)
                chunks.append(chunk)
                tokens.append(tokenize(text))
                chunk_rows.append(text)
                for s, e in chunk.sentences:
                    if s not in seen:
                        seen.add(s)
                        sentence_rows.append(article.text[s:e])
        entries[article.source] = ArticleEntry(
            article.sha256, article.title, first, len(chunks) - first,
            first_sentence, len(sentence_rows) - first_sentence,
        )
    dims = old.dimensions if old is not None else encoder.dimensions
    texts = [r for r in chunk_rows if isinstance(r, str)] + [r for r in sentence_rows if isinstance(r, str)]
    fresh = iter(encoder.encode(texts, progress=progress))
    vectors = np.stack([next(fresh) if isinstance(r, str) else r for r in chunk_rows]) if chunks else np.zeros((0, dims), np.float32)
    sentence_vectors = (
        np.stack([next(fresh) if isinstance(r, str) else r for r in sentence_rows])
        if sentence_rows else np.zeros((0, dims), np.float32)
    )
    index = StoredIndex(
        encoder.model_id, dims, identity(settings), entries, chunks, tokens,
        vectors.astype(np.float32), sentence_vectors.astype(np.float32),
    )
    return index, len(texts), reused
