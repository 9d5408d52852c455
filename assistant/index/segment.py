"""A segment: an immutable run of articles with everything the index keeps about them, as files.

An index is a list of segments (named by the manifest, see store.py); a build writes new ones and never
changes an old one, so an update writes work proportional to the change. Per segment:

    articles.npy   int64 [articles, 9]: chunk first/count, sentence first/count, text byte offset/length,
                   text characters, metadata byte offset/length (rows are local to the segment)
    articles.jsonl every Article field but the text (generically, so new fields are kept), plus `data`
    sources.json   the articles' sources, in row order
    shas.npy       the articles' sha256 (S64), to reuse rows of unchanged or renamed articles
    texts.bin      the articles' texts, UTF-8, one after another (what every quote is cut from)
    chunks.npy     int64 [chunks, 3]: article row, first sentence row, sentence count
    sentences.npy  int64 [sentences, 3]: article row, start, end (character offsets into the text)
    vectors.npy    float32 [chunks, dims]; sentence_vectors.npy the same per sentence (when stored)
    terms/starts/rows/tf/lengths.npy   the BM25 postings (lexical.Postings)
    extra-NAME.npy one fixed-width row per article (e.g. MinHash signatures), when a build adds them

Arrays are read memory-mapped: opening an index reads their headers, not their data.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import mmap
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..types import Article
from .lexical import Postings

ARTICLE_COLUMNS = 9
FULL_CHECK_BYTES = 64 << 20  # files up to this size are checksummed whole on open; larger ones spot-checked
_SPOT_BLOCK = 1 << 16
_SPOT_BLOCKS = 64


class SegmentError(ValueError):
    """A segment's files do not match what its entry says (the caller names the index)."""


def spot_digest(path: Path, size: int) -> str:
    """sha256 of the file's first and last MiB and of evenly spaced 64 KiB blocks between: a check of a
    large file that reads a few MiB, not all of it (its full sha256 is kept too, for `assistant index`)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        offsets = [0, max(0, size - (1 << 20))] + [size * i // _SPOT_BLOCKS for i in range(1, _SPOT_BLOCKS)]
        for offset in offsets:
            fh.seek(offset)
            digest.update(fh.read((1 << 20) if offset in (0, max(0, size - (1 << 20))) else _SPOT_BLOCK))
    return digest.hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    """Name, size and checksums of a file the manifest names (written by something else than a Part)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    size = path.stat().st_size
    entry: dict[str, Any] = {"name": path.name, "size": size, "sha256": digest.hexdigest()}
    if size > FULL_CHECK_BYTES:
        entry["spot"] = spot_digest(path, size)
    return entry


def check_file(path: Path, meta: dict[str, Any]) -> None:
    """The file has the size and checksum recorded for it: whole up to FULL_CHECK_BYTES, else spot-checked."""
    size = path.stat().st_size
    if size != int(meta["size"]):
        raise SegmentError(f"{path.name} has {size} bytes, expected {meta['size']}")
    if size <= FULL_CHECK_BYTES:
        digest, expected = hashlib.sha256(path.read_bytes()).hexdigest(), meta["sha256"]
    else:
        digest, expected = spot_digest(path, size), meta.get("spot")
    if digest != expected:
        raise SegmentError(f"{path.name} does not match its checksum")


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


class SegmentWriter:
    """Writes one segment's files under `folder` (names `<name>.<kind>`), each fsynced, and returns the
    entry (names, sizes, checksums) that commits it. On any failure every file it wrote is removed."""

    def __init__(self, folder: Path, name: str, durable: bool = True) -> None:
        self.folder = folder
        self.name = name
        self.durable = durable  # fsync each file (a staged batch is checked by its checksums instead)
        self.files: dict[str, dict[str, Any]] = {}

    def path(self, kind: str) -> Path:
        return self.folder / f"{self.name}.{kind}"

    def write_bytes(self, kind: str, data: bytes | Iterable[bytes]) -> None:
        path = self.path(kind)
        digest = hashlib.sha256()
        size = 0
        self.files[kind] = {"name": path.name}
        with path.open("wb") as out:
            for block in [data] if isinstance(data, bytes) else data:
                out.write(block)
                digest.update(block)
                size += len(block)
            out.flush()
            if self.durable:
                os.fsync(out.fileno())
        self._record(kind, path, size, digest.hexdigest())

    def write_array(self, kind: str, array: np.ndarray) -> None:
        self.write_bytes(kind, _npy_bytes(array))

    def write_rows(self, kind: str, blocks: Iterable[np.ndarray], rows: int, dims: int, dtype: Any) -> None:
        """An [rows, dims] array written block by block (never all in memory): vectors copied from other
        segments' memory maps, or fresh from the encoder."""
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                      "fortran_order": False, "shape": (rows, dims)})
        written = 0

        def chunks() -> Iterator[bytes]:
            nonlocal written
            yield header.getvalue()
            for block in blocks:
                block = np.ascontiguousarray(block, dtype=dtype).reshape(-1, dims)
                written += len(block)
                yield block.tobytes()

        self.write_bytes(kind, chunks())
        if written != rows:
            raise SegmentError(f"{kind}: wrote {written} rows, expected {rows}")

    def _record(self, kind: str, path: Path, size: int, sha256: str) -> None:
        entry = {"name": path.name, "size": size, "sha256": sha256}
        if size > FULL_CHECK_BYTES:
            entry["spot"] = spot_digest(path, size)
        self.files[kind] = entry

    def discard(self) -> None:
        for kind in list(self.files):
            with contextlib.suppress(OSError):
                self.path(kind).unlink()
        self.files.clear()


@dataclass
class Part:
    """Articles to write as a segment, gathered in memory (fresh) or as rows of other segments (copied).

    Vectors are kept as blocks (arrays or memory-mapped slices) and written one block at a time."""

    dims: int
    with_sentence_vectors: bool
    metas: list[bytes] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    shas: list[str] = field(default_factory=list)
    texts: list[bytes | tuple[Segment, int]] = field(default_factory=list)  # or read from a segment when written
    text_lengths: list[int] = field(default_factory=list)
    text_chars: list[int] = field(default_factory=list)
    chunk_counts: list[int] = field(default_factory=list)
    sentence_counts: list[int] = field(default_factory=list)
    chunk_rows: list[np.ndarray] = field(default_factory=list)  # [n, 3] blocks, article rows local to the part
    sentence_rows: list[np.ndarray] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    sentence_vectors: list[np.ndarray] = field(default_factory=list)
    postings: list[tuple[Postings, np.ndarray]] = field(default_factory=list)  # (postings, rowmap) to gather
    fresh_tokens: list[list[str]] = field(default_factory=list)
    extras: dict[str, list[np.ndarray]] = field(default_factory=dict)
    _rowmaps: dict[int, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.sources)

    @property
    def chunks(self) -> int:
        return sum(self.chunk_counts)

    @property
    def sentences(self) -> int:
        return sum(self.sentence_counts)

    def add_fresh(self, article: Article, spans: Sequence[tuple[int, int]], chunk_sentences: Sequence[tuple[int, int]],
                  tokens: Sequence[list[str]], vectors: np.ndarray, sentence_vectors: np.ndarray | None,
                  extras: dict[str, np.ndarray] | None = None, data: dict[str, Any] | None = None) -> None:
        """A newly chunked and embedded article: `spans` its sentences, `chunk_sentences` each chunk's
        (first sentence, count) within them, `tokens` each chunk's BM25 tokens."""
        if self.postings:
            raise ValueError("fresh articles go in their own part, before copied ones")
        row, first_sentence = len(self.sources), self.sentences
        self._add_article(article_meta(article, data), article.source, article.sha256, article.text, len(spans),
                          len(chunk_sentences), extras or {})
        self.chunk_rows.append(np.asarray([(row, first_sentence + s, n) for s, n in chunk_sentences],
                                          dtype=np.int64).reshape(-1, 3))
        self.sentence_rows.append(np.asarray([(row, s, e) for s, e in spans], dtype=np.int64).reshape(-1, 3))
        self.vectors.append(np.asarray(vectors, dtype=np.float32).reshape(-1, self.dims))
        if self.with_sentence_vectors:
            assert sentence_vectors is not None
            self.sentence_vectors.append(np.asarray(sentence_vectors, dtype=np.float32).reshape(-1, self.dims))
        self.fresh_tokens.extend(tokens)

    def add_copy(self, segment: Segment, row: int, rename: Article | None = None) -> None:
        """Row `row` of `segment`, unchanged (or under another name: a renamed file, same content)."""
        if self.fresh_tokens:
            raise ValueError("copied articles go in their own part")
        c0, cn, s0, sn = (int(x) for x in segment.articles[row, :4])
        meta = segment.meta(row) if rename is None else article_meta(rename, segment.data(row))
        part_row, first_chunk, first_sentence = len(self.sources), self.chunks, self.sentences
        self._add_article(meta, rename.source if rename else segment.sources[row], segment.sha(row),
                          (segment, row), sn, cn,
                          {name: array[row] for name, array in segment.extras.items()},
                          chars=int(segment.articles[row, 6]))
        chunks = np.array(segment.chunks[c0 : c0 + cn], dtype=np.int64)
        chunks[:, 0] = part_row
        chunks[:, 1] += first_sentence - s0
        self.chunk_rows.append(chunks)
        sentences = np.array(segment.sentences[s0 : s0 + sn], dtype=np.int64)
        sentences[:, 0] = part_row
        self.sentence_rows.append(sentences)
        self.vectors.append(segment.vectors[c0 : c0 + cn])
        if self.with_sentence_vectors:
            if segment.sentence_vectors is None:
                raise ValueError("the copied segment has no sentence vectors")
            self.sentence_vectors.append(segment.sentence_vectors[s0 : s0 + sn])
        rowmap = self._rowmaps.get(id(segment))
        if rowmap is None:
            rowmap = self._rowmaps[id(segment)] = np.full(segment.n_chunks, -1, dtype=np.int64)
            self.postings.append((segment.postings, rowmap))
        rowmap[c0 : c0 + cn] = np.arange(first_chunk, first_chunk + cn)

    def _add_article(self, meta: bytes, source: str, sha: str, text: str | tuple[Segment, int], sentences: int,
                     chunks: int, extras: dict[str, np.ndarray], chars: int | None = None) -> None:
        self.metas.append(meta)
        self.sources.append(source)
        self.shas.append(sha)
        if isinstance(text, str):
            raw = text.encode("utf-8", "surrogatepass")
            self.texts.append(raw)
            self.text_lengths.append(len(raw))
            self.text_chars.append(len(text))
        else:
            segment, row = text
            self.texts.append(text)
            self.text_lengths.append(int(segment.articles[row, 5]))
            self.text_chars.append(int(chars or 0))
        self.chunk_counts.append(chunks)
        self.sentence_counts.append(sentences)
        for name, values in extras.items():
            self.extras.setdefault(name, []).append(np.asarray(values))
        if any(len(rows) != len(self.sources) for rows in self.extras.values()):
            raise ValueError("every article of a segment needs the same per-article arrays")

    def write(self, folder: Path, name: str, durable: bool = True) -> dict[str, Any]:
        """Write the segment and return its manifest entry; on failure nothing of it is left.

        `durable=False` skips the fsyncs: for staged batches, which are checked against their
        checksums when a build resumes (a batch lost to a power cut is embedded again)."""
        writer = SegmentWriter(folder, name, durable)
        try:
            self._write(writer)
        except BaseException:
            writer.discard()
            raise
        return {"name": name, "articles": len(self), "chunks": self.chunks, "sentences": self.sentences,
                "sentence_vectors": self.with_sentence_vectors, "files": writer.files}

    def _write(self, writer: SegmentWriter) -> None:
        n = len(self)
        table = np.zeros((n, ARTICLE_COLUMNS), dtype=np.int64)
        table[:, 1] = self.chunk_counts
        table[:, 3] = self.sentence_counts
        if n:
            table[1:, 0] = np.cumsum(table[:-1, 1])
            table[1:, 2] = np.cumsum(table[:-1, 3])
        text_lengths = np.asarray(self.text_lengths, dtype=np.int64)
        table[:, 5] = text_lengths
        table[1:, 4] = np.cumsum(text_lengths[:-1]) if n else []
        table[:, 6] = self.text_chars
        meta_lengths = np.asarray([len(m) + 1 for m in self.metas], dtype=np.int64)
        table[:, 8] = meta_lengths - 1
        table[1:, 7] = np.cumsum(meta_lengths[:-1]) if n else []
        writer.write_array("articles.npy", table)
        writer.write_bytes("articles.jsonl", (m + b"\n" for m in self.metas))
        writer.write_bytes("sources.json", json.dumps(self.sources, ensure_ascii=False).encode("utf-8"))
        writer.write_array("shas.npy", np.asarray(self.shas, dtype="S64").reshape(n))
        writer.write_bytes("texts.bin", (t if isinstance(t, bytes) else t[0].text_bytes(t[1]) for t in self.texts))
        writer.write_array("chunks.npy", _stack(self.chunk_rows))
        writer.write_array("sentences.npy", _stack(self.sentence_rows))
        writer.write_rows("vectors.npy", self.vectors, self.chunks, self.dims, np.float32)
        if self.with_sentence_vectors:
            writer.write_rows("sentence_vectors.npy", self.sentence_vectors, self.sentences, self.dims, np.float32)
        postings = Postings.build(self.fresh_tokens) if self.fresh_tokens or not self.postings else \
            Postings.gather(self.postings, self.chunks)
        if len(postings) != self.chunks:
            raise SegmentError(f"postings cover {len(postings)} chunks, expected {self.chunks}")
        for kind in Postings.ARRAYS:
            writer.write_array(f"{kind}.npy", getattr(postings, kind))
        for name, rows in self.extras.items():
            writer.write_array(f"extra-{name}.npy", np.stack(rows) if rows else np.zeros(0))


def _stack(blocks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(blocks).astype(np.int64) if blocks else np.zeros((0, 3), dtype=np.int64)


def article_meta(article: Article, data: dict[str, Any] | None = None) -> bytes:
    """Every field of the article but its text, as one JSON line (new Article fields are kept as they come)."""
    meta = {f.name: getattr(article, f.name) for f in fields(article) if f.name != "text"}
    if data:
        meta["data"] = data
    return json.dumps(meta, ensure_ascii=False).encode("utf-8")


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


class Segment:
    """A written segment, opened memory-mapped and checked against its manifest entry."""

    def __init__(self, folder: Path, entry: dict[str, Any], dims: int) -> None:
        self.folder = folder
        self.entry = entry
        self.name = str(entry["name"])
        self.n_articles = int(entry["articles"])
        self.n_chunks = int(entry["chunks"])
        self.n_sentences = int(entry["sentences"])
        self.dims = dims
        files = entry["files"]
        for kind, meta in files.items():
            self._check_file(kind, meta)
        self.articles = self._array("articles.npy", (self.n_articles, ARTICLE_COLUMNS), np.int64)
        self.chunks = self._array("chunks.npy", (self.n_chunks, 3), np.int64)
        self.sentences = self._array("sentences.npy", (self.n_sentences, 3), np.int64)
        self.vectors = self._array("vectors.npy", (self.n_chunks, dims), np.float32)
        self.sentence_vectors = (self._array("sentence_vectors.npy", (self.n_sentences, dims), np.float32)
                                 if entry.get("sentence_vectors") else None)
        self._shas = self._array("shas.npy", (self.n_articles,), np.dtype("S64"))
        self.postings = Postings(*(self._array(f"{kind}.npy", None, None) for kind in Postings.ARRAYS))
        self.extras = {kind[len("extra-") : -len(".npy")]: self._array(kind, None, None)
                       for kind in files if kind.startswith("extra-")}
        self.sources: list[str] = json.loads(self._path("sources.json").read_bytes().decode("utf-8"))
        self._check_structure()

    def _path(self, kind: str) -> Path:
        name = self.entry["files"][kind]["name"]
        if not isinstance(name, str) or "/" in name or name.startswith(".") or not name.startswith(self.name):
            raise SegmentError(f"bad file name in the manifest: {name!r}")
        return self.folder / name

    def _check_file(self, kind: str, meta: dict[str, Any]) -> None:
        check_file(self._path(kind), meta)

    def _array(self, kind: str, shape: tuple[int, ...] | None, dtype: Any) -> np.ndarray:
        path = self._path(kind)
        array = np.load(path, mmap_mode="r", allow_pickle=False) if path.stat().st_size else None
        if array is None or not isinstance(array, np.ndarray):
            raise SegmentError(f"{path.name} is not an array")
        if (shape is not None and array.shape != shape) or (dtype is not None and array.dtype != dtype):
            raise SegmentError(f"{path.name} is {array.dtype}{array.shape}, expected {shape}")
        if array.size == 0:  # numpy cannot map an empty array: an in-memory one of the same shape
            return np.zeros(array.shape, dtype=array.dtype)
        return array

    def _check_structure(self) -> None:
        """The article table, chunk and sentence rows and postings agree (cheap, vectorised checks)."""
        a, n = self.articles, self.n_articles
        p = self.postings
        if len(self.sources) != n or len(set(self.sources)) != n:
            raise SegmentError("sources do not match the articles")
        if n:
            counts = np.asarray(a[:, [1, 3]])
            firsts = np.asarray(a[:, [0, 2]])
            expected = np.vstack([np.zeros((1, 2), dtype=np.int64), np.cumsum(counts, axis=0)[:-1]])
            totals = counts.sum(axis=0)
            if (firsts != expected).any() or totals[0] != self.n_chunks or totals[1] != self.n_sentences:
                raise SegmentError("the article table does not match its chunks and sentences")
            if (counts < 1).any():
                raise SegmentError("an article without chunks")
        c = np.asarray(self.chunks)
        if self.n_chunks:
            art = c[:, 0]
            if art.min() < 0 or art.max() >= n or (np.diff(art) < 0).any():
                raise SegmentError("chunk rows point at the wrong articles")
            s_first, s_count = a[art, 2], a[art, 3]
            if (c[:, 1] < s_first).any() or (c[:, 1] + c[:, 2] > s_first + s_count).any() or (c[:, 2] < 1).any():
                raise SegmentError("chunk rows point outside their article's sentences")
            chunk_firsts = np.asarray(a[:, 0])
            if (art[chunk_firsts] != np.arange(n)).any():
                raise SegmentError("the article table does not match its chunks")
        s = np.asarray(self.sentences)
        if self.n_sentences:
            art = s[:, 0]
            if art.min() < 0 or art.max() >= n or (np.diff(art) < 0).any():
                raise SegmentError("sentence rows point at the wrong articles")
            if (s[:, 1] < 0).any() or (s[:, 2] <= s[:, 1]).any() or (s[:, 2] > a[art, 6]).any():
                raise SegmentError("sentence spans fall outside their article's text")
        text_size = self._path("texts.bin").stat().st_size
        if n and int(a[-1, 4] + a[-1, 5]) != text_size:
            raise SegmentError("the article table does not match the texts")
        if len(p.lengths) != self.n_chunks or len(p.starts) != len(p.terms) + 1 or len(p.rows) != len(p.tf) \
                or (len(p.starts) and (int(p.starts[0]) != 0 or int(p.starts[-1]) != len(p.rows))):
            raise SegmentError("the postings do not match the chunks")
        if len(p.rows) and (int(np.min(p.rows)) < 0 or int(np.max(p.rows)) >= self.n_chunks):
            raise SegmentError("the postings point outside the chunks")
        for name, array in self.extras.items():
            if len(array) != n:
                raise SegmentError(f"per-article array {name} does not match the articles")

    @cached_property
    def _texts(self) -> mmap.mmap | bytes:
        path = self._path("texts.bin")
        if not path.stat().st_size:
            return b""
        with path.open("rb") as fh:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)

    @cached_property
    def _metas(self) -> mmap.mmap | bytes:
        with self._path("articles.jsonl").open("rb") as fh:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(fh.fileno()).st_size else b""

    def text_bytes(self, row: int) -> bytes:
        offset, length = int(self.articles[row, 4]), int(self.articles[row, 5])
        return bytes(self._texts[offset : offset + length])

    def text(self, row: int) -> str:
        return self.text_bytes(row).decode("utf-8", "surrogatepass")

    def meta(self, row: int) -> bytes:
        offset, length = int(self.articles[row, 7]), int(self.articles[row, 8])
        return bytes(self._metas[offset : offset + length])

    def sha(self, row: int) -> str:
        return bytes(self._shas[row]).decode("ascii")

    def shas(self) -> list[str]:
        return [bytes(s).decode("ascii") for s in self._shas]

    def article(self, row: int) -> Article:
        """The article at `row`, with its text: all its fields as they were indexed."""
        meta = json.loads(self.meta(row).decode("utf-8"))
        meta.pop("data", None)
        known = {f.name for f in fields(Article)}
        values = {k: _tuples(v) for k, v in meta.items() if k in known}
        return Article(text=self.text(row), **values)

    def data(self, row: int) -> dict[str, Any]:
        """The article's small per-article JSON data (what a build attached to it), {} if none."""
        value = json.loads(self.meta(row).decode("utf-8")).get("data")
        return value if isinstance(value, dict) else {}
