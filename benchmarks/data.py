"""Benchmark data in, article folders out: BEIR/SQuAD jsonl become one `.txt` per document (title first).

Everything derived (article folders, indexes, cached embeddings) lives under a cache folder, keyed by
the source file's path, size and modification time, so it is rebuilt when the data changes and reused
otherwise. The benchmark data itself is only read.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.encoder import Encoder

DEFAULT_CACHE = Path(__file__).resolve().parent / ".cache"
_UNSAFE = re.compile(r"[^\w.-]")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def file_key(*paths: Path) -> str:
    """A short digest of the files' absolute paths, sizes and modification times."""
    digest = hashlib.sha256()
    for path in paths:
        st = path.stat()
        digest.update(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns};".encode())
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class Documents:
    """An article folder made from a jsonl corpus, and the map from article file name to document id."""

    folder: Path
    doc_of: dict[str, str]  # article source ("123.txt") -> document id ("123")


def article_folder(
    corpus_jsonl: Path, cache: Path, name: str, keep: Sequence[str] | None = None
) -> Documents:
    """Write each `{_id, title, text}` line as `<id>.txt` (title, "_" read as space, on the first line).

    `keep`: only these document ids (for small slices); the folder name records the choice."""
    wanted = set(keep) if keep is not None else None
    suffix = "" if wanted is None else "-" + hashlib.sha256("\n".join(sorted(wanted)).encode()).hexdigest()[:8]
    folder = cache / "articles" / f"{name}-{file_key(corpus_jsonl)}{suffix}"
    mapping_file = folder.with_name(folder.name + ".ids.json")
    if mapping_file.exists():
        return Documents(folder, json.loads(mapping_file.read_text(encoding="utf-8")))
    folder.mkdir(parents=True, exist_ok=True)
    doc_of: dict[str, str] = {}
    for row in read_jsonl(corpus_jsonl):
        doc_id = str(row["_id"])
        if wanted is not None and doc_id not in wanted:
            continue
        source = f"{_UNSAFE.sub('_', doc_id)}.txt"
        if source in doc_of:
            source = f"{_UNSAFE.sub('_', doc_id)}-{hashlib.sha256(doc_id.encode()).hexdigest()[:6]}.txt"
        title = " ".join(str(row.get("title") or "").replace("_", " ").split()) or doc_id
        text = str(row.get("text") or "").strip()
        (folder / source).write_text(f"{title}\n\n{text}\n", encoding="utf-8")
        doc_of[source] = doc_id
    mapping_file.write_text(json.dumps(doc_of), encoding="utf-8")  # written last: marks the folder complete
    return Documents(folder, doc_of)


@dataclass(frozen=True)
class Beir:
    """A BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv."""

    root: Path

    @property
    def corpus(self) -> Path:
        return self.root / "corpus.jsonl"

    def queries(self) -> dict[str, str]:
        return {str(q["_id"]): str(q["text"]) for q in read_jsonl(self.root / "queries.jsonl")}

    def qrels(self, split: str) -> dict[str, dict[str, int]]:
        """query id -> {doc id: relevance}; pairs with relevance 0 are kept out."""
        out: dict[str, dict[str, int]] = {}
        with (self.root / "qrels" / f"{split}.tsv").open(encoding="utf-8") as fh:
            for row in csv.reader(fh, delimiter="\t"):
                if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                    continue  # the header line
                if int(row[2]) > 0:
                    out.setdefault(row[0], {})[row[1]] = int(row[2])
        return out


class CachedEncoder:
    """Wraps the real encoder and remembers every vector by text, on disk.

    Benchmark variants (chunk sizes) share most texts (every sentence, many chunks): only new texts
    are embedded. Never used where encoding speed is what is measured."""

    def __init__(self, encoder: Encoder, folder: Path, shard: int = 4096) -> None:
        self.encoder = encoder
        self.model_id = encoder.model_id
        self.folder = folder / _UNSAFE.sub("_", encoder.model_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.shard = shard
        self.encoded_texts = 0
        self._rows: dict[str, np.ndarray] = {}
        self._pooled: dict[str, tuple[np.ndarray, list[np.ndarray | None]]] = {}  # in memory only
        if hasattr(encoder, "encode_spans"):  # the build pools sentence vectors only if the model can
            self.encode_spans = self._encode_spans
        for keys_file in sorted(self.folder.glob("*.keys.json")):
            vectors_file = keys_file.with_name(keys_file.name.replace(".keys.json", ".npy"))
            if not vectors_file.exists():
                continue
            keys = json.loads(keys_file.read_text(encoding="utf-8"))
            vectors = np.load(vectors_file)
            self._rows.update(zip(keys, vectors, strict=True))

    @property
    def dimensions(self) -> int:
        return self.encoder.dimensions

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]

    def prime(self, texts: Sequence[str]) -> None:
        """Embed many questions in batches up front, so each ask finds its question's vector ready."""
        self.encode(list(dict.fromkeys(texts)))

    def _encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> Any:
        """Chunk vectors with sentence vectors pooled from the same pass (sentence_vectors="pooled"),
        cached in memory (not on disk) by text and spans."""
        keys = [self._key(t + "\x00" + json.dumps(s)) for t, s in zip(texts, spans, strict=True)]
        todo = [i for i, k in enumerate(keys) if k not in self._pooled]
        if todo:
            vectors, pooled = self.encoder.encode_spans(  # type: ignore[attr-defined]
                [texts[i] for i in todo], [spans[i] for i in todo])
            self.encoded_texts += len(todo)
            for i, vector, own in zip(todo, vectors, pooled, strict=True):
                self._pooled[keys[i]] = (vector, own)
        found = [self._pooled[k] for k in keys]
        stacked = np.stack([v for v, _ in found]) if found else np.zeros((0, self.dimensions))
        return stacked.astype(np.float32), [own for _, own in found]

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in self._rows))
        if 0 < len(todo) <= 8:  # a question or two: kept in memory only
            text_of = dict(zip(keys, texts, strict=True))
            self._rows.update(zip(todo, self.encoder.encode([text_of[k] for k in todo]), strict=True))
            todo = []
        text_of = dict(zip(keys, texts, strict=True))
        for start in range(0, len(todo), self.shard):
            part = todo[start : start + self.shard]
            vectors = self.encoder.encode([text_of[k] for k in part], progress=progress)
            self.encoded_texts += len(part)
            name = hashlib.sha256("".join(part).encode()).hexdigest()[:16]
            np.save(self.folder / f"{name}.npy", vectors)
            (self.folder / f"{name}.keys.json").write_text(json.dumps(part), encoding="utf-8")
            self._rows.update(zip(part, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        return np.stack([self._rows[k] for k in keys]).astype(np.float32)
