"""Opening the assistant on a benchmark corpus, through the project's own code path."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant import Assistant, Settings
from assistant.config import DEFAULT_INDEX, ChunkSettings, RetrievalSettings
from assistant.core import clean_question
from assistant.index.encoder import INT8_ENGINE, Encoder, SentenceEncoder, make_encoder

from .data import CachedEncoder

log = logging.getLogger("benchmarks")
TORCH = "sentence-transformers"
SEED_QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "data" / "seed_questions.json"


def seed_questions() -> list[str]:
    """Every question of the seed file (answerable, on-topic unanswerable, out of corpus), as written."""
    data = json.loads(SEED_QUESTIONS.read_text(encoding="utf-8"))
    return [q["q"] for group in data.values() if isinstance(group, list) for q in group
            if isinstance(q, dict) and "q" in q]


def shipped_index_copy(folder: Path) -> Path:
    """A private copy of the shipped embeddings/ at `folder` (made once), so a benchmark never writes the real one."""
    if not folder.exists():
        shutil.copytree(DEFAULT_INDEX, folder, ignore=shutil.ignore_patterns(".lock"))
    return folder


@lru_cache(maxsize=1)
def real_encoder() -> SentenceEncoder:
    """The shipped model, loaded once per process."""
    return SentenceEncoder(Settings().model_path)


@lru_cache(maxsize=4)
def engine_encoder(engine: str) -> Encoder:
    """The shipped model under `engine` (config.ENGINES), loaded once per process."""
    return real_encoder() if engine == TORCH else make_encoder(Settings().model_path, Settings().batch_size, engine)


def cached_encoder(cache: Path, engine: str = TORCH) -> CachedEncoder:
    """The encoder of `engine` with its vectors remembered on disk (per model_id: an engine with vectors
    of its own, onnx-int8, keeps its own)."""
    return CachedEncoder(engine_encoder(engine), cache / "vectors")


def with_settings(settings: Settings, *, max_words: int | None = None, candidates: int | None = None,
                  fusion: str | None = None, dense_weight: float | None = None) -> Settings:
    """`settings` with some chunking or retrieval values replaced (the rest as shipped)."""
    chunk: ChunkSettings = settings.chunk if max_words is None else replace(settings.chunk, max_words=max_words)
    r: RetrievalSettings = settings.retrieval
    if candidates is not None:
        r = replace(r, candidates=candidates)
    if fusion is not None:
        r = replace(r, fusion=fusion)  # type: ignore[arg-type]
    if dense_weight is not None:
        r = replace(r, dense_weight=dense_weight)
    return replace(settings, chunk=chunk, retrieval=r)


class ChunksOnlyEncoder:
    """Real vectors for chunk texts, zero vectors for everything else (the sentences).

    For retrieval-only corpora: search reads chunk vectors only, and sentence vectors (answer selection)
    cost as much to embed again as the chunks. An index built this way is kept in its own folder
    (suffix `-chunks`) and is never used to measure answers."""

    def __init__(self, encoder: Encoder, chunk_texts: set[str]) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.chunk_texts = chunk_texts

    @property
    def dimensions(self) -> int:
        return self.encoder.dimensions

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        rows = [i for i, t in enumerate(texts) if t in self.chunk_texts or len(texts) <= 8]  # queries are real
        if rows:
            out[rows] = self.encoder.encode([texts[i] for i in rows], progress=progress)
        return out


def chunk_texts(corpus: Path, settings: Settings) -> set[str]:
    """What the index will embed as chunks, from the project's own reader and chunker."""
    from assistant.chunking import chunk_article
    from assistant.ingest import read_corpus

    articles, _ = read_corpus(corpus)
    return {c.indexed_text(settings.chunk.title_in_text) for a in articles for c in chunk_article(a, settings.chunk, 0)}


def index_dir(corpus: Path, cache: Path, settings: Settings, chunks_only: bool = False) -> Path:
    name = f"{corpus.name}-w{settings.chunk.max_words}-o{settings.chunk.overlap_sentences}"
    if settings.encoder_engine == INT8_ENGINE:  # vectors of its own: never overwrite the reference's index
        name += f"-{settings.encoder_engine}"
    return cache / "indexes" / (name + ("-chunks" if chunks_only else ""))


def open_assistant(corpus: Path, cache: Path, settings: Settings, encoder: Encoder,
                   chunks_only: bool = False) -> Assistant:
    """The assistant on `corpus`, with its index under the cache (one per chunk size), opened.

    `chunks_only`: for retrieval benchmarks, sentence vectors are left zero (see ChunksOnlyEncoder)."""
    index = index_dir(corpus, cache, settings, chunks_only)
    if chunks_only and not (index / "manifest.json").exists():
        builder = ChunksOnlyEncoder(encoder, chunk_texts(corpus, settings))
        Assistant(corpus=corpus, index=index, settings=settings, encoder=builder).open()
    assistant = Assistant(corpus=corpus, index=index, settings=settings, encoder=encoder)
    log.info("opening %s (index %s)", corpus.name, index)
    report = assistant.open(progress=False)
    log.info("%s: %d articles, %d chunks (%d texts embedded)", corpus.name, report.articles, report.chunks,
             report.encoded_texts)
    return assistant


def prime_questions(assistant: Assistant, questions: Sequence[str]) -> None:
    """Embed the questions in batches first when the encoder caches (CachedEncoder.prime): a benchmark
    speed-up only, one batched encoding instead of thousands of single calls; warm ask latency with the
    real encoder is measured in the speed section."""
    prime = getattr(assistant.encoder, "prime", None)
    if prime is not None:
        prime([clean_question(q) for q in questions])
