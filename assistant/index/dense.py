"""Dense search: inner product over unit vectors, which is cosine similarity. Row i is chunk i.

Exact search reads the segments' memory-mapped vectors (a matrix-vector product per segment). From
`StoreSettings.ann_threshold` chunks on, an approximate index answers instead: every vector quantized
to 8 bits per dimension (FAISS IndexScalarQuantizer, a quarter of the bytes to scan, memory-mapped),
its best `ann_rerank * k` candidates re-scored exactly with the float32 vectors. Measured against
HNSW (docs/benchmarks.md): it builds in seconds instead of minutes, and its recall@100 does not
depend on how clustered the vectors are. Rows added since it was built are searched exactly beside it.
A filter (`allowed`) is ranked inside: exactly over the allowed rows when they are few, else through
FAISS's ID selector.
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
    """A quantized index over the first `rows` physical rows (segments concatenated, dead rows included)."""

    index: Any
    rows: int
    rerank: int  # candidates re-scored exactly per result wanted
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
        params = faiss.SearchParameters()
        if selector is not None:
            params.sel = selector
        _, labels = ann.index.search(q.reshape(1, -1), max(k * ann.rerank, k), params=params)
        physical = labels[0][labels[0] >= 0]
        ids = physical if to_id is None else to_id[physical]
        live = ids >= 0
        physical, ids = physical[live], ids[live]
        return ids.astype(np.int64), self._rescore(physical, q)

    def _rescore(self, physical: np.ndarray, q: np.ndarray) -> np.ndarray:
        """Exact cosine of physical rows, from the float32 vectors."""
        scores = np.zeros(len(physical), dtype=np.float32)
        which = np.searchsorted(self._physical, physical, side="right") - 1
        for p in np.unique(which):
            mask = which == p
            local = physical[mask] - self._physical[p]
            order = np.argsort(local)
            rows = np.asarray(self.parts[p].vectors[local[order]])
            scores[np.flatnonzero(mask)[order]] = rows @ q
        return scores

    def _physical_rows(self, ids: np.ndarray) -> np.ndarray:
        """The physical rows of chunk ids (inverse of the parts' id numbering)."""
        out = np.empty(len(ids), dtype=np.int64)
        for part, start in zip(self.parts, self._physical[:-1], strict=False):
            inside = (ids >= part.offset) & (ids < part.offset + part.count)
            local = ids[inside] - part.offset
            out[inside] = start + (local if part.rows is None else part.rows[local])
        return out


def build_quantized(parts: Sequence[np.ndarray], path: Path, sample: int = 100_000) -> int:
    """Build the 8-bit quantized index over the concatenated vectors (trained on an even sample of
    them, added block by block) and write it to `path`; returns its row count."""
    import faiss

    dims = int(parts[0].shape[1])
    total = sum(len(v) for v in parts)
    index = faiss.IndexScalarQuantizer(dims, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    step = max(1, total // sample)
    train = np.concatenate([np.asarray(v[(-offset) % step :: step]) for v, offset in
                            zip(parts, np.cumsum([0] + [len(v) for v in parts[:-1]]), strict=True)])
    index.train(np.ascontiguousarray(train, dtype=np.float32))
    for vectors in parts:
        for start in range(0, len(vectors), 65_536):
            index.add(np.ascontiguousarray(vectors[start : start + 65_536], dtype=np.float32))
    faiss.write_index(index, str(path))
    return int(index.ntotal)


def read_quantized(path: Path) -> Any:
    """The quantized index from disk, its codes memory-mapped rather than read (FAISS IO_FLAG_MMAP_IFC)."""
    import faiss

    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        return faiss.read_index(str(path))
