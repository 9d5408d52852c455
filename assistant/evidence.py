"""What answer selection reads besides the hits: article texts, sentence and chunk vectors, term IDF.

Answer selection uses only the methods of `Evidence`, never its storage, so how the index keeps these
(in memory, memory-mapped, or sentence vectors encoded on demand) can change without touching it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .types import Article


@dataclass(frozen=True)
class Evidence:
    """Article texts, each distinct sentence of the index as a row with its vector, and term weights."""

    articles: Mapping[str, Article]
    sentence_rows: Mapping[tuple[str, int], int]  # (source, sentence start) -> row
    sentence_spans: list[tuple[str, int, int]]  # (source, start, end) of each sentence row
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray
    idf: Mapping[str, float]
    missing_idf: float  # a question term found nowhere in the corpus is the most informative of all

    def text(self, source: str) -> str:
        """The article's text: what every offset of a citation points into."""
        return self.articles[source].text

    def sentence_row(self, source: str, start: int) -> int:
        return self.sentence_rows[(source, start)]

    def sentence(self, row: int) -> tuple[str, int, int]:
        """(source, start, end) of a sentence row."""
        return self.sentence_spans[row]

    def adjacent(self, row: int, step: int) -> int | None:
        """The row `step` sentences away in the same article, or None past either end of it."""
        other = row + step
        if 0 <= other < len(self.sentence_spans) and self.sentence_spans[other][0] == self.sentence_spans[row][0]:
            return other
        return None

    def sentence_vector(self, row: int) -> np.ndarray:
        return np.asarray(self.sentence_vectors[row])

    def chunk_vector(self, chunk_id: int) -> np.ndarray:
        return np.asarray(self.chunk_vectors[chunk_id])

    def term_weight(self, term: str) -> float:
        return self.idf.get(term, self.missing_idf)
