"""The store at scale: build time against today's build, bare encode speed per text length, what an
update writes, and the approximate dense index against the exact one (recall@100, latency, size).

    python -m benchmarks run --sections store            # after `speed` built the synthetic indexes

Synthetic indexes (recombined real sentences, random unit vectors, real chunking and BM25) are written
straight through the store's own segment writer, so a million chunks cost no encoding.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant import Assistant, Settings
from assistant.config import StoreSettings
from assistant.index.encoder import SentenceEncoder

from .metrics import percentile

TODAY = "build"  # the sentence vectors of the build before this store: every sentence embedded alone


class CountingEncoder:
    """The real encoder, counting what a build embeds and how long the model took."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.texts = 0
        self.seconds = 0.0

    @property
    def dimensions(self) -> int:
        return self.encoder.dimensions

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        start = time.perf_counter()
        out = self.encoder.encode(texts)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        return out

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> Any:
        start = time.perf_counter()
        out = self.encoder.encode_spans(texts, spans)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        return out


def build_side_by_side(corpus: Path, encoder: SentenceEncoder, modes: Sequence[str] = (TODAY, "pooled")
                       ) -> list[dict[str, Any]]:
    """Build `corpus` from scratch once per sentence-vector mode, one after the other in this process."""
    encoder.encode(["warm up the model"])
    rows = []
    for mode in modes:
        settings = Settings(store=StoreSettings(sentence_vectors=mode))  # type: ignore[arg-type]
        counting = CountingEncoder(encoder)
        with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
            start = time.perf_counter()
            report = Assistant(corpus=corpus, index=Path(tmp) / "index", settings=settings, encoder=counting).open()
            seconds = time.perf_counter() - start
        rows.append({"mode": mode, "articles": report.articles, "chunks": report.chunks, "texts": counting.texts,
                     "build_s": seconds, "encode_s": counting.seconds, "load_1m": os.getloadavg()[0]})
    return rows


def bare_encode(corpus: Path, encoder: SentenceEncoder, limit: int = 600) -> list[dict[str, Any]]:
    """model.encode texts/s on the corpus's chunk texts and on its sentences alone (sorted by length
    inside sentence-transformers), the two kinds of text a build embeds."""
    from assistant.chunking import chunk_article
    from assistant.ingest import read_corpus

    settings = Settings()
    articles, _ = read_corpus(corpus)
    chunks = [c for a in articles for c in chunk_article(a, settings.chunk, 0)]
    kinds = {
        "chunks": [c.indexed_text(settings.chunk.title_in_text) for c in chunks][:limit],
        "sentences": list(dict.fromkeys(text for c in chunks for text in _sentences(c)))[:limit],
    }
    out = []
    for kind, texts in kinds.items():
        start = time.perf_counter()
        encoder.model.encode(texts, batch_size=settings.batch_size, normalize_embeddings=True,
                             show_progress_bar=False)
        seconds = time.perf_counter() - start
        out.append({"kind": kind, "texts": len(texts), "words_mean": statistics.mean(len(t.split()) for t in texts),
                    "texts_per_s": len(texts) / seconds, "engine": "sentence-transformers (torch)",
                    "load_1m": os.getloadavg()[0]})
    return out


def _sentences(chunk: Any) -> list[str]:
    out, at = [], 0
    for start, end in chunk.sentences:
        out.append(chunk.text[at : at + end - start])
        at += end - start + 1
    return out


def update_cost(corpus: Path, index: Path, encoder: Any, articles: int = 10, seed: int = 0) -> dict[str, Any]:
    """Edit `articles` files of a built index's corpus, update a copy of the index, and count the bytes
    the update wrote against the index's size. The corpus files are put back as they were (bytes and
    mtime), so the cached index stays current."""
    from assistant.index import store

    files = sorted(p for p in corpus.rglob("*.txt"))
    chosen = random.Random(seed).sample(files, articles)
    saved = {p: (p.read_bytes(), p.stat()) for p in chosen}
    with tempfile.TemporaryDirectory(prefix="bench-update-", dir=index.parent) as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(index, copy, ignore=shutil.ignore_patterns(".lock", ".staging"))
        before = {p.name for p in copy.iterdir()}
        size = store.load(copy).nbytes()
        try:
            for path in chosen:
                path.write_bytes(saved[path][0].replace(b"\n\n", b"\n\nUpdated today: a correction. ", 1))
            start = time.perf_counter()
            report = Assistant(corpus=corpus, index=copy, encoder=encoder).index()
            seconds = time.perf_counter() - start
        finally:
            for path, (data, st) in saved.items():
                path.write_bytes(data)
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        written = sum(p.stat().st_size for p in copy.iterdir() if p.is_file() and p.name not in before)
    return {"articles_changed": articles, "index_bytes": size, "written_bytes": written,
            "written_share": written / size, "update_s": seconds, "encoded_texts": report.encoded_texts,
            "chunks": report.chunks}


def ann_against_exact(index: Path, queries: np.ndarray, k: int = 100, hnsw: bool = True) -> dict[str, Any]:
    """Recall@k of the approximate (8-bit quantized, re-scored) index against exact search over the
    same memory-mapped vectors, with the latency of each, its build time and size. An HNSW index is
    measured beside it on the first 100,000 rows (its build time grows with the index)."""
    import faiss

    from assistant.index import store
    from assistant.index.dense import Ann, DenseIndex, build_quantized, read_quantized

    stored = store.load(index)
    parts = stored.dense_parts()
    exact = DenseIndex(parts=parts)
    out: dict[str, Any] = {"chunks": stored.n_chunks, "queries": len(queries)}
    with tempfile.TemporaryDirectory(prefix="bench-ann-", dir=index.parent) as tmp:
        path = Path(tmp) / "ann.faiss"
        start = time.perf_counter()
        build_quantized([p.vectors for p in parts], path)
        out["sq8_build_s"] = time.perf_counter() - start
        out["sq8_bytes"] = path.stat().st_size
        ann = Ann(read_quantized(path), stored.n_chunks, Settings().store.ann_rerank, None)
        approximate = DenseIndex(parts=parts, ann=ann)
        recall, t_exact, t_ann = [], [], []
        for q in queries:
            start = time.perf_counter()
            want = exact.search(q, k)[0]
            t_exact.append(time.perf_counter() - start)
            start = time.perf_counter()
            got = approximate.search(q, k)[0]
            t_ann.append(time.perf_counter() - start)
            recall.append(len(set(want.tolist()) & set(got.tolist())) / k)
        out |= {"sq8_recall@100": float(np.mean(recall)), "sq8_p50_ms": 1000 * percentile(t_ann, 50),
                "exact_p50_ms": 1000 * percentile(t_exact, 50),
                "vectors_bytes": stored.n_chunks * stored.dimensions * 4}
    out["load_1m"] = os.getloadavg()[0]
    if not hnsw:
        return out
    sample = np.ascontiguousarray(parts[0].vectors[:100_000], dtype=np.float32)
    hnsw = faiss.IndexHNSWFlat(sample.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    start = time.perf_counter()
    hnsw.add(sample)
    out["hnsw_rows"] = len(sample)
    out["hnsw_build_s"] = time.perf_counter() - start
    sub = DenseIndex(np.asarray(sample))
    params = faiss.SearchParametersHNSW(efSearch=256)
    hits = []
    for q in queries[:50]:
        want = sub.search(q, k)[0]
        _, labels = hnsw.search(q.reshape(1, -1).astype(np.float32), k, params=params)
        hits.append(len(set(want.tolist()) & set(labels[0].tolist())) / k)
    out["hnsw_recall@100"] = float(np.mean(hits))
    return out


def synthetic_index(cache: Path, pool: Sequence[str], target_chunks: int, model_id: str, dimensions: int = 384,
                    sentences_per_article: int = 9, seed: int = 0, segment_chunks: int = 100_000
                    ) -> tuple[Path, Path]:
    """A corpus of recombined real sentences and its index, written through the store's segment writer.

    Articles are `sentences_per_article` sentences drawn from `pool` with a title made of another
    sentence's first words. Their sentence spans are known, so chunks are packed exactly as
    chunking.chunk_article packs them (max_words, overlap) without running the sentence splitter;
    chunk and sentence vectors are random unit vectors (encoding is measured on its own), BM25 tokens
    are real. Segments of `segment_chunks`; from the approximate-index threshold on, that index too.
    Returns (corpus folder, index folder); both are reused while they exist."""
    from assistant.chunking import word_count
    from assistant.index import store
    from assistant.index.build import identity
    from assistant.index.dense import build_quantized
    from assistant.index.lexical import tokenize
    from assistant.index.segment import Part, Segment, file_entry
    from assistant.ingest import parse_article

    settings = Settings()
    name = f"synthetic-{target_chunks}-{len(pool)}-{sentences_per_article}-{seed}"
    folder = cache / "articles" / name
    index = cache / "indexes" / f"{name}-w{settings.chunk.max_words}-s{settings.store.sentence_vectors}-f{store.FORMAT}"
    if (index / store.MANIFEST).exists():
        return folder, index
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(index, ignore_errors=True)
    index.mkdir(parents=True)
    rng = random.Random(seed)
    vectors_rng = np.random.default_rng(seed)
    with_sentences = settings.store.sentence_vectors in ("build", "pooled")

    def unit(rows: int) -> np.ndarray:
        out = vectors_rng.standard_normal((rows, dimensions), dtype=np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    records: dict[str, store.FileRecord] = {}
    entries: list[dict[str, Any]] = []
    part = Part(dimensions, with_sentences)
    chunks = articles = 0
    while chunks < target_chunks:
        sentences = [rng.choice(pool) for _ in range(sentences_per_article)]
        title = " ".join(rng.choice(pool).split()[:8]).rstrip(".,;:")
        source = f"{articles // 1000:04d}/{articles:07d}.txt"
        data = f"{title}\n\n{' '.join(sentences)}\n".encode()
        path = folder / source
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        article = parse_article(source, data)
        spans, pos = [], len(title) + 2
        for sentence in sentences:
            spans.append((pos, pos + len(sentence)))
            pos += len(sentence) + 1
        lengths = [word_count(article.text[a:b]) for a, b in spans]
        groups, tokens, k = [], [], 0
        while k < len(spans):
            j, words = k, 0
            while j < len(spans) and (j == k or words + lengths[j] <= settings.chunk.max_words):
                words += lengths[j]
                j += 1
            groups.append((k, j - k))
            text = " ".join(article.text[a:b] for a, b in spans[k:j])
            tokens.append(tokenize(f"{article.title}. {text}" if settings.chunk.title_in_text else text))
            if j >= len(spans):
                break
            k = max(k + 1, j - settings.chunk.overlap_sentences)
        part.add_fresh(article, spans, groups, tokens, unit(len(groups)), unit(len(spans)) if with_sentences else None)
        st = path.stat()
        records[source] = store.FileRecord(st.st_size, st.st_mtime_ns, article.sha256, (source,))
        chunks += len(groups)
        articles += 1
        if part.chunks >= segment_chunks or chunks >= target_chunks:
            entries.append(store.write_segment(index, part) | {"dead": []})
            part = Part(dimensions, with_sentences)
    ann = None
    if chunks >= settings.store.ann_threshold:
        ann_path = index / f"{store.new_name('ann')}.faiss"
        rows = build_quantized([Segment(index, e, dimensions).vectors for e in entries], ann_path)
        ann = file_entry(ann_path) | {"rows": rows, "segments": [e["name"] for e in entries]}
    store.publish(index, model=model_id, dimensions=dimensions, identity=identity(settings), segments=entries,
                  files=records, chunks=chunks, articles=articles, ann=ann)
    return folder, index


def with_mode(settings: Settings, mode: str) -> Settings:
    return replace(settings, store=replace(settings.store, sentence_vectors=mode))  # type: ignore[arg-type]
