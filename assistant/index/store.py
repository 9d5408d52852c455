"""The index folder on disk: manifest.json, one chunks file and one vectors file.

Each build writes its chunks and vectors under a new generation name, then replaces manifest.json
(an atomic rename): the manifest is the commit point, so a crash at any moment leaves either the old
or the new index whole. The manifest records the model, the dimensions, the chunk settings, the
tokenizer version and every article's content hash, and checksums the vector and chunk files, so an
index that does not match its files or its settings is detected on open. A failed write removes what
it wrote; one builder at a time holds `.lock` (flock: a killed builder's lock goes with it).
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
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexLockedError, IndexStoreError
from ..types import Chunk

FORMAT = 1
MANIFEST = "manifest.json"
LOCK = ".lock"
LOCK_WAIT_SECONDS = 10.0  # how long a second builder waits for the first before giving up
_LOAD_ATTEMPTS = 3


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
    """Read and verify an index folder; any damage raises IndexStoreError saying what is wrong.

    A builder in another process may switch the manifest and delete the old generation while we
    read it: if the manifest changed meanwhile, the read is retried on the new one."""
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
    """One read of the files the manifest names; every kind of damage becomes IndexStoreError."""
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError(f"{MANIFEST} is not a JSON object")
        if manifest.get("format") != FORMAT:
            raise IndexStoreError(f"index at {folder} has format {manifest.get('format')}, expected {FORMAT}")
        files, checksums = manifest["files"], manifest["checksums"]
        vectors = np.load(io.BytesIO(_read_checked(folder, files["vectors"], checksums)), allow_pickle=False)
        sentence_vectors = np.load(
            io.BytesIO(_read_checked(folder, files["sentence_vectors"], checksums)), allow_pickle=False
        )
        chunks, tokens = _read_chunks(_read_checked(folder, files["chunks"], checksums))
        articles = {src: ArticleEntry(**entry) for src, entry in manifest["articles"].items()}
        index = StoredIndex(
            model=manifest["model"],
            dimensions=int(manifest["dimensions"]),
            identity=manifest["identity"],
            articles=articles,
            chunks=chunks,
            tokens=tokens,
            vectors=np.asarray(vectors),
            sentence_vectors=np.asarray(sentence_vectors),
            generation=manifest["generation"],
        )
    except IndexStoreError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise IndexStoreError(f"index at {folder} is damaged: {type(exc).__name__}: {reason}") from exc
    _verify(index, folder)
    return index


def _read_checked(folder: Path, name: str, checksums: dict[str, str]) -> bytes:
    """A file of the index, verified against the manifest's checksum (chunk files of indexes written
    before chunk checksums existed have none: their rows are checked against the articles instead)."""
    if not isinstance(name, str) or "/" in name or name.startswith("."):
        raise ValueError(f"bad file name in {MANIFEST}: {name!r}")
    raw = (folder / name).read_bytes()
    expected = checksums.get(name)
    if expected is None and not name.startswith("chunks-"):
        raise KeyError(f"no checksum for {name}")
    if expected is not None and hashlib.sha256(raw).hexdigest() != expected:
        raise IndexStoreError(f"index at {folder} is damaged: {name} does not match its checksum")
    return raw


def sentence_keys(chunks: list[Chunk]) -> dict[tuple[str, int], int]:
    """Row of each distinct (source, sentence start) in chunk order: overlapping chunks share rows."""
    return {(source, start): row for row, (source, start, _) in enumerate(sentence_spans(chunks))}


def sentence_spans(chunks: list[Chunk]) -> list[tuple[str, int, int]]:
    """(source, start, end) of each sentence row, in row order."""
    seen: set[tuple[str, int]] = set()
    spans: list[tuple[str, int, int]] = []
    for chunk in chunks:
        for start, end in chunk.sentences:
            if (chunk.source, start) not in seen:
                seen.add((chunk.source, start))
                spans.append((chunk.source, start, end))
    return spans


def _verify(index: StoredIndex, folder: Path) -> None:
    n = len(index.chunks)
    for name, array, rows in (
        ("chunk vectors", index.vectors, n),
        ("sentence vectors", index.sentence_vectors, len(sentence_keys(index.chunks))),
    ):
        if array.dtype != np.float32 or array.shape != (rows, index.dimensions):
            raise IndexStoreError(
                f"index at {folder} is damaged: {name} {array.shape} do not match {rows} rows"
            )
    if len(index.tokens) != n or sum(a.count for a in index.articles.values()) != n:
        raise IndexStoreError(f"index at {folder} is damaged: the manifest does not match its chunks")
    if any(c.id != i for i, c in enumerate(index.chunks)):
        raise IndexStoreError(f"index at {folder} is damaged: chunk ids are out of order")
    sentence_row = 0  # entries in row order: the manifest lists them by name, which may differ
    for source, entry in sorted(index.articles.items(), key=lambda item: (item[1].first, item[1].first_sentence)):
        own = index.chunks[entry.first : entry.first + entry.count]
        if (entry.first < 0 or len(own) != entry.count or entry.first_sentence != sentence_row
                or any(c.source != source for c in own)
                or len({start for c in own for start, _ in c.sentences}) != entry.sentences):
            raise IndexStoreError(f"index at {folder} is damaged: the manifest entry of {source} "
                                  "does not match its chunks")
        sentence_row += entry.sentences
    if sentence_row != len(index.sentence_vectors):
        raise IndexStoreError(f"index at {folder} is damaged: the manifest does not match its sentence vectors")


def _read_chunks(raw: bytes) -> tuple[list[Chunk], list[list[str]]]:
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    for line in raw.decode("utf-8").split("\n"):  # not splitlines(): U+2028 may stand inside a row
        if not line:
            continue
        row = json.loads(line)
        tokens.append(row.pop("tokens"))
        row["sentences"] = tuple(tuple(s) for s in row["sentences"])
        chunks.append(Chunk(**row))
    return chunks, tokens


def save(folder: Path, index: StoredIndex) -> None:
    """Write a new generation and switch the manifest to it; the previous index stays until then.

    Any failure (full disk, read-only folder) raises IndexStoreError and removes what was written,
    so the previous index is left whole and no half-written generation accumulates."""
    gen = uuid.uuid4().hex[:12]
    names = {"vectors": f"vectors-{gen}.npy", "sentence_vectors": f"vectors-{gen}-sentences.npy",
             "chunks": f"chunks-{gen}.jsonl"}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        contents = {"vectors": _npy(index.vectors), "sentence_vectors": _npy(index.sentence_vectors),
                    "chunks": _jsonl(index)}
        checksums = {names[kind]: _write(folder / names[kind], data) for kind, data in contents.items()}
        manifest = {
            "format": FORMAT,
            "model": index.model,
            "dimensions": index.dimensions,
            "identity": index.identity,
            "generation": gen,
            "files": names,
            "checksums": checksums,
            "chunks": len(index.chunks),
            "articles": {src: vars(entry) for src, entry in sorted(index.articles.items())},
        }
        _write(folder / MANIFEST, (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError as exc:
        for name in names.values():
            with contextlib.suppress(OSError):
                (folder / name).unlink()
        raise IndexStoreError(
            f"cannot write the index at {folder}: {_reason(exc)}; the previous index is unchanged "
            "(free some space or make the folder writable, or choose another folder with --index)"
        ) from exc
    index.generation = gen
    _remove_stale(folder, set(names.values()))


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"the folder is read-only ({exc.strerror or exc})"
    return exc.strerror or str(exc)


def _npy(vectors: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    return buffer.getvalue()


def _jsonl(index: StoredIndex) -> bytes:
    lines = []
    for chunk, toks in zip(index.chunks, index.tokens, strict=True):
        row = {
            "id": chunk.id, "source": chunk.source, "title": chunk.title, "start": chunk.start,
            "end": chunk.end, "sentences": chunk.sentences, "text": chunk.text, "tokens": toks,
        }
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
    return "".join(lines).encode("utf-8")


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


def _remove_stale(folder: Path, keep: set[str]) -> None:
    """Drop earlier generations and temporary files left by interrupted builds."""
    for path in folder.iterdir():
        stale_gen = path.name.startswith(("vectors-", "chunks-")) and path.name not in keep
        if stale_gen or (path.name.startswith(".") and path.name.endswith(".tmp")):
            with contextlib.suppress(OSError):
                path.unlink()


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
