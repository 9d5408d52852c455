"""Bring an index folder up to date with its corpus, embedding only articles that are new or changed.

Opening is cheap: a corpus file whose size and mtime match the files table is neither read nor hashed;
one whose stat differs is hashed, and re-parsed only if its content changed. New and changed articles
are chunked and embedded in batches; each finished batch is written to the index's staging folder
(store.Staging), so a build that is killed, interrupted or runs out of disk resumes where it stopped,
re-embedding at most the batch it was in. The update is then published as one new segment (plus dead
rows for what it replaces) with one atomic manifest switch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..chunking import chunk_article
from ..config import ARTICLE_SUFFIXES, ENGINES, SENTENCE_VECTORS, EncoderEngine, SentenceVectors, Settings
from ..errors import CorpusError, IndexLockedError, IndexStoreError
from ..ingest import corpus_files, read_file
from ..types import Article, IndexReport
from . import store
from .dense import build_quantized
from .encoder import Encoder, engine_of
from .lexical import TOKENIZER_VERSION, tokenize
from .segment import Part, Segment, file_entry
from .store import FileRecord, StoredIndex

log = logging.getLogger(__name__)

# Per-article derived data a build attaches (e.g. MinHash signatures): fixed-width arrays by name, and
# small JSON. Computed for new and changed articles only; copied with the rows of unchanged ones.
Annotate = Callable[[Article], tuple[dict[str, np.ndarray], dict[str, Any]]]


class BuildInterrupted(KeyboardInterrupt):
    """Ctrl+C during a build: the finished batches are kept in the index's staging folder."""

    def __init__(self, folder: Path, batches: int, texts: int) -> None:
        super().__init__(f"interrupted; {batches} finished batches ({texts} texts) are kept in {folder}")
        self.folder, self.batches, self.texts = folder, batches, texts


def identity(settings: Settings) -> dict[str, Any]:
    """What must match for a stored index to be used: the chunking, the tokenizer, the sentence vectors."""
    return settings.index_identity() | {"tokenizer": TOKENIZER_VERSION,
                                        "sentence_vectors": settings.store.sentence_vectors}


# Scanning the corpus -------------------------------------------------------------------------------
@dataclass
class Scan:
    """The corpus as it is now, against the files table of the index."""

    records: dict[str, FileRecord]
    read: dict[str, list[Article]]  # files whose content is new or changed, with their articles
    skipped: list[str]
    removed: list[str]  # files in the table that are gone

    @property
    def changed(self) -> bool:
        return bool(self.read or self.removed)

    def articles(self) -> int:
        return sum(len(r.sources) for r in self.records.values())


def scan(corpus: Path, known: dict[str, FileRecord], earlier: Scan | None = None) -> Scan:
    """Stat every corpus file; hash those whose stat differs from `known`; parse those whose hash does.

    `earlier`: a scan made moments ago (before taking the lock): files it read whose stat is still the
    same are not read again."""
    if not corpus.exists():
        raise CorpusError(f"corpus folder not found: {corpus}")
    if not corpus.is_dir():
        raise CorpusError(f"corpus is not a folder: {corpus}")
    records: dict[str, FileRecord] = {}
    read: dict[str, list[Article]] = {}
    skipped: list[str] = []
    prefix = str(corpus).rstrip(os.sep) + os.sep
    for path in corpus_files(corpus):
        name = str(path)  # a string prefix, not relative_to(): that is most of a 50k-file scan's time
        rel = name[len(prefix) :] if name.startswith(prefix) else path.relative_to(corpus).as_posix()
        old = known.get(rel)
        try:
            st = os.lstat(path)
        except OSError as exc:
            records[rel] = FileRecord(0, 0, "", (), exc.strerror or str(exc))
            skipped.append(f"{rel}: skipped, {records[rel].skipped}")
            continue
        seen = earlier.records.get(rel) if earlier is not None else None
        if old is not None and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns:
            record = old
        elif earlier is not None and seen is not None and rel in earlier.read \
                and (seen.size, seen.mtime_ns) == (st.st_size, st.st_mtime_ns):
            record, read[rel] = seen, earlier.read[rel]
        else:
            record = _read(corpus, path, rel, st, old, read)
        records[rel] = record
        skipped.extend(record.warnings)
        if record.skipped:
            skipped.append(f"{rel}: skipped, {record.skipped}")
            if rel in read or old is None or old.skipped != record.skipped or old.sha256 != record.sha256:
                log.warning("%s: skipped, %s", rel, record.skipped)
    if not any(r.sources for r in records.values()):
        detail = f" ({len(skipped)} skipped: {'; '.join(skipped[:3])})" if skipped else ""
        raise CorpusError(f"no readable article ({', '.join(ARTICLE_SUFFIXES)} files) in {corpus}{detail}")
    return Scan(records, read, skipped, [p for p in known if p not in records])


def _read(corpus: Path, path: Path, rel: str, st: os.stat_result, old: FileRecord | None,
          read: dict[str, list[Article]]) -> FileRecord:
    """A file whose stat changed: the old record if its bytes are the same, else its articles parsed."""
    sha = ""
    try:
        if not path.is_symlink():
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            if old is not None and old.sha256 == sha:
                return FileRecord(st.st_size, st.st_mtime_ns, sha, old.sources, old.skipped, old.warnings)
        notes: list[str] = []
        articles = read_file(corpus, path, notes)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return FileRecord(st.st_size, st.st_mtime_ns, sha, (), reason)
    read[rel] = articles
    for note in notes:
        log.warning("%s", note)
    return FileRecord(st.st_size, st.st_mtime_ns, sha, tuple(a.source for a in articles), warnings=tuple(notes))


# Opening -------------------------------------------------------------------------------------------
def open_index(
    corpus: Path, folder: Path, settings: Settings, encoder: Encoder, progress: bool | Callable[[Status], None] = False,
    lock_wait: float = store.LOCK_WAIT_SECONDS, annotate: Annotate | None = None, refresh: bool = False,
) -> tuple[StoredIndex, store.ArticleMap, IndexReport]:
    """Load the index at `folder`, updating it first if the corpus or the settings changed.

    An index that is current is only read, so it opens from a read-only folder. Updating takes the
    build lock (waiting up to `lock_wait` seconds for another builder) and publishes atomically.
    `progress`: True draws a progress line on stderr; a function is called with each Status.
    `refresh`: also record the new size and mtime of files that were touched but not changed (so the
    next open need not hash them); a plain open never writes to a current index (the shipped one
    included), `assistant index` does."""
    old, problem = _load_usable(folder, settings, encoder)
    found = scan(corpus, old.files if old is not None else {})  # a bad corpus fails here, before any write
    if old is not None and not found.changed:
        if refresh and found.records != old.files:
            _refresh_table(folder, old, found)
        return old, old.articles, _report(old, found, 0, len(old.sources()), False)
    try:
        with store.build_lock(folder, lock_wait):
            fresh, problem = _load_usable(folder, settings, encoder)  # another builder may have finished
            found = scan(corpus, fresh.files if fresh is not None else {}, found)
            if fresh is not None and not found.changed:
                return fresh, fresh.articles, _report(fresh, found, 0, len(fresh.sources()), False)
            index, encoded, reused = Builder(folder, settings, encoder, fresh, found, progress, annotate).run()
    except IndexLockedError:
        raise
    except IndexStoreError as exc:
        if problem:  # the old index cannot be used either: say so, and what to run
            raise IndexStoreError(
                f"the index at {folder} cannot be used ({problem}) and cannot be rebuilt: {exc}. "
                f"Run `assistant index --corpus {corpus} --index {folder}` once it is writable."
            ) from exc
        raise
    return index, index.articles, _report(index, found, encoded, reused, bool(problem))


def _report(index: StoredIndex, found: Scan, encoded: int, reused: int, rebuilt: bool) -> IndexReport:
    return IndexReport(len(index.sources()), index.n_chunks, encoded, reused, tuple(found.skipped), rebuilt)


def _refresh_table(folder: Path, index: StoredIndex, found: Scan) -> None:
    """Files were touched but not changed: record their new stat, so the next open hashes nothing.
    Best effort: a read-only folder or a busy lock leaves the table as it is."""
    try:
        with store.build_lock(folder, 0.0):
            current = store.load(folder)
            if current.generation != index.generation:
                return
            manifest = current.manifest
            store.publish(folder, model=current.model, dimensions=current.dimensions, identity=current.identity,
                          segments=manifest["segments"], files=found.records, chunks=current.n_chunks,
                          articles=len(current.sources()), ann=manifest.get("ann"))
    except (IndexStoreError, OSError) as exc:
        log.info("index at %s: files table not refreshed (%s)", folder, exc)


@dataclass(frozen=True)
class StoredBuild:
    """How the index in a folder was built, where it matters to opening it: the engine its vectors need
    (None: any fp32 engine) and its sentence-vector mode (None: no readable manifest)."""

    engine: EncoderEngine | None = None
    sentence_vectors: SentenceVectors | None = None


def stored_build(folder: Path) -> StoredBuild:
    """Read from the manifest at `folder`, so a front end opens an index built with `--engine onnx-int8`
    or `--sentence-vectors lazy` the way it was built instead of rebuilding it with the defaults."""
    try:
        manifest = json.loads((folder / store.MANIFEST).read_text(encoding="utf-8"))
        mode = manifest.get("identity", {}).get("sentence_vectors")
        engine = engine_of(str(manifest["model"]))
        return StoredBuild(engine if engine in ENGINES else None,  # type: ignore[arg-type]
                           mode if mode in SENTENCE_VECTORS else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return StoredBuild()


def _load_usable(folder: Path, settings: Settings, encoder: Encoder) -> tuple[StoredIndex | None, str]:
    """The stored index if it is whole and was built the way we would build it, else None and why."""
    if not (folder / store.MANIFEST).exists():
        return None, ""
    try:
        index = store.load(folder)
    except IndexLockedError:
        raise
    except IndexStoreError as exc:
        problem = str(exc)
    else:
        if index.model != encoder.model_id:
            problem = f"it was built with the model {index.model}, not {encoder.model_id}"
        elif index.identity != identity(settings):
            problem = f"it was built with other chunk or tokenizer settings ({index.identity})"
        else:
            return index, ""
    log.warning("index at %s: %s; rebuilding it from the articles", folder, problem)
    return None, problem


# Building ------------------------------------------------------------------------------------------
@dataclass
class Status:
    """Where a build is: articles and texts embedded so far of those it has to embed."""

    articles_done: int
    articles_total: int
    texts_done: int
    seconds: float
    resumed_texts: int = 0  # texts found in finished batches of an earlier, interrupted build

    @property
    def rate(self) -> float:
        return self.texts_done / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        if not self.articles_done or self.articles_done >= self.articles_total:
            return None
        return self.seconds / self.articles_done * (self.articles_total - self.articles_done)

    def line(self) -> str:
        eta = self.eta_seconds
        rest = f", ETA {_duration(eta)}" if eta is not None else ""
        resumed = f" (+{self.resumed_texts:,} resumed)" if self.resumed_texts else ""
        return (f"indexing: {self.articles_done:,}/{self.articles_total:,} articles, {self.texts_done:,} texts"
                f"{resumed} embedded, {self.rate:.1f} texts/s{rest}")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class _Printer:
    """Draws the Status on one terminal line (stderr), at most a few times a second."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, status: Status) -> None:
        now = time.monotonic()
        final = status.articles_done >= status.articles_total
        if final or now - self._last >= 0.25:
            self._last = now
            sys.stderr.write("\r\x1b[2K" + status.line() + ("\n" if final else ""))
            sys.stderr.flush()


@dataclass
class _Todo:
    article: Article
    spans: list[tuple[int, int]] = field(default_factory=list)
    groups: list[tuple[int, int]] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # chunk texts, then sentence texts (if embedded alone)
    pool_spans: list[list[tuple[int, int]]] = field(default_factory=list)  # each chunk's sentences in its text
    pooled: list[np.ndarray | None] = field(default_factory=list)


class Builder:
    """One update of an index: which rows stay, which are copied, which are embedded, then publish."""

    def __init__(self, folder: Path, settings: Settings, encoder: Encoder, old: StoredIndex | None, found: Scan,
                 progress: bool | Callable[[Status], None], annotate: Annotate | None) -> None:
        self.folder, self.settings, self.encoder, self.old, self.found = folder, settings, encoder, old, found
        self.annotate = annotate
        self.report: Callable[[Status], None] | None = _Printer() if progress is True else (progress or None)
        self.mode = settings.store.sentence_vectors
        self.with_sentences = self.mode in ("build", "pooled")  # sentence vectors kept in the index
        # pooled from the chunk pass's token embeddings, when the encoder can (else embedded as in "build")
        self.pooled = self.mode == "pooled" and hasattr(encoder, "encode_spans")
        self.dims = old.dimensions if old is not None else encoder.dimensions
        key = hashlib.sha256(json.dumps([store.FORMAT, encoder.model_id, identity(settings)]).encode()).hexdigest()
        self.staging = store.Staging(folder, key[:16], self.dims)

    def run(self) -> tuple[StoredIndex, int, int]:
        """Publish the updated index; returns it, how many texts were embedded, how many articles reused."""
        old, found = self.old, self.found
        changed = set(found.read) | set(found.removed)
        # Sources that stay as they are: those of unchanged files, and unchanged articles of changed files.
        stay: set[str] = set()
        if old is not None:
            stay = {s for path, r in found.records.items() if path not in changed for s in r.sources}
            for articles in found.read.values():
                stay |= {a.source for a in articles if a.source in old.articles and old.sha(a.source) == a.sha256}
        new = [a for path in sorted(found.read) for a in found.read[path] if a.source not in stay]
        reusable: dict[str, tuple[Segment, int]] = {}
        if old is not None:
            for source in old.sources():
                segment, row = old.where(source)
                reusable.setdefault(segment.sha(row), (segment, row))
        for batch in self.staging.open():
            for row, sha in enumerate(batch.shas()):
                reusable.setdefault(sha, (batch, row))
        resumed = sum(b.n_chunks + (b.n_sentences if self.with_sentences and not self.pooled else 0)
                      for b in self.staging.batches)
        todo = [a for a in new if a.sha256 not in reusable]
        encoded = self._embed(todo, reusable, resumed)
        return self._publish(new, stay, reusable), encoded, len(stay) + len(new) - len(todo)

    def _embed(self, todo: list[Article], reusable: dict[str, tuple[Segment, int]], resumed: int) -> int:
        """Chunk and embed `todo` in batches, each written to staging as soon as it is embedded."""
        start = time.monotonic()
        done_articles = done_texts = 0
        unique = list({a.sha256: a for a in todo}.values())  # the same text under two names: embedded once
        status = Status(0, len(unique), 0, 0.0, resumed)
        if self.report and unique:
            self.report(status)
        try:
            for batch in self._batches(unique):
                chunk_vectors, sentence_vectors, embedded = self._vectors(batch)
                part = Part(self.dims, self.with_sentences)
                for item, rows, sentences in zip(batch, chunk_vectors, sentence_vectors, strict=True):
                    extras, data = self.annotate(item.article) if self.annotate else ({}, {})
                    part.add_fresh(item.article, item.spans, item.groups, item.tokens, rows, sentences, extras, data)
                segment = self.staging.add(part)
                for row, sha in enumerate(segment.shas()):
                    reusable.setdefault(sha, (segment, row))
                done_articles += len(batch)
                done_texts += embedded
                if self.report:
                    self.report(Status(done_articles, len(unique), done_texts, time.monotonic() - start, resumed))
        except KeyboardInterrupt:
            raise BuildInterrupted(self.folder, len(self.staging.batches), done_texts + resumed) from None
        return done_texts

    def _vectors(self, batch: list[_Todo]) -> tuple[list[np.ndarray], list[np.ndarray | None], int]:
        """Chunk vectors and sentence vectors (None when not kept) of each article of a batch, and how
        many texts that embedded."""
        texts = [t for item in batch for t in item.texts]
        spans = [s for item in batch for s in item.pool_spans]
        if self.pooled and texts:
            vectors, pooled = self.encoder.encode_spans(texts, spans)  # type: ignore[attr-defined]
        else:
            vectors = self.encoder.encode(texts) if texts else np.zeros((0, self.dims), np.float32)
            pooled = []
        chunk_vectors: list[np.ndarray] = []
        sentence_vectors: list[np.ndarray | None] = []
        missing: list[tuple[_Todo, int]] = []
        at = 0
        for item in batch:
            n = len(item.groups)
            chunk_vectors.append(vectors[at : at + n])
            if not self.with_sentences:
                sentence_vectors.append(None)
            elif not self.pooled:
                sentence_vectors.append(vectors[at + n : at + n + len(item.spans)])
                n += len(item.spans)
            else:  # each sentence from the first chunk it appears in whole, else embedded alone
                own: list[np.ndarray | None] = [None] * len(item.spans)
                for c, (first, _) in enumerate(item.groups):
                    for k, vector in enumerate(pooled[at + c]):
                        if own[first + k] is None:
                            own[first + k] = vector
                missing.extend((item, k) for k, v in enumerate(own) if v is None)
                item.pooled = own
                sentence_vectors.append(None)
            at += n
        embedded = len(texts)
        if self.pooled:
            alone = self.encoder.encode([i.article.text[i.spans[k][0] : i.spans[k][1]] for i, k in missing]) \
                if missing else np.zeros((0, self.dims), np.float32)
            for (item, k), vector in zip(missing, alone, strict=True):
                item.pooled[k] = vector
            embedded += len(missing)
            sentence_vectors = [np.stack([v for v in i.pooled if v is not None]) if i.pooled
                                else np.zeros((0, self.dims), np.float32) for i in batch]
        return chunk_vectors, sentence_vectors, embedded

    def _batches(self, articles: Sequence[Article]) -> Iterator[list[_Todo]]:
        """Articles chunked, grouped until a batch holds at least `batch_texts` texts to embed."""
        batch: list[_Todo] = []
        size = 0
        for article in articles:
            item = self._chunk(article)
            batch.append(item)
            size += len(item.texts)
            if size >= self.settings.store.batch_texts:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    def _chunk(self, article: Article) -> _Todo:
        item = _Todo(article)
        index: dict[int, int] = {}
        for chunk in chunk_article(article, self.settings.chunk, 0):
            for span in chunk.sentences:
                if span[0] not in index:
                    index[span[0]] = len(item.spans)
                    item.spans.append(span)
            item.groups.append((index[chunk.sentences[0][0]], len(chunk.sentences)))
            text = chunk.indexed_text(self.settings.chunk.title_in_text)
            item.tokens.append(tokenize(text))
            item.texts.append(text)
            at = len(text) - len(chunk.text)  # where the sentences start, after the title
            own = []
            for start, end in chunk.sentences:
                own.append((at, at + end - start))
                at += end - start + 1
            item.pool_spans.append(own)
        if self.with_sentences and not self.pooled:
            item.texts.extend(article.text[s:e] for s, e in item.spans)
        return item

    def _publish(self, new: list[Article], stay: set[str], reusable: dict[str, tuple[Segment, int]]) -> StoredIndex:
        """One new segment for `new` (copied from staging or from rows of the old index) and the old
        rows of everything else that changed marked dead; or, past the thresholds, one compacted
        segment of every live row."""
        old, s = self.old, self.settings.store
        segments: list[dict[str, Any]] = []
        if old is not None:
            for segment, dead in zip(old.segments, old.dead, strict=True):
                rows = set(dead.tolist()) | {r for r, src in enumerate(segment.sources) if src not in stay}
                segments.append(segment.entry | {"dead": sorted(rows)})
        def chunks_of(segment: Segment, row: int) -> int:
            return int(segment.articles[row, 1])

        staying = sum(chunks_of(*old.where(src)) for src in stay) if old is not None else 0
        new_chunks = sum(chunks_of(*reusable[a.sha256]) for a in new)
        physical = sum(e["chunks"] for e in segments)
        dead_after = physical - staying
        compact = old is not None and (len(segments) + 1 > s.max_segments
                                       or dead_after > s.compact_dead_share * (physical + new_chunks))
        part = Part(self.dims, self.with_sentences)
        if compact and old is not None:
            for segment, entry in zip(old.segments, segments, strict=True):
                gone = set(entry["dead"])
                for row in range(segment.n_articles):
                    if row not in gone:
                        part.add_copy(segment, row)
            segments = []
        for article in new:
            segment, row = reusable[article.sha256]
            part.add_copy(segment, row, rename=article)
        written: list[str] = []
        try:
            if len(part):
                entry = store.write_segment(self.folder, part)
                written = store.segment_files(entry)
                segments.append(entry | {"dead": []})
            segments = [e for e in segments if len(e["dead"]) < e["articles"]]  # wholly dead: dropped
            ann = self._ann(segments, staying + new_chunks, written)
            store.publish(self.folder, model=self.encoder.model_id, dimensions=self.dims,
                          identity=identity(self.settings), segments=segments, files=self.found.records,
                          chunks=staying + new_chunks, articles=len(stay) + len(new), ann=ann, written=written)
        except OSError as exc:
            for name in written:
                (self.folder / name).unlink(missing_ok=True)
            raise store.write_error(self.folder, exc) from exc
        index = store.load(self.folder)
        self.staging.clear()
        return index

    def _ann(self, segments: list[dict[str, Any]], live: int, written: list[str]) -> dict[str, Any] | None:
        """The approximate index to publish: none below the threshold, the old one while the rows added
        since it was built stay under a tenth of it (they are searched exactly), else a new one."""
        s = self.settings.store
        if live < s.ann_threshold:
            return None
        names = [e["name"] for e in segments]
        old = self.old.manifest.get("ann") if self.old is not None else None
        if old and names[: len(old["segments"])] == old["segments"]:
            uncovered = sum(e["chunks"] for e in segments[len(old["segments"]) :])
            if uncovered <= 0.1 * old["rows"]:
                return dict(old)
        name = f"{store.new_name('ann')}.faiss"
        written.append(name)
        log.info("index at %s: building the approximate index over %d chunks", self.folder, live)
        vectors = [Segment(self.folder, e, self.dims).vectors for e in segments]
        rows = build_quantized(vectors, self.folder / name)
        return file_entry(self.folder / name) | {"rows": rows, "segments": names}
