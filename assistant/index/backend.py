"""Where retrieval runs: the local FAISS + BM25 store, or an external engine (Milvus) fed from it.

The local index folder (store.py) stays the one source of articles, chunks and sentence vectors in every
case: the build writes it, the answer step reads it. A backend only ranks chunk rows of that store for a
query. The local backend ranks them with the store's own arrays; a remote one keeps a copy of each chunk's
vector and tokens, brought up to date from the store by content hash (`attach`), and maps what it returns
back to the store's chunk rows, so answers read remote hits exactly as they read local ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..config import Settings
from ..types import Chunk, Hit

if TYPE_CHECKING:
    from .dense import DenseIndex
    from .hybrid import HybridRetriever
    from .lexical import LexicalIndex
    from .store import StoredIndex


@dataclass(frozen=True)
class SyncReport:
    """What `attach` changed in a backend: articles whose rows were inserted or deleted."""

    inserted: int = 0  # articles (new or changed) whose chunk rows were written
    removed: int = 0  # articles (gone or changed) whose chunk rows were deleted
    rows: int = 0  # chunk rows written


class Retriever(Protocol):
    """Ranks the chunk rows of the attached store for one query (encoded once, by the caller)."""

    def search(self, query_vector: np.ndarray, query_tokens: list[str], k: int, mode: str = "hybrid",
               allowed: np.ndarray | None = None) -> list[Hit]:
        """The best `k` chunks; `allowed` (sorted chunk rows, None: all) is applied inside the ranking."""
        ...


class Backend(Retriever, Protocol):
    """A retrieval engine behind `Assistant`: attached to an opened store, then searched."""

    name: str
    last_sync: SyncReport | None  # what the last attach changed (None: nothing to keep in step)

    def describe(self) -> str:
        """Where the chunks are ranked, in words (for messages)."""
        ...

    def attach(self, stored: StoredIndex, lexical: LexicalIndex, settings: Settings, model: str) -> SyncReport:
        """Serve the chunks of `stored`: check the backend was built the same way (model, settings) and
        bring it up to date with the store (only articles whose content hash changed). A mismatch raises
        IndexStoreError saying what to do; nothing is rebuilt silently."""
        ...


class LocalBackend:
    """Today's HybridRetriever over the store's memory-mapped vectors and BM25 postings (the default)."""

    name = "local"

    def __init__(self) -> None:
        self._retriever: HybridRetriever | None = None
        self.last_sync: SyncReport | None = None

    def describe(self) -> str:
        return "the local index"

    def attach(self, stored: StoredIndex, lexical: LexicalIndex, settings: Settings, model: str) -> SyncReport:
        from .dense import DenseIndex
        from .hybrid import HybridRetriever

        dense = DenseIndex(parts=stored.dense_parts(), ann=stored.ann(settings.store),
                           exact_filter_rows=settings.store.exact_filter_rows)
        self._retriever = HybridRetriever(stored.chunks, dense, lexical, settings.retrieval)
        return SyncReport()  # the store is its own index: the build already updated it

    @property
    def retriever(self) -> HybridRetriever:
        if self._retriever is None:
            raise RuntimeError("LocalBackend used before attach")
        return self._retriever

    # What callers of the HybridRetriever read (benchmarks, tests): the chunk table and both indexes.
    @property
    def chunks(self) -> Sequence[Chunk]:
        return self.retriever.chunks

    @property
    def dense(self) -> DenseIndex:
        return self.retriever.dense

    @property
    def lexical(self) -> LexicalIndex:
        return self.retriever.lexical

    def search(self, query_vector: np.ndarray, query_tokens: list[str], k: int, mode: str = "hybrid",
               allowed: np.ndarray | None = None) -> list[Hit]:
        return self.retriever.search(query_vector, query_tokens, k, mode, allowed)


def backend_identity(settings: Settings, model: str, dimensions: int) -> dict[str, Any]:
    """What a remote copy of an index must have been built with to be used: the model, the vector size and
    the local index identity (chunking, tokenizer): its rows and tokens are those of the store."""
    from .build import identity

    return {"model": model, "dimensions": dimensions, "index": identity(settings)}


def differences(remote: Mapping[str, str], local: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(sources to delete, sources to insert) to make `remote` {source: sha256} equal `local`: a changed
    article is in both lists, an unchanged one in neither."""
    delete = sorted(s for s, sha in remote.items() if local.get(s) != sha)
    insert = sorted(s for s, sha in local.items() if remote.get(s) != sha)
    return delete, insert


def make_backend(settings: Settings) -> Backend:
    """The backend `settings.backend` names (config.BackendSettings)."""
    b = settings.backend
    if b.kind == "local":
        return LocalBackend()
    if b.kind == "milvus":
        from .milvus import MilvusBackend

        return MilvusBackend(b.milvus_uri, collection=b.milvus_collection)  # the rest of `b` is read at attach
    raise ValueError(f"unknown backend {b.kind!r} (local or milvus)")
