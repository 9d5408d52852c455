"""The index folder on disk: manifest.json, one chunks file and one vectors file.

Each build writes its chunks and vectors under a new generation name, then replaces manifest.json
(an atomic rename): the manifest is the commit point, so a crash at any moment leaves either the old
or the new index whole. The manifest records the model, the dimensions, the chunk settings, the
tokenizer version and every article's content hash, and checksums the vectors, so an index that does
not match its files or its settings is detected on open.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import io
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import IndexLockedError, IndexStoreError
from .types import Chunk

FORMAT = 1
MANIFEST = "manifest.json"
LOCK = ".lock"


@dataclass(frozen=True)
class ArticleEntry:
    """An indexed article: its hash, and its chunks as a run of rows."""

    sha256: str
    title: str
    first: int  # first chunk row
    count: int
    first_sentence: int  # first sentence row
    sentences: int


@dataclass
class StoredIndex:
    """Everything an index holds in memory; rows of `vectors` and `tokens` follow `chunks`.

    Sentence vectors are precomputed too, so answering needs no encoding beyond the question; their
    rows follow `sentence_keys()`: each article's distinct sentence spans in chunk order."""

    model: str
    dimensions: int
    identity: dict[str, Any]
    articles: dict[str, ArticleEntry]
    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: np.ndarray
    sentence_vectors: np.ndarray
    generation: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


def load(folder: Path) -> StoredIndex:
    """Read and verify an index folder; any damage raises IndexStoreError saying what is wrong."""
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise IndexStoreError(f"no index at {folder} (no {MANIFEST})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise IndexStoreError(f"index at {folder} has format {manifest.get('format')}, expected {FORMAT}")
        files = manifest["files"]
        chunks_path = folder / files["chunks"]
        vectors = _read_vectors(folder, files["vectors"], manifest["checksums"])
        sentence_vectors = _read_vectors(folder, files["sentence_vectors"], manifest["checksums"])
        chunks, tokens = _read_chunks(chunks_path)
        articles = {src: ArticleEntry(**entry) for src, entry in manifest["articles"].items()}
        index = StoredIndex(
            model=manifest["model"],
            dimensions=int(manifest["dimensions"]),
            identity=manifest["identity"],
            articles=articles,
            chunks=chunks,
            tokens=tokens,
            vectors=vectors,
            sentence_vectors=sentence_vectors,
            generation=manifest["generation"],
        )
    except IndexStoreError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexStoreError(f"index at {folder} is damaged: {exc}") from exc
    _verify(index, folder)
    return index


def _read_vectors(folder: Path, name: str, checksums: dict[str, str]) -> np.ndarray:
    raw = (folder / name).read_bytes()
    if hashlib.sha256(raw).hexdigest() != checksums[name]:
        raise IndexStoreError(f"index at {folder} is damaged: {name} does not match its checksum")
    return np.asarray(np.load(io.BytesIO(raw), allow_pickle=False))


def sentence_keys(chunks: list[Chunk]) -> dict[tuple[str, int], int]:
    """Row of each distinct (source, sentence start) in chunk order: overlapping chunks share rows."""
    rows: dict[tuple[str, int], int] = {}
    for chunk in chunks:
        for start, _ in chunk.sentences:
            rows.setdefault((chunk.source, start), len(rows))
    return rows


def _verify(index: StoredIndex, folder: Path) -> None:
    n = len(index.chunks)
    for name, array, rows in (
        ("chunk vectors", index.vectors, n),
        ("sentence vectors", index.sentence_vectors, len(sentence_keys(index.chunks))),
    ):
        if array.dtype != np.float32 or array.shape != (rows, index.dimensions):
            raise IndexStoreError(f"index at {folder} is damaged: {name} {array.shape} do not match {rows} rows")
    if len(index.tokens) != n or sum(a.count for a in index.articles.values()) != n:
        raise IndexStoreError(f"index at {folder} is damaged: the manifest does not match its chunks")
    if any(c.id != i for i, c in enumerate(index.chunks)):
        raise IndexStoreError(f"index at {folder} is damaged: chunk ids are out of order")


def _read_chunks(path: Path) -> tuple[list[Chunk], list[list[str]]]:
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            tokens.append(row.pop("tokens"))
            row["sentences"] = tuple(tuple(s) for s in row["sentences"])
            chunks.append(Chunk(**row))
    return chunks, tokens


def save(folder: Path, index: StoredIndex) -> None:
    """Write a new generation and switch the manifest to it; the previous index stays until then."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        gen = uuid.uuid4().hex[:12]
        vectors_name, chunks_name = f"vectors-{gen}.npy", f"chunks-{gen}.jsonl"
        sentences_name = f"vectors-{gen}-sentences.npy"
        checksums = {
            vectors_name: _write_vectors(folder / vectors_name, index.vectors),
            sentences_name: _write_vectors(folder / sentences_name, index.sentence_vectors),
        }
        with _atomic(folder / chunks_name, "w") as out:
            for chunk, toks in zip(index.chunks, index.tokens, strict=True):
                row = {
                    "id": chunk.id, "source": chunk.source, "title": chunk.title, "start": chunk.start,
                    "end": chunk.end, "sentences": chunk.sentences, "text": chunk.text, "tokens": toks,
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        manifest = {
            "format": FORMAT,
            "model": index.model,
            "dimensions": index.dimensions,
            "identity": index.identity,
            "generation": gen,
            "files": {"vectors": vectors_name, "sentence_vectors": sentences_name, "chunks": chunks_name},
            "checksums": checksums,
            "chunks": len(index.chunks),
            "articles": {src: vars(entry) for src, entry in sorted(index.articles.items())},
        }
        with _atomic(folder / MANIFEST, "w") as out:
            json.dump(manifest, out, indent=1, ensure_ascii=False)
            out.write("\n")
        index.generation = gen
        _remove_stale(folder, {vectors_name, sentences_name, chunks_name})
    except OSError as exc:
        reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise IndexStoreError(f"cannot write the index at {folder}: {reason}; the previous index is unchanged") from exc


def _write_vectors(path: Path, vectors: np.ndarray) -> str:
    """Write a float32 .npy atomically and return its sha256."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    raw = buffer.getvalue()
    with _atomic(path, "wb") as out:
        out.write(raw)
    return hashlib.sha256(raw).hexdigest()


@contextlib.contextmanager
def _atomic(path: Path, mode: str) -> Iterator[Any]:
    """Write to a temporary file beside `path`, fsync, then rename over it; on error leave no trace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _remove_stale(folder: Path, keep: set[str]) -> None:
    """Drop earlier generations and temporary files left by interrupted builds."""
    for path in folder.iterdir():
        stale_gen = path.name.startswith(("vectors-", "chunks-")) and path.name not in keep
        if stale_gen or (path.name.startswith(".") and path.name.endswith(".tmp")):
            with contextlib.suppress(OSError):
                path.unlink()


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Hold the index's build lock; a second builder gets IndexLockedError at once, not a corrupt index."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / LOCK).open("a+")
    except OSError as exc:
        raise IndexStoreError(f"cannot write the index at {folder}: {exc.strerror or exc}") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexLockedError(
                f"another process is building the index at {folder}; wait for it to finish and try again"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
