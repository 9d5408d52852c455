"""Speed and memory: index build throughput against bare model.encode, warm ask latency, time to the
first answer from a cold start, and peak memory, at several corpus sizes.

Each corpus size is measured in its own child process (`python -m benchmarks speed-scale ...`), so its
peak resident memory (getrusage ru_maxrss) is that scale's alone: model, index and query work.
"""

from __future__ import annotations

import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant import Assistant, Settings
from assistant.index.encoder import SentenceEncoder

from .data import read_jsonl
from .metrics import percentile

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


class TimedEncoder:
    """The real encoder, remembering what it embedded and how long model.encode took."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.texts: list[str] = []
        self.seconds = 0.0

    @property
    def dimensions(self) -> int:
        return self.encoder.dimensions

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        start = time.perf_counter()
        out = self.encoder.encode(texts, progress=progress)
        self.seconds += time.perf_counter() - start
        self.texts.extend(texts)
        return out


def build_throughput(corpus: Path, encoder: SentenceEncoder, settings: Settings | None = None) -> dict[str, Any]:
    """Index `corpus` from scratch (chunk, tokenize, embed chunks AND sentences, save) against
    model.encode alone on exactly the texts the index embedded."""
    settings = settings or Settings()
    encoder.encode(["warm up the model"])
    timed = TimedEncoder(encoder)
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        start = time.perf_counter()
        report = Assistant(corpus=corpus, index=Path(tmp) / "index", settings=settings, encoder=timed).open()
        build = time.perf_counter() - start
    start = time.perf_counter()
    encoder.model.encode(list(timed.texts), batch_size=settings.batch_size, normalize_embeddings=True,
                         convert_to_numpy=True, show_progress_bar=False)
    bare = time.perf_counter() - start
    return {
        "articles": report.articles,
        "chunks": report.chunks,
        "sentences": len(timed.texts) - report.chunks,
        "texts": len(timed.texts),
        "build_s": build,
        "encode_in_build_s": timed.seconds,  # model time inside the build; the rest is chunking, BM25, saving
        "bare_encode_s": bare,
        "build_texts_per_s": len(timed.texts) / build,
        "build_chunks_per_s": report.chunks / build,
        "bare_texts_per_s": len(timed.texts) / bare,
        "overhead": build / bare - 1,
    }


def ask_latency(assistant: Assistant, questions: Sequence[str], warmup: int = 3) -> dict[str, Any]:
    """Warm latency of Assistant.ask (query encoding, both retrievers, fusion, answer selection)."""
    for q in questions[:warmup]:
        assistant.ask(q)
    times, lexical = [], []
    for q in questions:
        start = time.perf_counter()
        assistant.ask(q)
        times.append(time.perf_counter() - start)
    encode = []
    for q in questions:
        start = time.perf_counter()
        assistant.encoder.encode([q])
        encode.append(time.perf_counter() - start)
    retriever: Any = assistant.loaded.retriever
    for q in questions:
        _, tokens = assistant._query(q)
        start = time.perf_counter()
        retriever.lexical.scores(tokens)
        lexical.append(time.perf_counter() - start)
    return {
        "questions": len(questions),
        "ask_p50_ms": 1000 * percentile(times, 50),
        "ask_p95_ms": 1000 * percentile(times, 95),
        "bm25_p50_ms": 1000 * percentile(lexical, 50),
        "encode_p50_ms": 1000 * percentile(encode, 50),  # the question's embedding alone
    }


def rank_bm25_latency(assistant: Assistant, questions: Sequence[str]) -> dict[str, Any]:
    """rank-bm25's get_scores (the reference implementation) on the same chunks, for comparison."""
    from rank_bm25 import BM25Okapi

    stored_tokens = [list(t) for t in _stored_tokens(assistant)]
    reference = BM25Okapi(stored_tokens)
    times = []
    for q in questions:
        _, tokens = assistant._query(q)
        start = time.perf_counter()
        reference.get_scores(tokens)
        times.append(time.perf_counter() - start)
    return {"rank_bm25_p50_ms": 1000 * percentile(times, 50)}


def _stored_tokens(assistant: Assistant) -> list[list[str]]:
    """The BM25 tokens of every chunk, as the index tokenized them."""
    from assistant.index import store
    from assistant.index.lexical import tokenize

    with_title = assistant.settings.chunk.title_in_text
    return [tokenize(c.indexed_text(with_title)) for c in store.load(assistant.index_dir).chunks]


def first_answer_seconds(corpus: Path, index: Path, question: str, runs: int = 3) -> float:
    """Median wall time of `python -m assistant ask` from launch to exit (the index already built)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assistant", "ask", "--corpus", str(corpus), "--index", str(index),
                        question], check=False, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's VmHWM belongs to the process image and starts afresh at exec; getrusage's ru_maxrss does
    not (a child started by a 2 GB parent reports at least 2 GB), so it is only the fallback."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # reported in kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def sentence_pool(scifact: Path | None, squad: Path | None) -> list[str]:
    """Real sentences to recombine: SciFact abstracts (pre-split) and SQuAD paragraphs (split on . ! ?)."""
    pool: list[str] = []
    if scifact is not None and (scifact / "corpus_sentences.jsonl").exists():
        for row in read_jsonl(scifact / "corpus_sentences.jsonl"):
            pool.extend(s.strip() for s in row["sentences"] if len(s.split()) >= 4)
    if squad is not None and (squad / "dev-v1.1.passages.jsonl").exists():
        for row in read_jsonl(squad / "dev-v1.1.passages.jsonl"):
            pool.extend(s.strip() for s in _SENTENCE_END.split(row["text"]) if len(s.split()) >= 4)
    return pool


def synthetic_index(cache: Path, pool: Sequence[str], target_chunks: int, model_id: str, dimensions: int = 384,
                    sentences_per_article: int = 9, seed: int = 0) -> tuple[Path, Path]:
    """A corpus of recombined real sentences and its index (benchmarks.store.synthetic_index)."""
    from .store import synthetic_index as build

    return build(cache, pool, target_chunks, model_id, dimensions, sentences_per_article, seed)


def run_child(args: list[str]) -> dict[str, Any]:
    """Run one `speed-scale` measurement in a fresh interpreter and return its JSON."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "speed-scale", *args], check=True,
                          capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
