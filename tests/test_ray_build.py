"""Building with Ray Data (an in-process Ray bound to 127.0.0.1): the same vectors as the local encoder, the
same index, the same answers; and the CLI's `index --ray local`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import SEEDS, assert_citation_contract

from assistant import Assistant, Settings
from assistant.config import RaySettings
from assistant.errors import ModelError
from assistant.fronts.cli import main
from assistant.index import ray_encoder
from assistant.index.encoder import SentenceEncoder
from assistant.index.ray_encoder import RayEncoder

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # before Ray is imported: bind 127.0.0.1 only
ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One in-process Ray for the module (2 CPUs, loopback only), shut down after."""
    ray_encoder.start(None, cpus=2)
    assert [node["NodeManagerAddress"] for node in ray.nodes()] == ["127.0.0.1"]
    yield
    ray_encoder.stop()


class _SlowRay:
    """Stands in for `ray` in a start that times out: each failing `init` leaves a real child process
    behind, as a half-started Ray leaves its GCS and raylet."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.left: list[subprocess.Popen[bytes]] = []

    def init(self, **kwargs: object) -> None:
        self.calls += 1
        assert kwargs["_node_ip_address"] == "127.0.0.1"
        if self.calls <= self.failures:
            self.left.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
            raise Exception("The current node timed out during startup.")

    def shutdown(self) -> None:
        pass

    def is_initialized(self) -> bool:
        return False


def test_a_local_start_that_times_out_is_retried_and_its_processes_stopped() -> None:
    slow = _SlowRay(failures=2)
    ray_encoder._start_local(slow, cpus=2)
    assert slow.calls == 3
    assert [p.wait(timeout=10) for p in slow.left] == [-signal.SIGKILL] * 2  # both leftovers killed by PID


def test_a_local_start_that_never_comes_up_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    slow = _SlowRay(failures=ray_encoder.LOCAL_START_ATTEMPTS)
    monkeypatch.setattr(ray_encoder, "_ray", lambda: slow)
    with pytest.raises(ModelError, match="cannot connect to Ray at a new local instance: it did not start in 3"):
        ray_encoder.start(None, cpus=2)
    assert [p.wait(timeout=10) for p in slow.left] == [-signal.SIGKILL] * 3


def _texts() -> list[str]:
    paragraphs = [p.strip() for path in sorted(SEEDS.glob("*.txt"))
                  for p in path.read_text(encoding="utf-8").split("\n\n") if len(p.split()) > 5]
    return paragraphs[:150]


@pytest.mark.slow
def test_ray_vectors_equal_the_local_encoders(local_ray: None, encoder: SentenceEncoder) -> None:
    texts = _texts()
    assert len(texts) >= ray_encoder.LOCAL_BELOW  # big enough to go through Ray, not in-process
    remote = RayEncoder(Settings().model_path, 32, RaySettings(actors=2, actor_batch=40))
    got = remote.encode(texts)
    want = encoder.encode(texts)
    assert remote.ray_texts == len(texts) and got.shape == want.shape and got.dtype == np.float32
    cosine = np.sum(got * want, axis=1)
    assert float(np.min(cosine)) > 1 - 1e-5  # row i is text i's vector: the order survives the actor pool
    assert float(np.abs(got - want).max()) < 1e-4
    assert remote.dimensions == encoder.dimensions


@pytest.mark.slow
def test_a_ray_build_is_the_local_build(local_ray: None, tmp_path: Path, encoder: SentenceEncoder,
                                        assistant: Assistant, seeds_index: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = Settings()
    settings = replace(settings, store=replace(settings.store, batch_texts=70))  # several resumable batches
    remote = RayEncoder(settings.model_path, settings.batch_size, RaySettings(actors=2, actor_batch=32))
    seen = []
    built = Assistant(corpus=corpus, index=tmp_path / "index", settings=settings, encoder=remote)
    from assistant.index.build import open_index

    stored, _, report = open_index(corpus, tmp_path / "index", settings, remote, progress=seen.append)
    assert report.encoded_texts == remote.encoded_texts and remote.ray_texts >= 0.5 * remote.encoded_texts
    assert len(seen) > 2 and seen[-1].articles_done == seen[-1].articles_total == 5  # progress, batch by batch
    shipped, _, _ = open_index(SEEDS, seeds_index, settings, encoder)
    assert stored.n_chunks == shipped.n_chunks
    for i in range(stored.n_chunks):
        assert stored.chunk(i).text == shipped.chunk(i).text
        assert float(np.dot(stored.chunk_vector(i), shipped.chunk_vector(i))) > 1 - 1e-4
    question = "Who is the Afghan foreign minister?"
    mine, theirs = assistant.ask(question), built.ask(question)
    assert theirs.found and [c.quote for c in theirs.citations] == [c.quote for c in mine.citations]
    assert_citation_contract(theirs.to_dict(), corpus)


@pytest.mark.slow
def test_cli_index_with_ray(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    code = main(["index", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--ray", "local",
                 "--ray-actors", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "5 articles" in out and "embedded" in out
    assert not ray.is_initialized()  # the CLI shuts its Ray down


def test_missing_ray_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins
    from typing import Any

    from assistant import ModelError

    real_import = builtins.__import__

    def no_ray(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    remote = RayEncoder(Settings().model_path)
    with pytest.raises(ModelError, match=r'pip install "assistant\[ray\]"'):
        remote.encode(["a text"] * ray_encoder.LOCAL_BELOW)
