"""Hybrid retrieval: FAISS cosine and BM25 each give a deep candidate list, fused by rank or score."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..config import RetrievalSettings
from ..types import Chunk, Hit
from .dense import DenseIndex
from .fusion import convex, ranked, rrf
from .lexical import LexicalIndex


class HybridRetriever:
    """Ranks chunks for a query; the query vector and tokens come from the caller (one encoding)."""

    def __init__(self, chunks: Sequence[Chunk], dense: DenseIndex, lexical: LexicalIndex, settings: RetrievalSettings):
        self.chunks = chunks
        self.dense = dense
        self.lexical = lexical
        self.settings = settings

    def search(self, query_vector: np.ndarray, query_tokens: list[str], k: int, mode: str = "hybrid",
               allowed: np.ndarray | None = None) -> list[Hit]:
        """The best `k` chunks. mode "dense" or "bm25" ranks by one side alone (for benchmarks).

        `allowed` (sorted int64 chunk rows, or None for all): both retrievers rank only inside it."""
        if allowed is not None and not len(allowed):
            return []
        depth = max(k, self.settings.candidates)
        d_ids, d_scores = self.dense.search(query_vector, depth, allowed) if mode != "bm25" else ((), ())
        b_ids, b_scores = self.lexical.search(query_tokens, depth, allowed) if mode != "dense" else ((), ())
        dense = {int(i): float(s) for i, s in zip(d_ids, d_scores, strict=True)}
        bm25 = {int(i): float(s) for i, s in zip(b_ids, b_scores, strict=True)}
        d_rank = {doc: r for r, doc in enumerate(dense, start=1)}
        b_rank = {doc: r for r, doc in enumerate(bm25, start=1)}
        if mode == "dense":
            fused = dense
        elif mode == "bm25":
            fused = bm25
        elif self.settings.fusion == "convex":
            fused = convex(dense, bm25, self.settings.dense_weight)
        else:
            w = self.settings.dense_weight
            fused = rrf([list(dense), list(bm25)], k=self.settings.rrf_k, weights=[2 * w, 2 * (1 - w)])
        return [
            Hit(self.chunks[doc], score, dense.get(doc), bm25.get(doc), d_rank.get(doc), b_rank.get(doc))
            for doc, score in ranked(fused)[:k]
        ]
