"""The same MiniLM run by ONNX Runtime: exported once from the local model with `torch.onnx.export`,
cached, and fed by the `tokenizers` library from the model folder's tokenizer.json.

Why: ONNX Runtime runs the same fp32 graph with less per-call overhead than torch on this kind of
2-core CPU (docs/benchmarks.md, "Bare encode"). The vectors are those of sentence-transformers (mean of
the token embeddings under the attention mask, then unit length) within 1e-4 cosine
(tests/test_encoder_onnx.py), so an index built by either engine is searched by the other: both report
the same `model_id`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from .encoder import INT8_SUFFIX, model_identity, pool_spans, unit_rows

EXPORT_SETTINGS = {"exporter": "dynamo", "dtype": "float32", "optimize": True, "output": "last_hidden_state"}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# The int8 graph: ONNX Runtime's dynamic quantization of the matrix products' weights, one scale per output
# channel. Other choices kept the vectors less close (docs/benchmarks.md, "The int8 encoder"): every op, or
# MatMul with one scale per tensor, 0.95 mean cosine to fp32; MatMul per channel 0.995.
INT8_SETTINGS = {"op_types_to_quantize": ["MatMul"], "per_channel": True, "weight_type": "QInt8"}


def default_cache() -> Path:
    """Exported graphs live in the user's cache folder ($XDG_CACHE_HOME/assistant/onnx on Linux)."""
    import platformdirs

    return platformdirs.user_cache_path("assistant", appauthor=False) / "onnx"


def export_key(path: Path) -> str:
    """Names an export by the model (folder identity) and everything that shapes the graph: the export
    settings and the torch version that traced it. A change to any of them exports anew. (The version is
    read from the installed package's metadata: importing torch takes seconds, and a cached graph needs
    no torch at all.)"""
    from importlib.metadata import version

    spec = json.dumps([model_identity(path), EXPORT_SETTINGS, version("torch")], sort_keys=True)
    return f"{path.name}-{hashlib.sha256(spec.encode()).hexdigest()[:16]}"


def export(path: Path, target: Path) -> Path:
    """Trace the transformer of the sentence-transformers folder `path` into `target` (fp32), atomically:
    written beside it under a temporary name, then renamed, so a killed export leaves no half file."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()

    class Tokens(torch.nn.Module):
        """The transformer's last hidden state: the token embeddings that pooling averages."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tuple(torch.ones((2, 16), dtype=torch.int64) for _ in INPUTS)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    dynamic = {name: {0: batch, 1: length} for name in INPUTS}
    target.parent.mkdir(parents=True, exist_ok=True)
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as tmp, warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # the exporter's deprecation and axis-naming notes are not the user's
        quiet.setLevel(logging.ERROR)
        try:
            program = torch.onnx.export(Tokens(model), sample, dynamo=True, input_names=list(INPUTS),
                                        output_names=["tokens"], dynamic_shapes=dynamic, optimize=True,
                                        verbose=False)
        finally:
            quiet.setLevel(level)
        if program is None:
            raise ModelError(f"torch.onnx.export returned nothing for {path}")
        staged = Path(tmp) / target.name
        program.save(str(staged))
        os.replace(staged, target)
    return target


def quantize(graph: Path, target: Path) -> Path:
    """The int8 copy of the fp32 `graph` at `target` (INT8_SETTINGS), written atomically like `export`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    settings = dict(INT8_SETTINGS, weight_type=getattr(QuantType, str(INT8_SETTINGS["weight_type"])))
    quiet = logging.getLogger()  # the quantizer logs a pre-processing hint on the root logger
    level = quiet.level
    with tempfile.TemporaryDirectory(prefix=".quantize-", dir=target.parent) as tmp:
        staged = Path(tmp) / target.name
        quiet.setLevel(logging.ERROR)
        try:
            quantize_dynamic(str(graph), str(staged), **settings)  # type: ignore[arg-type]
        finally:
            quiet.setLevel(level)
        os.replace(staged, target)
    return target


class OnnxEncoder:
    """all-MiniLM-L6-v2 under ONNX Runtime, exported on first use and loaded lazily (like SentenceEncoder).

    `int8`: run the dynamically quantized graph instead (1.7 to 1.9x the fp32 graph's texts/s on passages
    here). Its vectors are NOT those of the reference (mean cosine 0.994), so it reports its own `model_id`
    and an index built with it is searched with it only; docs/benchmarks.md gives its retrieval and answer
    cost ("The int8 encoder")."""

    def __init__(self, path: Path, batch_size: int = 32, cache: Path | None = None, max_tokens: int | None = None,
                 int8: bool = False) -> None:
        if not (path / "tokenizer.json").exists() or not (path / "config.json").exists():
            raise ModelError(f"no tokenizer.json and config.json in {path}: the ONNX engine needs both "
                             "(set the encoder engine to sentence-transformers, or point $ASSISTANT_MODEL elsewhere).")
        self.path = path
        self.batch_size = batch_size
        self.cache = cache or default_cache()
        self.int8 = int8
        self.model_id = model_identity(path) + (INT8_SUFFIX if int8 else "")
        self.max_tokens = max_tokens or _max_seq_length(path)
        self.dimensions = int(json.loads((path / "config.json").read_text())["hidden_size"])
        self.graph = self.cache / f"{export_key(path)}.onnx"
        if int8:  # named by the quantizer's settings and version as well: either change quantizes anew
            from importlib.metadata import PackageNotFoundError, version

            try:
                runtime = version("onnxruntime")
            except PackageNotFoundError:
                runtime = "absent"  # _load says what to install
            key = _digest(INT8_SETTINGS | {"onnxruntime": runtime})
            self.graph = self.graph.with_name(f"{self.graph.stem}-int8-{key}.onnx")
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self.encoded_texts = 0

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                try:
                    import onnxruntime
                    from tokenizers import Tokenizer
                except ImportError as exc:
                    raise ModelError("the ONNX engine needs onnxruntime: pip install 'assistant[onnx]'") from exc
                graph = self.graph
                if not graph.exists():
                    fp32 = self.cache / f"{export_key(self.path)}.onnx"
                    if not fp32.exists():
                        export(self.path, fp32)  # the only use of torch: once per model and torch version
                    if self.int8:
                        quantize(fp32, graph)
                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3  # warnings about unused initializers are noise
                # Idle worker threads sleep instead of spinning: on 2 cores shared with other work,
                # spinning threads took the CPU from the ones computing (chunks/s 13-14 spinning, 22-23
                # not, at load average 4.5; docs/benchmarks.md).
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
                tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=self.max_tokens)  # the file says 128; the model reads 256
                tokenizer.no_padding()  # batches are padded here, to their longest text
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        vectors, _ = self._run(texts, None)
        return vectors

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
                     ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        """As SentenceEncoder.encode_spans: each text's vector and a pooled vector per character span."""
        return self._run(texts, spans)

    def _run(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]] | None
             ) -> tuple[np.ndarray, list[list[np.ndarray | None]]]:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        pooled: list[list[np.ndarray | None]] = [[] for _ in texts]
        if not texts:
            return out, []
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))  # little padding per batch
        for at in range(0, len(order), self.batch_size):
            rows = order[at : at + self.batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            feed = {name: np.zeros((len(rows), width), dtype=np.int64) for name in INPUTS}
            for r, i in enumerate(rows):
                e = encodings[i]
                feed["input_ids"][r, : len(e.ids)] = e.ids
                feed["attention_mask"][r, : len(e.ids)] = e.attention_mask
                feed["token_type_ids"][r, : len(e.ids)] = e.type_ids
            tokens = session.run(None, feed)[0]
            mask = feed["attention_mask"][:, :, None].astype(np.float32)
            out[rows] = unit_rows((tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9))
            if spans is not None:
                for r, i in enumerate(rows):
                    n = len(encodings[i].ids)
                    pooled[i] = pool_spans(tokens[r, :n], encodings[i].offsets, spans[i])
        self.encoded_texts += len(texts)
        return out, pooled


def _digest(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]


def _max_seq_length(path: Path) -> int:
    """The word pieces the model reads, as sentence-transformers configures it (sentence_bert_config.json)."""
    config = path / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text()).get("max_seq_length", 256))
    return 256
