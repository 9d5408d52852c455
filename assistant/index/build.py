"""Bring an index folder up to date with its corpus, embedding only articles that are new or changed."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..chunking import chunk_article
from ..config import Settings
from ..errors import IndexLockedError, IndexStoreError
from ..ingest import read_corpus
from ..types import Article, Chunk, IndexReport
from . import store
from .encoder import Encoder
from .lexical import TOKENIZER_VERSION, tokenize
from .store import ArticleEntry, StoredIndex

log = logging.getLogger(__name__)


def identity(settings: Settings) -> dict[str, Any]:
    """What must match for a stored index to be used: the chunking and the tokenizer."""
    return settings.index_identity() | {"tokenizer": TOKENIZER_VERSION}


def open_index(
    corpus: Path, folder: Path, settings: Settings, encoder: Encoder, progress: bool = False,
    lock_wait: float = store.LOCK_WAIT_SECONDS,
) -> tuple[StoredIndex, dict[str, Article], IndexReport]:
    """Load the index at `folder`, updating it first if the corpus or the settings changed.

    An index that is current is only read, so it opens from a read-only folder. Updating takes the
    build lock (waiting up to `lock_wait` seconds for another builder) and saves atomically."""
    articles, skipped = read_corpus(corpus)
    by_source = {a.source: a for a in articles}
    old, problem = _load_usable(folder, settings, encoder, by_source)
    if old is not None and _current(old, articles):
        return old, by_source, IndexReport(len(articles), len(old.chunks), 0, len(articles), tuple(skipped), False)
    try:
        with store.build_lock(folder, lock_wait):
            fresh, problem = _load_usable(folder, settings, encoder, by_source)  # another builder may have finished
            if fresh is not None and _current(fresh, articles):
                report = IndexReport(len(articles), len(fresh.chunks), 0, len(articles), tuple(skipped), False)
                return fresh, by_source, report
            index, encoded, reused = build(articles, fresh, settings, encoder, progress)
            store.save(folder, index)
    except IndexLockedError:
        raise
    except IndexStoreError as exc:
        if problem:  # the old index cannot be used either: say so, and what to run
            raise IndexStoreError(
                f"the index at {folder} cannot be used ({problem}) and cannot be rebuilt: {exc}. "
                f"Run `assistant index --corpus {corpus} --index {folder}` once it is writable."
            ) from exc
        raise
    report = IndexReport(len(articles), len(index.chunks), encoded, reused, tuple(skipped), bool(problem))
    return index, by_source, report


def _load_usable(
    folder: Path, settings: Settings, encoder: Encoder, articles: dict[str, Article]
) -> tuple[StoredIndex | None, str]:
    """The stored index if it is whole and was built the way we would build it, else None and why."""
    if not (folder / store.MANIFEST).exists():
        return None, ""
    try:
        index = store.load(folder)
    except IndexLockedError:
        raise
    except IndexStoreError as exc:
        problem = str(exc)
    else:
        if index.model != encoder.model_id:
            problem = f"it was built with the model {index.model}, not {encoder.model_id}"
        elif index.identity != identity(settings):
            problem = f"it was built with other chunk or tokenizer settings ({index.identity})"
        else:
            problem = _mismatched_rows(index, articles)
        if not problem:
            return index, ""
    log.warning("index at %s: %s; rebuilding it from the articles", folder, problem)
    return None, problem


def _mismatched_rows(index: StoredIndex, articles: dict[str, Article]) -> str:
    """Why the stored chunks of unchanged articles are not exactly those articles' text ("" if they are).

    Checksums catch damaged files; this catches a manifest that points rows at the wrong article."""
    for chunk in index.chunks:
        article, entry = articles.get(chunk.source), index.articles.get(chunk.source)
        if article is None or entry is None or entry.sha256 != article.sha256:
            continue  # a changed or deleted article: its rows are not reused
        n = len(article.text)
        if (not chunk.sentences or any(not 0 <= s < e <= n for s, e in chunk.sentences)
                or chunk.text != " ".join(article.text[s:e] for s, e in chunk.sentences)):
            return f"chunk {chunk.id} does not match the text of {chunk.source}"
    return ""


def _current(index: StoredIndex, articles: list[Article]) -> bool:
    return {a.source: a.sha256 for a in articles} == {s: e.sha256 for s, e in index.articles.items()}


def build(
    articles: list[Article], old: StoredIndex | None, settings: Settings, encoder: Encoder, progress: bool
) -> tuple[StoredIndex, int, int]:
    """A new index: rows of unchanged (or renamed) articles are copied, the rest chunked and embedded.

    Returns the index, how many chunks were embedded, and how many articles were reused."""
    reusable: dict[str, ArticleEntry] = {}
    if old is not None:
        for stored in old.articles.values():
            reusable.setdefault(stored.sha256, stored)
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
    vectors, sentence_vectors = (
        np.stack([next(fresh) if isinstance(r, str) else r for r in rows]) if rows else np.zeros((0, dims), np.float32)
        for rows in (chunk_rows, sentence_rows)
    )
    index = StoredIndex(
        encoder.model_id, dims, identity(settings), entries, chunks, tokens,
        vectors.astype(np.float32), sentence_vectors.astype(np.float32),
    )
    return index, len(texts), reused
