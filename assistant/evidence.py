"""What answer selection reads besides the hits: article texts, sentence and chunk vectors, term IDF.

Answer selection uses only the methods of `Evidence`, never its storage: the index keeps texts and
vectors in memory-mapped segment files, and an index built with `sentence_vectors="lazy"` keeps no
sentence vectors at all; they are embedded when a question first reads their chunk, and cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from .matching import WordVectors
from .types import Article, Chunk

if TYPE_CHECKING:
    from .index.encoder import Encoder
    from .index.lexical import LexicalIndex
    from .index.store import StoredIndex

LAZY_CACHE_ROWS = 50_000  # sentence vectors embedded on demand and kept (about 75 MB at 384 dims)


class Evidence:
    """Article texts, each distinct sentence of the index as a row with its vector, and term weights."""

    def __init__(self, index: StoredIndex, lexical: LexicalIndex, encoder: Encoder | None = None) -> None:
        from .index.lexical import idf

        self._index = index
        self._lexical = lexical
        self._encoder = encoder
        self._size = lexical.size
        self._missing_idf = idf(lexical.size, 0)
        self._idf = idf
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.words = WordVectors(encoder)  # single words, for terms matched in other words (matching.py)

    @property
    def articles(self) -> Mapping[str, Article]:
        return self._index.articles

    @property
    def missing_idf(self) -> float:
        """A question term found nowhere in the corpus is the most informative of all."""
        return self._missing_idf

    def text(self, source: str) -> str:
        """The article's text: what every offset of a citation points into."""
        return self._index.article(source).text

    def sentence_row(self, source: str, start: int) -> int:
        return self._index.sentence_row(source, start)

    def sentence(self, row: int) -> tuple[str, int, int]:
        """(source, start, end) of a sentence row."""
        return self._index.sentence(row)

    def adjacent(self, row: int, step: int) -> int | None:
        """The row `step` sentences away in the same article, or None past either end of it."""
        return self._index.adjacent(row, step)

    def sentence_vector(self, row: int) -> np.ndarray:
        stored = self._index.sentence_vector(row)
        if stored is not None:
            return stored
        with self._lock:
            cached = self._cache.get(row)
        if cached is None:
            self._embed([row])
            with self._lock:
                cached = self._cache[row]
        return cached

    def chunk_rows(self, chunk: Chunk) -> range:
        """The sentence rows of a chunk, in the order of `chunk.sentences` (a chunk's sentences are
        consecutive rows)."""
        first = self.sentence_row(chunk.source, chunk.sentences[0][0])
        return range(first, first + len(chunk.sentences))

    def rows_read(self, chunks: Iterable[Chunk]) -> list[int]:
        """The sentence rows a question reads in these chunks: their sentences and the one either side of
        each chunk (a candidate's neighbours are features too)."""
        rows: list[int] = []
        for chunk in chunks:
            own = self.chunk_rows(chunk)
            rows.extend(own)
            rows.extend(r for r in (self.adjacent(own[0], -1), self.adjacent(own[-1], 1)) if r is not None)
        return rows

    def sentence_texts(self, rows: Iterable[int]) -> list[str]:
        return self._index.sentence_texts(list(rows))

    def prepare(self, chunks: Iterable[Chunk]) -> None:
        """Embed at once the sentences (and their neighbours) of the chunks a question will read, when
        this index keeps no sentence vectors: one encoder call instead of one per sentence."""
        rows = self.rows_read(chunks)
        if rows and self._index.sentence_vector(rows[0]) is None:
            self._embed(rows)

    def _embed(self, rows: list[int]) -> None:
        with self._lock:
            todo = list(dict.fromkeys(r for r in rows if r not in self._cache))
        if not todo:
            return
        if self._encoder is None:
            raise RuntimeError("this index keeps no sentence vectors and no encoder was given")
        vectors = self._encoder.encode(self._index.sentence_texts(todo))
        with self._lock:
            for row, vector in zip(todo, vectors, strict=True):
                self._cache[row] = np.asarray(vector, dtype=np.float32)
            while len(self._cache) > LAZY_CACHE_ROWS:
                self._cache.popitem(last=False)

    def chunk_vector(self, chunk_id: int) -> np.ndarray:
        return self._index.chunk_vector(chunk_id)

    def term_weight(self, term: str) -> float:
        return self._idf(self._size, self._lexical.doc_freq(term))
