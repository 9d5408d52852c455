"""FAISS inner-product search over unit vectors, which is cosine similarity. Row i is chunk i."""

from __future__ import annotations

from typing import Any

import numpy as np


class DenseIndex:
    """An exact (flat) FAISS index: at news-collection scale exact search costs about a millisecond."""

    def __init__(self, vectors: np.ndarray) -> None:
        import faiss

        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._index: Any = faiss.IndexFlatIP(self.vectors.shape[1])
        if len(self.vectors):
            self._index.add(self.vectors)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and cosine scores of the `k` nearest chunks, best first."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]
