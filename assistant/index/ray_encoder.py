"""Encoding on a Ray cluster (or on every core of one machine) with Ray Data: an actor pool, one model each.

`RayEncoder` is an `Encoder`, so the build (build.py) uses it unchanged: the same batches written to
staging as they finish (a killed build resumes from the last one), the same progress line, the same
store; only the texts of each batch are embedded by `map_batches` over a pool of actors, each holding
one copy of the model. The vectors are the local encoder's (the actors run `SentenceEncoder.encode`),
up to float rounding from different padding. Small calls (a question) are embedded in-process:
starting a pool costs a model load per actor.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import RaySettings
from ..errors import ModelError
from .encoder import SentenceEncoder, model_identity

log = logging.getLogger(__name__)

INSTALL = 'pip install "assistant[ray]"'
LOCAL_BELOW = 64  # fewer texts than this are embedded in-process (queries, tiny batches)
LOCAL_START_ATTEMPTS = 3  # a local Ray whose raylet misses Ray's 30 s start-up wait is started again


class _Embed:
    """A Ray Data actor: loads the model once, then embeds every batch it is given."""

    def __init__(self, path: str, batch_size: int, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, threads))  # one actor per core: torch must not oversubscribe them
        self.encoder = SentenceEncoder(Path(path), batch_size)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode([str(t) for t in batch["text"]])
        return {"i": np.asarray(batch["i"]), "vector": vectors}


def _ray() -> Any:
    # Read when Ray is imported: without it a new local Ray binds the machine's outward address, not 127.0.0.1.
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ModelError(f"building with --ray needs Ray Data, which is not installed: {INSTALL}") from exc
    return ray


def start(address: str | None, cpus: int | None = None) -> None:
    """Connect to the Ray cluster at `address` ("auto": the one `ray start` made here), or start an
    in-process one bound to 127.0.0.1 when `address` is None. Idempotent."""
    ray = _ray()
    if ray.is_initialized():
        return
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            _start_local(ray, cpus)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ModelError(f"cannot connect to Ray at {address or 'a new local instance'}: {exc}; start one with "
                         "`ray start --head` or pass --ray with its address") from exc


def _start_local(ray: Any, cpus: int | None) -> None:
    """Start an in-process Ray bound to 127.0.0.1, up to LOCAL_START_ATTEMPTS times.

    Ray waits a fixed 30 s for its raylet to register and then raises a bare `Exception`; on a machine
    busy with other work that wait can run out (it did once in this project's CI, beside another test
    run). A failed start leaves the processes it spawned running, so they are stopped by PID (the
    children this process gained during the attempt) before the next try."""
    for attempt in range(1, LOCAL_START_ATTEMPTS + 1):
        before = _child_pids()
        try:
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
            return
        except Exception as exc:  # Ray's start-up timeout is a bare Exception
            ray.shutdown()
            _kill(_child_pids() - before)
            if attempt == LOCAL_START_ATTEMPTS:
                raise RuntimeError(f"it did not start in {attempt} attempts ({exc})") from exc
            log.warning("a local Ray did not start (%s); trying again (%d of %d)", exc, attempt + 1,
                        LOCAL_START_ATTEMPTS)


def _child_pids() -> set[int]:
    """The PIDs of this process's descendants (psutil comes with Ray); empty if it cannot be read."""
    try:
        import psutil
    except ImportError:
        return set()
    return {child.pid for child in psutil.Process().children(recursive=True)}


def _kill(pids: set[int]) -> None:
    """SIGKILL each PID that is still running (a half-started Ray cannot be asked to stop)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # gone already, or not ours
            os.kill(pid, signal.SIGKILL)


def _dimensions(path: Path) -> int | None:
    """The vector size from a sentence-transformers folder's pooling config, without loading the model."""
    pooling = path / "1_Pooling" / "config.json"
    try:
        return int(json.loads(pooling.read_text(encoding="utf-8"))["word_embedding_dimension"])
    except (OSError, KeyError, ValueError):
        return None


class RayEncoder:
    """An Encoder whose big calls run as Ray Data `map_batches` over `settings.actors` model actors."""

    def __init__(self, path: Path, batch_size: int = 32, settings: RaySettings | None = None) -> None:
        self.path = path
        self.batch_size = batch_size
        self.settings = settings or RaySettings()
        self.local = SentenceEncoder(path, batch_size)  # checks the folder; loads the model only if used
        self.model_id = model_identity(path)
        self.encoded_texts = 0  # texts embedded (tests count re-embedding)
        self.ray_texts = 0  # ... of which through Ray
        self._dims = _dimensions(path)

    @property
    def dimensions(self) -> int:
        return self._dims if self._dims is not None else self.local.dimensions

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if len(texts) < LOCAL_BELOW:
            self.encoded_texts += len(texts)
            return self.local.encode(texts, progress)
        ray = _ray()
        start(self.settings.address)
        s = self.settings
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = progress
        items = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)])
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)) // max(1, s.actors))
        embedded = items.map_batches(
            _Embed, fn_constructor_kwargs={"path": str(self.path), "batch_size": self.batch_size, "threads": cpus},
            batch_size=s.actor_batch, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=s.actors),
            num_cpus=cpus,
        )
        order: list[np.ndarray] = []
        vectors: list[np.ndarray] = []
        for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            order.append(np.asarray(batch["i"]))
            vectors.append(np.asarray(batch["vector"], dtype=np.float32))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if vectors:
            out[np.concatenate(order)] = np.concatenate(vectors)
        self.encoded_texts += len(texts)
        self.ray_texts += len(texts)
        return out


def stop() -> None:
    """Disconnect from (or shut down the in-process) Ray."""
    ray = _ray()
    if ray.is_initialized():
        ray.shutdown()
