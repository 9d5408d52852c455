"""Dense search: inner product over unit vectors, which is cosine similarity. Row i is chunk i.

Exact search reads the segments' memory-mapped vectors (a matrix-vector product per segment); from
`StoreSettings.ann_threshold` chunks on, an HNSW index (FAISS) built over the segments answers instead,
and only the rows added since it was built are searched exactly beside it. A filter (`allowed`) is
ranked inside: exactly over the allowed rows when they are few, else through FAISS's ID selector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class VectorPart:
    """One segment's vectors inside the index: local row r is chunk id `offset + r`, or `ids[r]` (-1: dead)
    when some of its rows were removed; `rows` lists the local rows of the live ones in id order."""

    vectors: np.ndarray
    offset: int
    ids: np.ndarray | None = None
    rows: np.ndarray | None = None

    @property
    def count(self) -> int:
        return len(self.vectors) if self.rows is None else len(self.rows)


@dataclass(frozen=True)
class Ann:
    """An HNSW index over the first `rows` physical rows (segments concatenated, dead rows included)."""

    index: Any
    rows: int
    ef_search: int
    physical_to_id: np.ndarray | None  # None: physical row = chunk id


def _top(ids: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best (id, score), best first, ties by id (as FAISS returns them)."""
    if len(ids) > k:
        keep = np.argpartition(-scores, k - 1)[:k]
        ids, scores = ids[keep], scores[keep]
    order = np.lexsort((ids, -scores))
    return ids[order].astype(np.int64), scores[order].astype(np.float32)


class DenseIndex:
    """Nearest chunks by cosine: exact over the memory-mapped segments, or HNSW beside them at scale."""

    def __init__(self, vectors: np.ndarray | None = None, parts: Sequence[VectorPart] | None = None,
                 ann: Ann | None = None, exact_filter_rows: int = 20_000) -> None:
        if parts is None:
            matrix = np.ascontiguousarray(vectors if vectors is not None else np.zeros((0, 1)), dtype=np.float32)
            parts = [VectorPart(matrix, 0)]
        self.parts = list(parts)
        self.ann = ann
        self.exact_filter_rows = exact_filter_rows
        self._size = sum(p.count for p in self.parts)
        # Physical rows: where each part starts in the concatenation the HNSW index was built over.
        self._physical = np.cumsum([0] + [len(p.vectors) for p in self.parts])

    def __len__(self) -> int:
        return self._size

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and cosine scores of the `k` nearest chunks, best first; with `allowed` (sorted chunk
        ids), the nearest among those only."""
        limit = len(self) if allowed is None else len(allowed)
        k = min(k, limit)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        q = np.ascontiguousarray(query.reshape(-1), dtype=np.float32)
        if allowed is not None and (self.ann is None or len(allowed) <= self.exact_filter_rows):
            return self._exact_allowed(q, np.asarray(allowed, dtype=np.int64), k)
        found_ids, found_scores = [], []
        first_exact = 0
        if self.ann is not None:
            ids, scores = self._ann_search(q, k, allowed)
            found_ids.append(ids)
            found_scores.append(scores)
            first_exact = int(np.searchsorted(self._physical, self.ann.rows, side="right")) - 1
        for part in self.parts[first_exact:]:
            ids, scores = self._exact_part(part, q, k, allowed)
            found_ids.append(ids)
            found_scores.append(scores)
        return _top(np.concatenate(found_ids), np.concatenate(found_scores), k)

    def _exact_part(self, part: VectorPart, q: np.ndarray, k: int, allowed: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray]:
        if not len(part.vectors):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if allowed is not None:
            inside = allowed[(allowed >= part.offset) & (allowed < part.offset + part.count)]
            return self._score_ids(part, inside, q)
        scores = np.asarray(part.vectors @ q, dtype=np.float32)
        if part.ids is None:
            ids = np.arange(part.offset, part.offset + len(scores), dtype=np.int64)
        else:
            live = part.ids >= 0
            ids, scores = part.ids[live], scores[live]
        return _top(ids, scores, k)

    def _score_ids(self, part: VectorPart, ids: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        local = ids - part.offset if part.rows is None else part.rows[ids - part.offset]
        return ids, np.asarray(part.vectors[np.asarray(local)] @ q, dtype=np.float32)

    def _exact_allowed(self, q: np.ndarray, allowed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        found_ids, found_scores = [], []
        for part in self.parts:
            inside = allowed[(allowed >= part.offset) & (allowed < part.offset + part.count)]
            if len(inside):
                ids, scores = self._score_ids(part, inside, q)
                found_ids.append(ids)
                found_scores.append(scores)
        if not found_ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return _top(np.concatenate(found_ids), np.concatenate(found_scores), k)

    def _ann_search(self, q: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        ann = self.ann
        assert ann is not None
        to_id = ann.physical_to_id
        selector: Any = None
        if allowed is not None:
            physical = self._physical_rows(allowed)
            selector = faiss.IDSelectorBatch(len(physical), faiss.swig_ptr(physical))
        elif to_id is not None:
            dead = np.flatnonzero(to_id[: ann.rows] < 0).astype(np.int64)
            if len(dead):
                selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(len(dead), faiss.swig_ptr(dead)))
        params = faiss.SearchParametersHNSW(efSearch=max(ann.ef_search, k))  # type: ignore[attr-defined]
        if selector is not None:
            params.sel = selector
        scores, labels = ann.index.search(q.reshape(1, -1), k, params=params)
        keep = labels[0] >= 0
        labels, scores = labels[0][keep], scores[0][keep]
        ids = labels if to_id is None else to_id[labels]
        live = ids >= 0
        return ids[live].astype(np.int64), scores[live].astype(np.float32)

    def _physical_rows(self, ids: np.ndarray) -> np.ndarray:
        """The physical rows of chunk ids (inverse of the parts' id numbering)."""
        out = np.empty(len(ids), dtype=np.int64)
        for part, start in zip(self.parts, self._physical[:-1], strict=False):
            inside = (ids >= part.offset) & (ids < part.offset + part.count)
            local = ids[inside] - part.offset
            out[inside] = start + (local if part.rows is None else part.rows[local])
        return out


def build_hnsw(parts: Sequence[np.ndarray], m: int, ef_construction: int, path: Path) -> int:
    """Build an HNSW index over the concatenated vectors (in blocks) and write it to `path`."""
    import faiss

    dims = int(parts[0].shape[1])
    index = faiss.IndexHNSWFlat(dims, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    rows = 0
    for vectors in parts:
        for start in range(0, len(vectors), 65_536):
            block = np.ascontiguousarray(vectors[start : start + 65_536], dtype=np.float32)
            index.add(block)
            rows += len(block)
    faiss.write_index(index, str(path))
    return rows


def read_hnsw(path: Path) -> Any:
    """An HNSW index from disk, its vectors memory-mapped rather than read (FAISS IO_FLAG_MMAP_IFC)."""
    import faiss

    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        return faiss.read_index(str(path))
