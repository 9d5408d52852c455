"""The index folder on disk: manifest.json naming immutable segments, a table of corpus files, staging.

    manifest.json          the commit point: model, dimensions, settings identity, the segments in order
                           (each file with its size and sha256), the dead articles of each segment, the
                           files table and the approximate index, if any
    seg-<id>.<kind>        a segment's files (segment.py): articles, texts, chunks, sentences, vectors,
                           BM25 postings; never changed once written
    files-<id>.json        per corpus file: size, mtime_ns, sha256, the sources it produced (or why it
                           was skipped), so an unchanged file is neither read nor hashed on open
    ann-<id>.faiss         the approximate (8-bit quantized) index over the chunk vectors of large indexes
    .staging/<key>/batch-* finished batches of a build in progress, each committed by its batch.json:
                           what a killed or interrupted build resumes from
    .lock                  one builder at a time (flock: a killed builder's lock goes with it)

An update writes a new segment for the new and changed articles, marks the old rows of changed or
deleted ones dead, and switches the manifest (an atomic rename); when dead rows pass a share of the
index or segments pile up, the live rows are compacted into one segment. A crash at any moment leaves
either the old or the new manifest whole, and both name only files that exist; files no manifest names
are removed by the next successful save.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, overload

import numpy as np

from ..config import StoreSettings
from ..errors import IndexLockedError, IndexStoreError
from ..types import Article, ArticleInfo, Chunk
from .dense import Ann, VectorPart, read_quantized
from .lexical import PostingsPart
from .segment import Part, Segment, SegmentError, check_file

FORMAT = 2
MANIFEST = "manifest.json"
LOCK = ".lock"
STAGING = ".staging"
log = logging.getLogger(__name__)
LOCK_WAIT_SECONDS = 10.0  # how long a second builder waits for the first before giving up
_LOAD_ATTEMPTS = 3
_OWN_PREFIXES = ("seg-", "files-", "ann-", "vectors-", "chunks-", "derived-")  # vectors-/chunks-: format 1 leftovers


@dataclass(frozen=True)
class FileRecord:
    """What the index knows of one corpus file: enough to tell, from a stat, that it has not changed."""

    size: int
    mtime_ns: int
    sha256: str
    sources: tuple[str, ...]  # the articles it produced (one for .txt/.md, many for a feed or export)
    skipped: str | None = None  # why it gave no article, shown again on every open
    warnings: tuple[str, ...] = ()  # what was read but not usable (a broken line of an export), likewise

    def to_json(self) -> list[Any]:
        return [self.size, self.mtime_ns, self.sha256, list(self.sources), self.skipped, list(self.warnings)]

    @classmethod
    def from_json(cls, row: list[Any]) -> FileRecord:
        size, mtime_ns, sha, sources, skipped, *rest = row
        warnings = tuple(str(w) for w in rest[0]) if rest else ()
        return cls(int(size), int(mtime_ns), str(sha), tuple(str(s) for s in sources), skipped, warnings)


@dataclass
class _Live:
    """Which rows of one segment are live, and their ids in the index (ids count live rows only)."""

    offset: int  # id of the segment's first live row
    count: int
    rows: np.ndarray | None  # local rows of the live ones (None: all rows, id = offset + row)
    ids: np.ndarray | None  # id of each local row, -1 if dead (None: all rows live)

    @classmethod
    def of(cls, offset: int, dead: np.ndarray | None, size: int) -> _Live:
        if dead is None or not dead.any():
            return cls(offset, size, None, None)
        rows = np.flatnonzero(~dead)
        ids = np.full(size, -1, dtype=np.int64)
        ids[rows] = offset + np.arange(len(rows))
        return cls(offset, len(rows), rows, ids)

    def local(self, i: int) -> int:
        return i - self.offset if self.rows is None else int(self.rows[i - self.offset])

    def id(self, local: int) -> int:
        return self.offset + local if self.ids is None else int(self.ids[local])


class StoredIndex:
    """An opened index: its segments (memory-mapped) seen as one run of live chunks and sentences.

    Chunk ids and sentence rows count live rows, segment after segment; nothing is read into memory
    but the article table and sources: chunks, texts and vectors are read when asked for."""

    def __init__(self, folder: Path, manifest: dict[str, Any], segments: list[Segment],
                 dead: list[np.ndarray], files: dict[str, FileRecord]) -> None:
        self.folder = folder
        self.manifest = manifest
        self.model = str(manifest["model"])
        self.dimensions = int(manifest["dimensions"])
        self.identity: dict[str, Any] = manifest["identity"]
        self.generation = str(manifest["generation"])
        self.segments = segments
        self.dead = dead  # per segment: sorted local article rows that are no longer in the index
        self.files = files
        self._chunks: list[_Live] = []
        self._sentences: list[_Live] = []
        self._where: dict[str, tuple[int, int]] = {}
        chunk_id = sentence_id = 0
        for si, (segment, dead_rows) in enumerate(zip(segments, dead, strict=True)):
            dead_articles = np.zeros(segment.n_articles, dtype=bool)
            dead_articles[dead_rows] = True
            chunk_dead = dead_articles[np.asarray(segment.chunks[:, 0])] if len(dead_rows) else None
            sentence_dead = dead_articles[np.asarray(segment.sentences[:, 0])] if len(dead_rows) else None
            self._chunks.append(_Live.of(chunk_id, chunk_dead, segment.n_chunks))
            self._sentences.append(_Live.of(sentence_id, sentence_dead, segment.n_sentences))
            chunk_id += self._chunks[-1].count
            sentence_id += self._sentences[-1].count
            for row, source in enumerate(segment.sources):
                if not dead_articles[row]:
                    if source in self._where:
                        raise SegmentError(f"{source} is in the index twice")
                    self._where[source] = (si, row)
        self.n_chunks = chunk_id
        self.n_sentences = sentence_id
        self._chunk_starts = np.asarray([c.offset for c in self._chunks], dtype=np.int64)
        self._sentence_starts = np.asarray([s.offset for s in self._sentences], dtype=np.int64)
        self.article = lru_cache(maxsize=512)(self._article)  # type: ignore[method-assign]

    # Articles ---------------------------------------------------------------------------------------
    @property
    def articles(self) -> ArticleMap:
        return ArticleMap(self)

    def sources(self) -> list[str]:
        return list(self._where)

    def where(self, source: str) -> tuple[Segment, int]:
        si, row = self._where[source]
        return self.segments[si], row

    def _article(self, source: str) -> Article:
        segment, row = self.where(source)
        return segment.article(row)

    def article(self, source: str) -> Article:  # replaced by an lru_cache per instance in __init__
        return self._article(source)

    def sha(self, source: str) -> str:
        segment, row = self.where(source)
        return segment.sha(row)

    def info(self, source: str) -> ArticleInfo:
        """The article's metadata without reading its text."""
        segment, row = self.where(source)
        meta = json.loads(segment.meta(row).decode("utf-8"))
        return ArticleInfo(source, meta.get("title") or source, meta.get("date"), meta.get("outlet"), meta.get("url"),
                           meta.get("author"))

    def chunk_ids(self, source: str) -> np.ndarray:
        """The chunk ids of one article, in order (an article's chunks are consecutive live rows)."""
        si, row = self._where[source]
        segment = self.segments[si]
        first, count = int(segment.articles[row, 0]), int(segment.articles[row, 1])
        start = self._chunks[si].id(first) if count else 0
        return np.arange(start, start + count, dtype=np.int64)

    def article_data(self, source: str) -> dict[str, Any]:
        segment, row = self.where(source)
        return segment.data(row)

    def article_array(self, name: str) -> tuple[list[str], np.ndarray]:
        """A per-article array over the live articles: (sources, rows in the same order)."""
        sources, rows = [], []
        for source, (si, row) in self._where.items():
            segment = self.segments[si]
            if name in segment.extras:
                sources.append(source)
                rows.append(np.asarray(segment.extras[name][row]))
        return sources, (np.stack(rows) if rows else np.zeros((0,)))

    # Derived data ------------------------------------------------------------------------------------
    def _derived_path(self, name: str) -> Path:
        return self.folder / f"derived-{self.generation}-{name}"

    def derived(self, name: str) -> bytes | None:
        """What `keep_derived(name, ...)` stored for this generation of the index, or None.

        For results computed from the index alone that are too slow to redo at every open (the groups of
        copies: LSH over every signature). A file of another generation is never read, and the next
        publish removes it; anything unreadable is None, so the caller computes it again."""
        try:
            return self._derived_path(name).read_bytes()
        except OSError:
            return None

    def keep_derived(self, name: str, data: bytes) -> None:
        """Store `data` beside this generation, atomically; a folder that cannot be written is no error
        (the result is only recomputed at the next open). The manifest and segments are not touched."""
        try:
            _write(self._derived_path(name), data)
        except OSError as exc:
            log.debug("not keeping %s in %s: %s", name, self.folder, exc)

    # Chunks -----------------------------------------------------------------------------------------
    def _locate(self, lives: list[_Live], starts: np.ndarray, i: int, size: int) -> tuple[int, int]:
        if not 0 <= i < size:
            raise IndexError(i)
        si = int(np.searchsorted(starts, i, side="right")) - 1
        while lives[si].count == 0 or i >= lives[si].offset + lives[si].count:  # empty segments share offsets
            si += 1
        return si, lives[si].local(i)

    def locate_chunk(self, i: int) -> tuple[Segment, int]:
        si, local = self._locate(self._chunks, self._chunk_starts, i, self.n_chunks)
        return self.segments[si], local

    def chunk(self, i: int) -> Chunk:
        segment, local = self.locate_chunk(i)
        article_row, first, count = (int(x) for x in segment.chunks[local])
        spans = tuple((int(s), int(e)) for _, s, e in np.asarray(segment.sentences[first : first + count]))
        source = segment.sources[article_row]
        article = self.article(source)
        text = " ".join(article.text[s:e] for s, e in spans)
        return Chunk(i, source, article.title, spans[0][0], spans[-1][1], spans, text)

    @property
    def chunks(self) -> ChunkTable:
        return ChunkTable(self)

    def chunk_vector(self, i: int) -> np.ndarray:
        segment, local = self.locate_chunk(i)
        return np.asarray(segment.vectors[local])

    # Sentences --------------------------------------------------------------------------------------
    def locate_sentence(self, i: int) -> tuple[Segment, int]:
        si, local = self._locate(self._sentences, self._sentence_starts, i, self.n_sentences)
        return self.segments[si], local

    def sentence(self, i: int) -> tuple[str, int, int]:
        segment, local = self.locate_sentence(i)
        article_row, start, end = (int(x) for x in segment.sentences[local])
        return segment.sources[article_row], start, end

    def sentence_row(self, source: str, start: int) -> int:
        si, row = self._where[source]
        segment = self.segments[si]
        first, count = int(segment.articles[row, 2]), int(segment.articles[row, 3])
        starts = np.asarray(segment.sentences[first : first + count, 1])
        j = int(np.searchsorted(starts, start))
        if j >= count or int(starts[j]) != start:
            raise KeyError((source, start))
        return self._sentences[si].id(first + j)

    def adjacent(self, i: int, step: int) -> int | None:
        other = i + step
        if not 0 <= other < self.n_sentences:
            return None
        (a, ra), (b, rb) = self.locate_sentence(i), self.locate_sentence(other)
        return other if a is b and int(a.sentences[ra, 0]) == int(b.sentences[rb, 0]) else None

    def sentence_vector(self, i: int) -> np.ndarray | None:
        """The stored vector of sentence row i, or None when this index keeps none (encoded on demand)."""
        segment, local = self.locate_sentence(i)
        return None if segment.sentence_vectors is None else np.asarray(segment.sentence_vectors[local])

    def sentence_texts(self, rows: Sequence[int]) -> list[str]:
        out = []
        for i in rows:
            source, start, end = self.sentence(i)
            out.append(self.article(source).text[start:end])
        return out

    # Retrieval parts --------------------------------------------------------------------------------
    def dense_parts(self) -> list[VectorPart]:
        """Each segment's vectors with the ids of its live rows, for dense search."""
        return [VectorPart(s.vectors, live.offset, live.ids, live.rows)
                for s, live in zip(self.segments, self._chunks, strict=True)]

    def postings_parts(self) -> list[PostingsPart]:
        return [PostingsPart(s.postings, live.offset, live.ids)
                for s, live in zip(self.segments, self._chunks, strict=True)]

    def physical_to_id(self) -> np.ndarray | None:
        """The chunk id of every physical row (segments concatenated), -1 if dead; None: the same numbers."""
        if all(live.ids is None for live in self._chunks):
            return None
        return np.concatenate([np.arange(live.offset, live.offset + s.n_chunks) if live.ids is None else live.ids
                               for s, live in zip(self.segments, self._chunks, strict=True)])

    def ann(self, settings: StoreSettings) -> Ann | None:
        """The approximate index, if this index has one that still covers a prefix of its segments."""
        entry = self.manifest.get("ann")
        if not entry:
            return None
        names = [s.name for s in self.segments]
        covered = list(entry["segments"])
        if names[: len(covered)] != covered:
            return None
        path = self.folder / str(entry["name"])
        try:
            check_file(path, entry)
            index = read_quantized(path)
        except (OSError, RuntimeError, SegmentError) as exc:
            raise IndexStoreError(f"index at {self.folder} is damaged: {entry['name']}: {exc}") from exc
        return Ann(index, int(entry["rows"]), settings.ann_rerank, self.physical_to_id())

    @property
    def physical_chunks(self) -> int:
        return sum(s.n_chunks for s in self.segments)

    def dead_share(self) -> float:
        total = self.physical_chunks
        return 1.0 - self.n_chunks / total if total else 0.0

    def nbytes(self) -> int:
        """Bytes of every file this index names."""
        total = sum(int(f["size"]) for s in self.segments for f in s.entry["files"].values())
        extra = [self.manifest.get("files_table"), self.manifest.get("ann")]
        return total + sum(int(e["size"]) for e in extra if e)


class ArticleMap(Mapping[str, Article]):
    """The index's articles by source, read on demand (a few hundred are cached)."""

    def __init__(self, index: StoredIndex) -> None:
        self._index = index

    def __getitem__(self, source: str) -> Article:
        if source not in self._index._where:
            raise KeyError(source)
        return self._index.article(source)

    def __contains__(self, source: object) -> bool:
        return source in self._index._where

    def __iter__(self) -> Iterator[str]:
        return iter(self._index._where)

    def __len__(self) -> int:
        return len(self._index._where)


class ChunkTable(Sequence[Chunk]):
    """The index's chunks by id, built on demand from the segments' rows and the article texts."""

    def __init__(self, index: StoredIndex) -> None:
        self._index = index

    def __len__(self) -> int:
        return self._index.n_chunks

    @overload
    def __getitem__(self, i: int) -> Chunk: ...

    @overload
    def __getitem__(self, i: slice) -> list[Chunk]: ...

    def __getitem__(self, i: int | slice) -> Chunk | list[Chunk]:
        if isinstance(i, slice):
            return [self._index.chunk(j) for j in range(*i.indices(len(self)))]
        return self._index.chunk(i if i >= 0 else len(self) + i)


# Loading ------------------------------------------------------------------------------------------
def load(folder: Path) -> StoredIndex:
    """Read and verify an index folder; any damage raises IndexStoreError saying what is wrong.

    A builder in another process may switch the manifest and delete the old files while we read
    them: if the manifest changed meanwhile, the read is retried on the new one."""
    manifest_path = folder / MANIFEST
    for _ in range(_LOAD_ATTEMPTS):
        try:
            raw = manifest_path.read_bytes()
        except FileNotFoundError:
            raise IndexStoreError(f"no index at {folder} (no {MANIFEST})") from None
        except OSError as exc:
            raise IndexStoreError(f"cannot read the index at {folder}: {exc.strerror or exc}") from exc
        try:
            return _load(folder, raw)
        except IndexStoreError:
            with contextlib.suppress(OSError):
                if manifest_path.read_bytes() != raw:
                    continue
            raise
    return _load(folder, manifest_path.read_bytes())


def _load(folder: Path, manifest_bytes: bytes) -> StoredIndex:
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError(f"{MANIFEST} is not a JSON object")
        if manifest.get("format") != FORMAT:
            raise IndexStoreError(f"index at {folder} has format {manifest.get('format')}, expected {FORMAT}")
        dims = int(manifest["dimensions"])
        segments, dead = [], []
        for entry in manifest["segments"]:
            segment = Segment(folder, entry, dims)
            rows = np.asarray(sorted({int(r) for r in entry.get("dead", [])}), dtype=np.int64)
            if len(rows) and (rows[0] < 0 or rows[-1] >= segment.n_articles):
                raise ValueError(f"dead rows outside segment {segment.name}")
            segments.append(segment)
            dead.append(rows)
        files = _read_files_table(folder, manifest["files_table"])
        index = StoredIndex(folder, manifest, segments, dead, files)
        if index.n_chunks != int(manifest["chunks"]) or len(index.sources()) != int(manifest["articles"]):
            raise ValueError("the manifest's counts do not match its segments")
        produced = {s for record in files.values() for s in record.sources}
        if produced != set(index.sources()):
            raise ValueError("the files table does not match the indexed articles")
    except IndexStoreError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise IndexStoreError(f"index at {folder} is damaged: {type(exc).__name__}: {reason}") from exc
    return index


def _read_files_table(folder: Path, entry: dict[str, Any]) -> dict[str, FileRecord]:
    name = entry["name"]
    if not isinstance(name, str) or "/" in name or not name.startswith("files-"):
        raise ValueError(f"bad file name in {MANIFEST}: {name!r}")
    raw = (folder / name).read_bytes()
    if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
        raise SegmentError(f"{name} does not match its checksum")
    table = json.loads(raw.decode("utf-8"))
    return {str(path): FileRecord.from_json(row) for path, row in table.items()}


# Saving -------------------------------------------------------------------------------------------
def new_name(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def write_segment(folder: Path, part: Part) -> dict[str, Any]:
    """Write `part` as a new segment of the index at `folder` (not yet named by the manifest)."""
    folder.mkdir(parents=True, exist_ok=True)
    return part.write(folder, new_name("seg"))


def publish(folder: Path, *, model: str, dimensions: int, identity: dict[str, Any],
            segments: list[dict[str, Any]], files: Mapping[str, FileRecord], chunks: int, articles: int,
            ann: dict[str, Any] | None = None, written: Sequence[str] = ()) -> dict[str, Any]:
    """Write the files table and switch the manifest to `segments` (entries with their dead rows).

    `written`: names of the files this save wrote, removed again if the switch fails. On success,
    every file no manifest names any more is removed. Returns the new manifest."""
    table_name = f"{new_name('files')}.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        table = {path: record.to_json() for path, record in sorted(files.items())}
        data = json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        table_entry = {"name": table_name, "size": len(data), "sha256": _write(folder / table_name, data)}
        manifest = {
            "format": FORMAT, "model": model, "dimensions": dimensions, "identity": identity,
            "generation": uuid.uuid4().hex[:12], "chunks": chunks, "articles": articles,
            "segments": segments, "files_table": table_entry, "ann": ann,
        }
        _write(folder / MANIFEST, (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError as exc:
        for name in [table_name, *written]:
            with contextlib.suppress(OSError):
                (folder / name).unlink()
        raise write_error(folder, exc) from exc
    keep = {table_name} | {f["name"] for s in segments for f in s["files"].values()}
    if ann:
        keep.add(ann["name"])
    remove_stale(folder, keep)
    return manifest


def write_error(folder: Path, exc: OSError) -> IndexStoreError:
    return IndexStoreError(
        f"cannot write the index at {folder}: {_reason(exc)}; the previous index is unchanged "
        "(free some space or make the folder writable, or choose another folder with --index)"
    )


def segment_files(entry: dict[str, Any]) -> list[str]:
    return [str(f["name"]) for f in entry["files"].values()]


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"the folder is read-only ({exc.strerror or exc})"
    return exc.strerror or str(exc)


def _write(path: Path, data: bytes) -> str:
    """Write `data` atomically and return its sha256."""
    with _atomic(path) as out:
        out.write(data)
    return hashlib.sha256(data).hexdigest()


@contextlib.contextmanager
def _atomic(path: Path) -> Iterator[Any]:
    """Write to a temporary file beside `path`, fsync, then rename over it; on error leave no trace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_stale(folder: Path, keep: set[str]) -> None:
    """Drop files of earlier generations and temporary files left by interrupted builds."""
    for path in folder.iterdir():
        stale = path.name.startswith(_OWN_PREFIXES) and path.name not in keep
        if stale or (path.name.startswith(".") and path.name.endswith(".tmp")):
            with contextlib.suppress(OSError):
                path.unlink()


# Staging: the finished batches of a build in progress ----------------------------------------------
class Staging:
    """Finished batches of a build, each a segment committed by its batch.json, kept until the build
    is published: a build that is killed, interrupted or runs out of disk resumes from them."""

    def __init__(self, folder: Path, key: str, dims: int) -> None:
        self.root = folder / STAGING
        self.folder = self.root / key
        self.dims = dims
        self.batches: list[Segment] = []

    def open(self) -> list[Segment]:
        """The finished batches (checked); unfinished or damaged ones, and other builds' staging, go."""
        if not self.root.is_dir():
            return []
        for other in self.root.iterdir():
            if other != self.folder:
                shutil.rmtree(other, ignore_errors=True)
        if not self.folder.is_dir():
            return []
        for batch in sorted(self.folder.iterdir()):
            try:
                entry = json.loads((batch / "batch.json").read_bytes().decode("utf-8"))
                self.batches.append(Segment(batch, entry, self.dims))
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                shutil.rmtree(batch, ignore_errors=True)
        return self.batches

    def add(self, part: Part) -> Segment:
        """Write `part` as a finished batch (its files, then batch.json: the batch's commit point)."""
        name = new_name("seg")
        batch = self.folder / f"batch-{len(self.batches):06d}-{name[4:]}"
        try:
            batch.mkdir(parents=True, exist_ok=True)
            entry = part.write(batch, name, durable=False)
            _write(batch / "batch.json", json.dumps(entry).encode("utf-8"))
        except OSError as exc:
            shutil.rmtree(batch, ignore_errors=True)
            raise IndexStoreError(
                f"cannot write the index at {folder_of(self.root)}: {_reason(exc)}; the previous index is "
                "unchanged and the batches already finished are kept (free some space or make the folder "
                "writable, then run `assistant index` again to resume)"
            ) from exc
        except BaseException:
            # Ctrl+C: an unfinished batch goes, but one whose batch.json is in place is finished (the interrupt
            # came after its commit point) and is kept, and counted, for the resume
            if (batch / "batch.json").is_file():
                self.batches.append(Segment(batch, entry, self.dims))
            else:
                shutil.rmtree(batch, ignore_errors=True)
            raise
        segment = Segment(batch, entry, self.dims)
        self.batches.append(segment)
        return segment

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.root.rmdir()


def folder_of(staging_root: Path) -> Path:
    return staging_root.parent


@contextlib.contextmanager
def build_lock(folder: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the index's build lock, waiting up to `wait` seconds for another builder; then give up
    with IndexLockedError rather than build beside it. The OS drops the lock of a killed process."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / LOCK).open("a+")
    except OSError as exc:
        raise IndexStoreError(
            f"cannot write the index at {folder}: {_reason(exc)}; "
            "make the folder writable or choose another folder with --index"
        ) from exc
    deadline = time.monotonic() + wait
    with handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() >= deadline:
                    raise IndexLockedError(
                        f"another process is building the index at {folder}; "
                        "wait for it to finish, then run the command again"
                    ) from exc
                time.sleep(0.1)
            except OSError as exc:
                raise IndexStoreError(f"cannot lock the index at {folder}: {_reason(exc)}") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
