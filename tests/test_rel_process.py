"""Real processes: a build killed with SIGKILL at any moment, and two builders of one index at once.

Children build with a slow fake encoder (it sleeps per batch), so the kill lands mid-build."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS, FakeEncoder, assert_citation_contract

from assistant import Assistant, IndexLockedError, Settings
from assistant.chunking import chunk_article
from assistant.collection import copies_annotator
from assistant.config import StoreSettings
from assistant.index import store
from assistant.index.build import BuildInterrupted, open_index
from assistant.ingest import parse_article

TESTS = Path(__file__).resolve().parent
CHILD = """
import json, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
import numpy as np
from conftest import FakeEncoder
from assistant import Settings
from assistant.index import store
from assistant.errors import IndexLockedError
from assistant.index.build import open_index

corpus, index, marker, phase = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]

class SlowEncoder(FakeEncoder):
    def encode(self, texts, progress=False):
        if phase == "encoding":
            marker.touch()
            time.sleep(1.0)  # a batch that takes a while: the kill lands inside it
        rows = []
        for i in range(0, len(texts), 16):
            time.sleep(0.15)
            rows.append(super().encode(texts[i : i + 16]))
        return np.concatenate(rows) if rows else super().encode([])

if phase == "saving":  # stall between the new segment's files and the manifest switch
    real_write = store._write
    def slow_write(path, data):
        if path.name.startswith("files-"):
            marker.touch()
            time.sleep(2.0)
        return real_write(path, data)
    store._write = slow_write

encoder = SlowEncoder()
try:
    _, _, report = open_index(corpus, index, Settings(), encoder)
except IndexLockedError as exc:
    print(json.dumps({{"locked": str(exc)}}))
    sys.exit(3)
print(json.dumps({{"encoded": encoder.encoded_texts}}))
"""


def start_child(tmp_path: Path, corpus: Path, index: Path, marker: Path, phase: str) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(TESTS)))
    return subprocess.Popen(
        [sys.executable, str(script), str(corpus), str(index), str(marker), phase],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for(path: Path, child: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert child.poll() is None, f"child ended early: {child.communicate()}"
        assert time.monotonic() < deadline, "child never started building"
        time.sleep(0.02)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


def texts_to_embed(corpus: Path, source: str) -> int:
    """How many texts (chunks plus distinct sentences) one article costs to embed."""
    article = parse_article(source, (corpus / source).read_bytes())
    chunks = chunk_article(article, Settings().chunk, 0)
    return len(chunks) + len({s for c in chunks for s, _ in c.sentences})


def change(corpus: Path) -> None:
    """An edited and an added article: the update the killed child was making."""
    first = sorted(corpus.iterdir())[0]
    first.write_text(first.read_text(encoding="utf-8") + "\nThe talks resume on Friday in Dushanbe.\n",
                     encoding="utf-8")
    (corpus / "added.txt").write_text("Trucks for the army\n\nThe Tajik army got forty new trucks.\n",
                                      encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["encoding", "saving"])
def test_killed_build_leaves_the_previous_index_and_the_next_run_completes(
    tmp_path: Path, corpus: Path, phase: str
) -> None:
    index = tmp_path / "index"
    original = tmp_path / "original"
    shutil.copytree(corpus, original)
    open_index(corpus, index, Settings(), FakeEncoder())
    manifest = (index / store.MANIFEST).read_bytes()
    change(corpus)

    marker = tmp_path / "started"
    child = start_child(tmp_path, corpus, index, marker, phase)
    wait_for(marker, child)
    time.sleep(0.1)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL

    # The previous index is untouched, loads, and answers for the corpus it was built from.
    assert (index / store.MANIFEST).read_bytes() == manifest
    store.load(index)
    encoder = FakeEncoder()
    answer = Assistant(corpus=original, index=index, encoder=encoder).ask("Who leads the Tajik army?")
    # only the question (and single words, to match its terms in other words): the old index was used as it is
    assert encoder.encoded_texts - encoder.encoded_words == 1
    assert_citation_contract(answer.to_dict(), original)

    # The next run makes the whole update and cleans up the leftovers. Killed while embedding, it embeds
    # what changed; killed while saving, the embedded batch was kept in staging and nothing is embedded.
    encoder = FakeEncoder()
    stored, articles, report = open_index(corpus, index, Settings(), encoder)
    changed = texts_to_embed(corpus, sorted(p.name for p in corpus.iterdir())[0]) + texts_to_embed(corpus, "added.txt")
    assert encoder.encoded_texts == (changed if phase == "encoding" else 0)
    assert report.reused_articles == len(articles) - (2 if phase == "encoding" else 0)
    assert "added.txt" in stored.articles
    assert not [p for p in index.iterdir() if p.name.endswith(".tmp")] and not (index / store.STAGING).exists()
    named = {f["name"] for s in stored.manifest["segments"] for f in s["files"].values()}
    assert {p.name for p in index.glob("seg-*")} == named


@pytest.mark.slow
def test_two_processes_building_one_index_do_not_corrupt_it(tmp_path: Path, corpus: Path) -> None:
    """The second builder waits for the first (up to store.LOCK_WAIT_SECONDS), then finds the index
    current and embeds nothing: one build, one whole index."""
    index = tmp_path / "index"
    first = start_child(tmp_path, corpus, index, tmp_path / "m1", "encoding")
    wait_for(tmp_path / "m1", first)
    second = start_child(tmp_path, corpus, index, tmp_path / "m2", "encoding")
    results = [json.loads(p.communicate(timeout=120)[0]) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], results
    assert results[0]["encoded"] > 0 and results[1]["encoded"] == 0
    encoder = FakeEncoder()
    stored, articles, _ = open_index(corpus, index, Settings(), encoder)
    assert encoder.encoded_texts == 0 and set(stored.articles) == set(articles)


@pytest.mark.slow
def test_builder_that_cannot_wait_gets_a_clear_message(tmp_path: Path, corpus: Path) -> None:
    index = tmp_path / "index"
    child = start_child(tmp_path, corpus, index, tmp_path / "m1", "encoding")
    wait_for(tmp_path / "m1", child)
    with pytest.raises(IndexLockedError, match="another process is building the index"):
        open_index(corpus, index, Settings(), FakeEncoder(), lock_wait=0.2)
    child.communicate(timeout=120)
    assert child.returncode == 0
    store.load(index)


KILL_CHILD = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from conftest import FakeEncoder
from assistant import Settings
from assistant.config import StoreSettings
from assistant.index.build import open_index

corpus, index, log = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])

class LoggingEncoder(FakeEncoder):
    def encode(self, texts, progress=False):
        time.sleep(0.05)
        out = super().encode(texts)
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, f"{{len(texts)}}\\n".encode())  # this batch is embedded (not yet staged)
        os.close(fd)
        return out

open_index(corpus, index, Settings(store=StoreSettings(batch_texts={batch})), LoggingEncoder())
"""
KILL_BATCH = 200


def news_like_corpus(folder: Path, articles: int, seed: int = 0) -> None:
    """Short made-up reports: a title line and two sentences from a small vocabulary."""
    rng = random.Random(seed)
    words = ("army talks trucks border minister aid pledged billion river valley court vote harbor wheat "
             "council mayor storm bridge tariff ferry clinic drought").split()
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(articles):
        body = " ".join(" ".join(rng.choice(words) for _ in range(10)).capitalize() + "." for _ in range(2))
        (folder / f"{i:04d}.txt").write_text(f"Report number {i}\n\n{body}\n", encoding="utf-8")


@pytest.mark.slow
def test_sigkill_at_a_random_moment_of_a_2000_article_build_loses_at_most_one_batch(tmp_path: Path) -> None:
    corpus, index, log = tmp_path / "corpus", tmp_path / "index", tmp_path / "embedded.log"
    news_like_corpus(corpus, 2000)
    script = tmp_path / "kill_child.py"
    script.write_text(KILL_CHILD.format(tests=str(TESTS), batch=KILL_BATCH))
    child = subprocess.Popen([sys.executable, str(script), str(corpus), str(index), str(log)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(log, child, timeout=120)
    delay = random.Random().uniform(0.0, 8.0)
    time.sleep(delay)
    if child.poll() is None:
        os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    embedded = [int(line) for line in log.read_text().split()]
    root = index / store.STAGING
    batches = [b for key in (root.iterdir() if root.exists() else []) for b in _batches(index, key.name)]
    kept = sum(b.n_chunks + b.n_sentences for b in batches)
    finished = (index / store.MANIFEST).exists()
    lost = sum(embedded) - (kept if not finished else sum(embedded))
    assert 0 <= lost <= max(embedded), (delay, embedded, kept)  # at most the batch being embedded or staged

    encoder = FakeEncoder()
    stored, articles, report = open_index(corpus, index, Settings(store=StoreSettings(batch_texts=KILL_BATCH)), encoder)
    total = stored.n_chunks + stored.n_sentences
    assert len(articles) == 2000 and report.articles == 2000
    assert encoder.encoded_texts == (0 if finished else total - kept), (delay, kept, total)
    assert not (index / store.STAGING).exists()
    store.load(index)


def _batches(index: Path, key: str) -> list[Any]:
    staging = store.Staging(index, key, FakeEncoder.dimensions)
    return staging.open()


CTRL_C_CHILD = """
import signal, sys, time
# Ctrl+C as in a terminal, even when the suite runs as a background job (which starts with SIGINT ignored)
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {tests!r})
import assistant.core
from conftest import FakeEncoder
from assistant import Settings
from assistant.config import StoreSettings
from assistant.fronts import cli

class SlowEncoder(FakeEncoder):
    def encode(self, texts, progress=False):
        time.sleep(1.0)  # about 15 batches: the build is still running when Ctrl+C comes, however busy the CPU
        return super().encode(texts)

assistant.core.SentenceEncoder = lambda *args, **kwargs: SlowEncoder()
assistant.core.Settings = lambda: Settings(store=StoreSettings(batch_texts=40))
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_ctrl_c_keeps_the_finished_batches_says_how_to_resume_and_exits_130(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    news_like_corpus(corpus, 200)
    script = tmp_path / "ctrl_c_child.py"
    script.write_text(CTRL_C_CHILD.format(tests=str(TESTS)))
    child = subprocess.Popen([sys.executable, str(script), "index", "--corpus", str(corpus), "--index", str(index)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((index / store.STAGING).glob("*/batch-*/batch.json")):
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "interrupted" in err and "finished batches" in err and "Traceback" not in err
    assert f"Run `assistant index --corpus {corpus} --index {index}` again to resume" in err
    [key] = (index / store.STAGING).iterdir()
    kept = _batches(index, key.name)
    assert kept and not (index / store.MANIFEST).exists()
    encoder = FakeEncoder()
    settings = Settings(store=StoreSettings(batch_texts=40))  # resumed as `assistant index` resumes it, signatures too
    stored, _, _ = open_index(corpus, index, settings, encoder, annotate=copies_annotator(settings.duplicates))
    assert encoder.encoded_texts == stored.n_chunks + stored.n_sentences - sum(b.n_chunks + b.n_sentences for b in kept)


def test_ctrl_c_just_after_a_batch_is_committed_keeps_and_counts_that_batch(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The window the test above can hit by chance (it did once): the interrupt lands after a batch's
    batch.json is in place, before the build has recorded the batch. That batch is finished: it stays."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    news_like_corpus(corpus, 60)
    real_write = store._write
    committed: list[Path] = []

    def write_then_interrupt(path: Path, data: bytes) -> str:
        digest = real_write(path, data)
        if path.name == "batch.json":
            committed.append(path.parent)
            if len(committed) == 2:
                raise KeyboardInterrupt  # as Ctrl+C would, right after the commit point
        return digest

    monkeypatch.setattr(store, "_write", write_then_interrupt)
    settings = Settings(store=StoreSettings(batch_texts=40))
    with pytest.raises(BuildInterrupted) as interrupted:
        open_index(corpus, index, settings, FakeEncoder())
    monkeypatch.undo()
    assert len(committed) == 2 and all((batch / "batch.json").is_file() for batch in committed)
    assert "2 finished batches" in str(interrupted.value)
    [key] = (index / store.STAGING).iterdir()
    assert len(_batches(index, key.name)) == 2
