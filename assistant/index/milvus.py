"""Retrieval by a Milvus server (a cluster, or `milvus-lite server` on one machine): one collection per index.

Each chunk row of the local store is one Milvus row: a stable id (the article's name hashed, and the
chunk's ordinal in it), the article's source, content hash, title, date and outlet, the chunk text, its
dense vector (copied from the store, never re-encoded) and its tokens: the project's own tokenizer's
output joined by spaces, from which Milvus's built-in BM25 function makes the sparse field (milvus-lite
has only the `standard` analyzer, so the stemming and stop words stay the project's). A question is one
`hybrid_search` of both fields, fused by RRFRanker or WeightedRanker; a filter is an expression on the
`source` field evaluated inside the search. Hits are mapped back to the store's chunk rows, so the answer
step reads the same chunks, texts and sentence vectors as with the local backend.

The collection's properties hold what it was built with (model, chunking, tokenizer, vector index) and a
digest of its articles' content hashes; a different identity is an error naming what to do, and a
different digest is brought up to date by deleting and inserting the rows of changed articles only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import BackendSettings, RetrievalSettings, Settings
from ..errors import BackendError
from ..types import Hit
from .backend import SyncReport, backend_identity, differences
from .lexical import tokenize

if TYPE_CHECKING:
    from .lexical import LexicalIndex
    from .store import StoredIndex

log = logging.getLogger(__name__)

IDENTITY_KEY = "assistant.identity"
DIGEST_KEY = "assistant.digest"
INSTALL = 'pip install "assistant[milvus]"'
_MAX_TEXT_BYTES = 65_535  # Milvus VARCHAR limit; only the shown text and the tokens can come near it
_LIST_CHUNK = 1000  # sources per delete expression
OUTPUT = ["source", "ordinal"]


def collection_name(index_dir: Path) -> str:
    """The default collection of an index folder: its name (letters, digits, _) and a hash of its path."""
    resolved = str(Path(index_dir).resolve())
    stem = re.sub(r"[^A-Za-z0-9_]", "_", Path(resolved).name)[:40] or "index"
    return f"assistant_{stem}_{hashlib.sha256(resolved.encode('utf-8', 'surrogateescape')).hexdigest()[:10]}"


def row_id(source: str, ordinal: int) -> str:
    return f"{hashlib.sha1(source.encode('utf-8', 'surrogateescape')).hexdigest()[:24]}-{ordinal}"


def digest(shas: dict[str, str]) -> str:
    """One hash of every (source, content hash) pair: equal digests, equal collections."""
    h = hashlib.sha256()
    for source in sorted(shas):
        h.update(source.encode("utf-8", "surrogateescape") + b"\0" + shas[source].encode() + b"\n")
    return h.hexdigest()


def _clip(text: str, limit: int = _MAX_TEXT_BYTES) -> str:
    data = text.encode("utf-8", "surrogateescape")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


_PLAIN = re.compile(r"[a-z0-9]+")


def bm25_text(tokens: Sequence[str]) -> str:
    """The project's tokens as a text Milvus's `standard` analyzer keeps token for token: a plain [a-z0-9]
    token as it is, any other ("6.2", "e.g", "égal", "北京") as a hex digest (the analyzer would split it on
    the dot, or into single CJK characters, and match other terms)."""
    return " ".join(t if _PLAIN.fullmatch(t) else "h" + hashlib.sha1(t.encode("utf-8")).hexdigest()[:15]
                    for t in tokens)


def source_expression(operator: str, sources: Sequence[str]) -> str:
    """`source in [...]` with each name a double-quoted, backslash-escaped string literal (milvus-lite
    does not take filter templates)."""
    return f"source {operator} {json.dumps(list(sources), ensure_ascii=False)}"


def ranker_of(settings: RetrievalSettings) -> Any:
    """The Milvus ranker for the project's fusion: RRF (Cormack et al. 2009, unweighted: Milvus's RRFRanker
    takes no weights) or weighted normalised scores (Milvus normalises each side with arctan, not min-max)."""
    from pymilvus import RRFRanker, WeightedRanker

    if settings.fusion == "rrf":
        return RRFRanker(settings.rrf_k)
    return WeightedRanker(settings.dense_weight, 1.0 - settings.dense_weight)


def _pymilvus() -> Any:
    try:
        import pymilvus
    except ImportError as exc:
        raise BackendError(f"the Milvus backend needs pymilvus, which is not installed: {INSTALL}") from exc
    return pymilvus


class MilvusBackend:
    """Ranks the store's chunks with a Milvus collection kept in step with it (see the module docstring).

    `uri`: "http://host:19530" (a cluster or `milvus-lite server`); `collection`: default from the index
    folder; `settings` overrides config.BackendSettings (index type, HNSW parameters, timeout)."""

    name = "milvus"

    def __init__(self, uri: str, collection: str | None = None, settings: BackendSettings | None = None) -> None:
        self.uri = uri
        self.collection = collection
        self._given = settings
        self.settings = settings or BackendSettings()
        self._client: Any = None
        self._stored: StoredIndex | None = None
        self._retrieval = RetrievalSettings()
        self._sources: list[str] = []
        self._owner = np.zeros(0, dtype=np.int32)  # chunk row -> index into _sources
        self.last_sync: SyncReport | None = None  # what the last attach changed in the collection

    def describe(self) -> str:
        return f"Milvus collection {self.collection} at {self.uri}"

    # Connecting ---------------------------------------------------------------------------------------
    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A client call whose failure is a BackendError naming the server, never a traceback."""
        pymilvus = _pymilvus()
        try:
            return fn(*args, timeout=self.settings.timeout_s, **kwargs)
        except pymilvus.exceptions.MilvusException as exc:
            message = getattr(exc, "message", None) or str(exc)
            raise BackendError(f"Milvus at {self.uri} failed to {what}: {message}") from exc

    def client(self) -> Any:
        if self._client is None:
            pymilvus = _pymilvus()
            try:
                self._client = pymilvus.MilvusClient(uri=self.uri, timeout=self.settings.timeout_s)
            except pymilvus.exceptions.MilvusException as exc:
                raise BackendError(
                    f"cannot reach Milvus at {self.uri} ({getattr(exc, 'message', exc)}); start the server "
                    "(on one machine: `milvus-lite server --data-dir DIR --host 127.0.0.1 --port 19530`) "
                    "or pass the right --milvus-uri"
                ) from exc
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # Attaching ----------------------------------------------------------------------------------------
    def identity(self, settings: Settings, model: str, dimensions: int) -> dict[str, Any]:
        b = self.settings
        return backend_identity(settings, model, dimensions) | {
            "vector_index": {"type": b.milvus_index_type, "metric": "IP", **self._build_params()},
            "bm25": {"analyzer": "standard", "input": "assistant tokens, non-[a-z0-9] ones hashed"},
        }

    def _build_params(self) -> dict[str, Any]:
        b = self.settings
        return {"M": b.hnsw_m, "efConstruction": b.hnsw_ef_construction} if b.milvus_index_type == "HNSW" else {}

    def attach(self, stored: StoredIndex, lexical: LexicalIndex, settings: Settings, model: str) -> SyncReport:
        if self._given is None:
            self.settings = settings.backend
        name = self.collection or collection_name(stored.folder)
        self.collection = name
        client = self.client()
        wanted = self.identity(settings, model, stored.dimensions)
        if self._call("list collections", client.has_collection, name):
            self._check(name, wanted)
        else:
            self._create(name, stored.dimensions, wanted)
        self._stored, self._retrieval = stored, settings.retrieval
        self._sources = stored.sources()
        self._owner = np.zeros(stored.n_chunks, dtype=np.int32)
        for i, source in enumerate(self._sources):
            self._owner[stored.chunk_ids(source)] = i
        self.last_sync = self._sync(name, stored, settings)
        return self.last_sync

    def _check(self, name: str, wanted: dict[str, Any]) -> None:
        properties = self._call("describe the collection", self.client().describe_collection, name).get("properties")
        raw = (properties or {}).get(IDENTITY_KEY)
        fix = (f"drop it (pymilvus: MilvusClient({self.uri!r}).drop_collection({name!r})) and run `assistant index "
               "--backend milvus` again, or pass another --milvus-collection")
        if raw is None:
            raise BackendError(f"the Milvus collection {name} at {self.uri} was not made by assistant; {fix}")
        have = json.loads(raw)
        if have != wanted:
            keys = sorted(k for k in wanted.keys() | have.keys() if have.get(k) != wanted.get(k))
            detail = "; ".join(f"{k}: collection has {have.get(k)}, this index needs {wanted.get(k)}" for k in keys)
            raise BackendError(f"the Milvus collection {name} at {self.uri} was built with other settings ({detail}); "
                               f"it is not rebuilt silently: {fix}")

    def _create(self, name: str, dimensions: int, wanted: dict[str, Any]) -> None:
        pymilvus = _pymilvus()
        DataType, b = pymilvus.DataType, self.settings
        schema = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False,
                                                     description="assistant chunk rows")
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("source", DataType.VARCHAR, max_length=4096)
        schema.add_field("sha", DataType.VARCHAR, max_length=64)
        schema.add_field("ordinal", DataType.INT64)
        schema.add_field("title", DataType.VARCHAR, max_length=_MAX_TEXT_BYTES)
        schema.add_field("date", DataType.VARCHAR, max_length=64)  # ISO date, "" when unknown
        schema.add_field("outlet", DataType.VARCHAR, max_length=1024)
        schema.add_field("text", DataType.VARCHAR, max_length=_MAX_TEXT_BYTES)
        schema.add_field("tokens", DataType.VARCHAR, max_length=_MAX_TEXT_BYTES, enable_analyzer=True,
                         analyzer_params={"type": "standard"})
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimensions)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(pymilvus.Function(name="bm25", function_type=pymilvus.FunctionType.BM25,
                                              input_field_names=["tokens"], output_field_names=["sparse"]))
        client = self.client()
        index = client.prepare_index_params()
        index.add_index("vector", index_type=b.milvus_index_type, metric_type="IP", params=self._build_params())
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        index.add_index("source", index_type="INVERTED")  # filters on source, and deletes by it
        self._call("create the collection", client.create_collection, name, schema=schema, index_params=index,
                   consistency_level="Strong")
        self._call("record the index identity", client.alter_collection_properties, name,
                   properties={IDENTITY_KEY: json.dumps(wanted, sort_keys=True), DIGEST_KEY: ""})
        log.info("created the Milvus collection %s at %s", name, self.uri)

    def contents(self) -> dict[str, str]:
        """{source: content hash} of the articles in the collection (one row per article: its first chunk)."""
        client, found = self.client(), {}
        iterator = self._call("list the articles", client.query_iterator, self.collection, batch_size=1000,
                              filter="ordinal == 0", output_fields=["source", "sha"])
        try:
            while True:
                rows = iterator.next()
                if not rows:
                    break
                found.update({r["source"]: r["sha"] for r in rows})
        finally:
            iterator.close()
        return found

    def _sync(self, name: str, stored: StoredIndex, settings: Settings) -> SyncReport:
        local = {s: stored.sha(s) for s in self._sources if len(stored.chunk_ids(s))}
        want = digest(local)
        properties = self._call("describe the collection", self.client().describe_collection, name)["properties"]
        if properties.get(DIGEST_KEY) == want:
            return SyncReport()
        delete, insert = differences(self.contents(), local)
        self.remove(delete)
        rows = self.update(stored, insert, settings)
        self._call("record the articles' digest", self.client().alter_collection_properties, name,
                   properties={DIGEST_KEY: want})
        log.info("Milvus collection %s: %d articles removed, %d written (%d rows)", name, len(delete), len(insert),
                 rows)
        return SyncReport(len(insert), len(delete), rows)

    def remove(self, sources: Sequence[str]) -> None:
        """Delete every row of these articles."""
        for at in range(0, len(sources), _LIST_CHUNK):
            part = list(sources[at : at + _LIST_CHUNK])
            self._call("delete rows", self.client().delete, self.collection, filter=source_expression("in", part))

    def update(self, stored: StoredIndex, sources: Sequence[str], settings: Settings) -> int:
        """Insert the chunk rows of these articles from the store (their earlier rows must be removed first)."""
        batch: list[dict[str, Any]] = []
        count = 0
        for row in self._rows(stored, sources, settings.chunk.title_in_text):
            batch.append(row)
            if len(batch) >= self.settings.insert_rows:
                self._call("insert rows", self.client().insert, self.collection, batch)
                count, batch = count + len(batch), []
        if batch:
            self._call("insert rows", self.client().insert, self.collection, batch)
            count += len(batch)
        return count

    def _rows(self, stored: StoredIndex, sources: Sequence[str], with_title: bool) -> Iterator[dict[str, Any]]:
        for source in sources:
            info, sha = stored.info(source), stored.sha(source)
            for ordinal, i in enumerate(stored.chunk_ids(source).tolist()):
                chunk = stored.chunk(i)
                yield {"id": row_id(source, ordinal), "source": source, "sha": sha, "ordinal": ordinal,
                       "title": _clip(info.title), "date": info.date or "", "outlet": _clip(info.outlet or "", 1024),
                       "text": _clip(chunk.text), "tokens": _clip(bm25_text(tokenize(chunk.indexed_text(with_title)))),
                       "vector": np.asarray(stored.chunk_vector(i), dtype=np.float32).tolist()}

    # Searching ----------------------------------------------------------------------------------------
    def _filter(self, allowed: np.ndarray | None) -> str:
        """A `source` expression allowing exactly the articles of the `allowed` chunk rows ("" for all),
        listing whichever is shorter: the articles allowed or those left out."""
        if allowed is None:
            return ""
        keep = np.zeros(len(self._sources), dtype=bool)
        keep[np.unique(self._owner[allowed])] = True
        if keep.all():
            return ""
        if keep.sum() <= len(keep) - keep.sum():
            return source_expression("in", [self._sources[i] for i in np.flatnonzero(keep)])
        return source_expression("not in", [self._sources[i] for i in np.flatnonzero(~keep)])

    def search(self, query_vector: np.ndarray, query_tokens: list[str], k: int, mode: str = "hybrid",
               allowed: np.ndarray | None = None) -> list[Hit]:
        """The best `k` chunks by one hybrid_search (or one side alone: mode "dense" / "bm25")."""
        if self._stored is None:
            raise RuntimeError("MilvusBackend.search before attach")
        if allowed is not None and not len(allowed):
            return []
        pymilvus, client = _pymilvus(), self.client()
        expr = self._filter(allowed)
        depth = max(k, self._retrieval.candidates)
        vector = np.asarray(query_vector, dtype=np.float32).tolist()
        text = bm25_text(query_tokens)
        dense_param = {"metric_type": "IP", "params": {"ef": max(self.settings.hnsw_ef, depth)}}
        if mode == "bm25" and not text:
            return []
        if mode == "dense" or (mode == "hybrid" and not text):
            found = self._call("search", client.search, self.collection, data=[vector], anns_field="vector",
                               limit=k, search_params=dense_param, filter=expr,
                               output_fields=OUTPUT)
        elif mode == "bm25":
            found = self._call("search", client.search, self.collection, data=[text], anns_field="sparse", limit=k,
                               search_params={"metric_type": "BM25"}, filter=expr,
                               output_fields=OUTPUT)
        else:
            requests = [
                pymilvus.AnnSearchRequest(data=[vector], anns_field="vector", param=dense_param, limit=depth,
                                          expr=expr or None),
                pymilvus.AnnSearchRequest(data=[text], anns_field="sparse", param={"metric_type": "BM25"},
                                          limit=depth, expr=expr or None),
            ]
            found = self._call("search", client.hybrid_search, self.collection, requests, ranker_of(self._retrieval),
                               limit=k, output_fields=OUTPUT)
        return self._hits(found[0] if found else [], np.asarray(query_vector, dtype=np.float32), mode == "bm25")

    def _hits(self, found: Sequence[Any], query: np.ndarray, bm25: bool = False) -> list[Hit]:
        """Milvus rows as the store's chunks; the dense score is the exact cosine from the store's vector
        (the answer step reads it), the BM25 side is only in the fused score (Milvus does not return it).
        A BM25-only search's score is the BM25 score (milvus-lite returns it negated, best first)."""
        stored = self._stored
        assert stored is not None
        hits = []
        for item in found:
            entity = item.get("entity", item)
            source, ordinal = entity["source"], int(entity["ordinal"])
            try:
                i = int(stored.chunk_ids(source)[ordinal])
            except (KeyError, IndexError):  # a row the store no longer has: the collection is behind
                log.warning("Milvus row %s#%d is not in the local index; run `assistant index`", source, ordinal)
                continue
            cosine = float(np.dot(stored.chunk_vector(i), query))
            score = abs(float(item["distance"])) if bm25 else float(item["distance"])
            hits.append(Hit(stored.chunk(i), score, cosine, score if bm25 else None, None, None))
        return hits
