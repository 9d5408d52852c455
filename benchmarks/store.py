"""The store at scale: build time against today's build, bare encode speed per text length, what an
update writes, and the approximate dense index against the exact one (recall@100, latency, size).

    python -m benchmarks run --sections store            # after `speed` built the synthetic indexes

Synthetic indexes (recombined real sentences, random unit vectors, real chunking and BM25) are written
straight through the store's own segment writer, so a million chunks cost no encoding.
"""

from __future__ import annotations

import hashlib
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
from assistant.index.encoder import INT8_ENGINE, SentenceEncoder
from assistant.types import Article

from .common import TORCH
from .data import Documents
from .metrics import percentile
from .squad import Question, contains_answer

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


ONNX, INT8 = "onnx", INT8_ENGINE
# (sentence-vector mode, engine) pairs built side by side; the first is today's build
COMBINATIONS: tuple[tuple[str, str], ...] = ((TODAY, TORCH), ("pooled", TORCH), (TODAY, ONNX), ("pooled", ONNX),
                                             ("lazy", ONNX), ("lazy", INT8))


def encoders(settings: Settings | None = None) -> dict[str, Any]:
    """One warm encoder per engine (the ONNX graph exported into the user's cache on first use)."""
    from assistant.index.onnx_encoder import OnnxEncoder

    settings = settings or Settings()
    out: dict[str, Any] = {TORCH: SentenceEncoder(settings.model_path, settings.batch_size),
                           ONNX: OnnxEncoder(settings.model_path, settings.batch_size),
                           INT8: OnnxEncoder(settings.model_path, settings.batch_size, int8=True)}
    for encoder in out.values():
        encoder.encode(["warm up the model"])
    return out


def build_side_by_side(corpus: Path, engines: dict[str, Any],
                       combinations: Sequence[tuple[str, str]] = COMBINATIONS,
                       questions: Sequence[Question] = ()) -> list[dict[str, Any]]:
    """Build `corpus` from scratch once per (sentence-vector mode, engine), one after the other in this
    process, and ask each fresh index the same SQuAD `questions` (their paragraphs in `corpus`): the share
    whose answer contains an accepted answer, the share answered, and each question's first quote (so
    two combinations can be compared answer by answer)."""
    rows = []
    for mode, engine in combinations:
        settings = Settings(store=StoreSettings(sentence_vectors=mode), encoder_engine=engine)  # type: ignore[arg-type]
        counting = CountingEncoder(engines[engine])
        with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
            start = time.perf_counter()
            assistant = Assistant(corpus=corpus, index=Path(tmp) / "index", settings=settings, encoder=counting)
            report = assistant.open()
            seconds = time.perf_counter() - start
            row = {"mode": mode, "engine": engine, "articles": report.articles, "chunks": report.chunks,
                   "texts": counting.texts, "build_s": seconds, "encode_s": counting.seconds,
                   "load_1m": os.getloadavg()[0]}
            if questions:
                row |= _answers(assistant, questions)
        rows.append(row)
    return rows


def _answers(assistant: Assistant, questions: Sequence[Question]) -> dict[str, Any]:
    contains = answered = 0
    quotes: list[str] = []
    for q in questions:
        answer = assistant.ask(q["question"])
        answered += answer.found
        contains += answer.found and contains_answer(answer.text, q["answers"])
        quotes.append(answer.citations[0].quote if answer.found and answer.citations else "")
    return {"questions": len(questions), "answer_contains": contains / len(questions),
            "answered": answered / len(questions), "quotes": quotes}


def squad_questions_in(corpus: Path, squad: Documents, questions: Sequence[Question], limit: int
                       ) -> list[Question]:
    """The first `limit` of `questions` whose gold paragraph is an article of `corpus` (copied there from
    `squad`'s folder under a "squad-" prefix, as the store section's mix is made)."""
    present = {squad.doc_of[p.name.removeprefix("squad-")] for p in corpus.iterdir()
               if p.name.startswith("squad-") and p.name.removeprefix("squad-") in squad.doc_of}
    return [q for q in questions if q["gold_passage"] in present][:limit]


def bare_encode(corpus: Path, engines: dict[str, Any], limit: int = 600) -> list[dict[str, Any]]:
    """encode() texts/s per engine on the corpus's chunk texts, its sentences alone, and question-length
    texts (a sentence's first 10 words), the kinds of text a build and a question embed. Each engine
    sorts its batches by length."""
    from assistant.chunking import chunk_article
    from assistant.ingest import read_corpus

    settings = Settings()
    articles, _ = read_corpus(corpus)
    chunks = [c for a in articles for c in chunk_article(a, settings.chunk, 0)]
    sentences = list(dict.fromkeys(text for c in chunks for text in _sentences(c)))
    kinds = {
        "chunks": [c.indexed_text(settings.chunk.title_in_text) for c in chunks][:limit],
        "sentences": sentences[:limit],
        "questions (10 words)": [" ".join(t.split()[:10]) for t in sentences[:limit]],
    }
    out = []
    for kind, texts in kinds.items():
        for engine, encoder in engines.items():
            start = time.perf_counter()
            encoder.encode(texts)
            seconds = time.perf_counter() - start
            out.append({"kind": kind, "texts": len(texts),
                        "words_mean": statistics.mean(len(t.split()) for t in texts),
                        "texts_per_s": len(texts) / seconds, "engine": engine, "load_1m": os.getloadavg()[0]})
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
                    sentences_per_article: int = 40, seed: int = 0, segment_chunks: int = 100_000
                    ) -> tuple[Path, Path]:
    """A corpus of recombined real sentences and its index, written through the store's segment writer.

    Articles are `sentences_per_article` sentences drawn from `pool` with a title made of another
    sentence's first words: 40 sentences (about 900 words, some 10 chunks) is news-sized (1,631 real news
    articles made 26,843 chunks, 16 each). Their sentence spans are known, so chunks are packed as
    chunking.chunk_article packs them (max_words, overlap) without running the sentence splitter; the
    pool keeps only sentences that pysbd keeps whole (`splitter_stable`), though inside an article it may
    still join or cut a few differently. Chunk vectors are random unit vectors (encoding is measured on
    its own). BM25 tokens are real: each pool sentence is tokenized once, and a chunk's tokens are its
    title's and its sentences' in order (the tokenizer is word-local, so that equals tokenizing the
    chunk's text). tests/test_store_scale.py checks that a real build of the same files, given the same
    sentence boundaries, makes the same chunks, articles, postings and MinHash signatures. Segments of
    `segment_chunks`; from the approximate-index threshold on, that index too. Returns (corpus folder,
    index folder); both are reused while they exist."""
    from assistant.collection import copies_annotator
    from assistant.index import store
    from assistant.index.build import identity
    from assistant.index.dense import build_quantized
    from assistant.index.lexical import tokenize
    from assistant.index.segment import Part, Segment, file_entry
    from assistant.ingest import parse_article

    settings = Settings()
    annotate = copies_annotator(settings.duplicates)
    pool = splitter_stable(pool, settings.chunk.max_words)
    name = f"synthetic-{target_chunks}-{len(pool)}-{sentences_per_article}-{seed}"
    folder = cache / "articles" / name
    mode = settings.store.sentence_vectors
    index = cache / "indexes" / f"{name}-w{settings.chunk.max_words}-s{mode}-f{store.FORMAT}-minhash"
    if (index / store.MANIFEST).exists():
        return folder, index
    shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(index, ignore_errors=True)
    index.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    with_sentences = settings.store.sentence_vectors in ("build", "pooled")
    max_words, overlap = settings.chunk.max_words, settings.chunk.overlap_sentences
    pool_words = np.fromiter((len(t.split()) for t in pool), dtype=np.int64, count=len(pool))
    pool_tokens: dict[int, list[str]] = {}

    def tokens_of(i: int) -> list[str]:
        found = pool_tokens.get(i)
        if found is None:
            found = pool_tokens[i] = tokenize(pool[i])
        return found

    buffer = np.zeros((0, dimensions), dtype=np.float32)

    def unit(rows: int) -> np.ndarray:
        """The next `rows` random unit vectors, cut from blocks drawn 65,536 at a time."""
        nonlocal buffer
        if len(buffer) < rows:
            block = rng.standard_normal((max(rows, 65_536), dimensions), dtype=np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            buffer = np.concatenate([buffer, block])
        out, buffer = buffer[:rows], buffer[rows:]
        return out

    # Sentence vectors (only answer selection reads them) are drawn from a bank of random unit vectors:
    # generating millions of fresh ones cost more than everything else here; chunk vectors, which the
    # approximate index is measured on, are all fresh.
    bank = unit(65_536).copy() if with_sentences else None
    records: dict[str, store.FileRecord] = {}
    entries: list[dict[str, Any]] = []
    chunks = articles = 0
    while chunks < target_chunks:
        part = Part(dimensions, with_sentences)
        # one segment: draw more articles' sentences than it needs at once (a chunk holds at least one
        # sentence, so as many articles as chunks is always enough), pack them, then write
        drawn = rng.integers(0, len(pool), size=(min(segment_chunks, target_chunks - chunks) + 1,
                                                 sentences_per_article + 1))
        in_part = 0
        for row in drawn:
            if in_part >= segment_chunks or chunks >= target_chunks:
                break
            ids = row[1:].tolist()
            sentences = [pool[i] for i in ids]
            title = " ".join(pool[int(row[0])].split()[:8]).rstrip(".,;:")
            source = f"{articles // 1000:04d}/{articles:07d}.txt"
            data = f"{title}\n\n{' '.join(sentences)}\n".encode()
            path = folder / source
            if articles % 1000 == 0:
                path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            text = data.decode()
            article = Article(source=source, title=title, text=text, body=((len(title) + 2, len(text) - 1),),
                              sha256=hashlib.sha256(data).hexdigest())
            if articles % 997 == 0 and parse_article(source, data) != article:  # what a scan would read
                raise AssertionError(f"synthetic article {source} is not what parse_article reads")
            spans, pos = [], len(title) + 2
            for sentence in sentences:
                spans.append((pos, pos + len(sentence)))
                pos += len(sentence) + 1
            lengths = pool_words[ids].tolist()
            title_tokens = tokenize(f"{article.title}.") if settings.chunk.title_in_text else []
            groups, tokens, k = [], [], 0
            while k < len(spans):
                j, words = k, 0
                while j < len(spans) and (j == k or words + lengths[j] <= max_words):
                    words += lengths[j]
                    j += 1
                groups.append((k, j - k))
                tokens.append([t for i in ids[k:j] for t in tokens_of(i)] if not title_tokens else
                              title_tokens + [t for i in ids[k:j] for t in tokens_of(i)])
                if j >= len(spans):
                    break
                k = max(k + 1, j - overlap)
            extras, data = annotate(article)  # what the build stores per article (MinHash signature)
            part.add_fresh(article, spans, groups, tokens, unit(len(groups)),
                           bank[rng.integers(0, len(bank), len(spans))] if bank is not None else None, extras, data)
            st = path.stat()
            records[source] = store.FileRecord(st.st_size, st.st_mtime_ns, article.sha256, (source,))
            in_part += len(groups)
            chunks += len(groups)
            articles += 1
        if len(part):
            entries.append(store.write_segment(index, part) | {"dead": []})
    ann = None
    if chunks >= settings.store.ann_threshold:
        ann_path = index / f"{store.new_name('ann')}.faiss"
        rows = build_quantized([Segment(index, e, dimensions).vectors for e in entries], ann_path)
        ann = file_entry(ann_path) | {"rows": rows, "segments": [e["name"] for e in entries]}
    store.publish(index, model=model_id, dimensions=dimensions, identity=identity(settings), segments=entries,
                  files=records, chunks=chunks, articles=articles, ann=ann)
    return folder, index


def splitter_stable(pool: Sequence[str], max_words: int) -> list[str]:
    """The pool's sentences that the chunker's sentence splitter keeps whole, put on one line: they start
    with a capital or a digit, end with . ! or ?, and are one sentence to pysbd, so an article joining
    them splits back into them (checked against a real build in tests/test_store_scale.py)."""
    from assistant.chunking import split_sentences

    out = []
    for text in dict.fromkeys(" ".join(t.split()) for t in pool):
        if len(text) < 2 or not (text[0].isupper() or text[0].isdigit()) or text[-1] not in ".!?":
            continue
        framed = f"{_FRAME} {text} {_FRAME}"  # between two plain sentences, as inside an article
        at = len(_FRAME) + 1
        if split_sentences(framed, (0, len(framed)), max_words) == [(0, len(_FRAME)), (at, at + len(text)),
                                                                    (at + len(text) + 1, len(framed))]:
            out.append(text)
    return out


_FRAME = "The report was published on Monday."


def with_mode(settings: Settings, mode: str) -> Settings:
    return replace(settings, store=replace(settings.store, sentence_vectors=mode))  # type: ignore[arg-type]
