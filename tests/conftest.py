"""Shared fixtures: the real model (loaded once), the shipped articles and a copy of the shipped index.

Tests never write into the repo: every index they open lives under a tmp path.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import Answer, Assistant, IndexReport, Settings
from assistant.config import DEFAULT_CORPUS, DEFAULT_INDEX
from assistant.fronts import cli
from assistant.index.encoder import SentenceEncoder

SEEDS = DEFAULT_CORPUS
SHIPPED_INDEX = DEFAULT_INDEX


@pytest.fixture(autouse=True)
def private_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every process it starts) saves conversations under its tmp_path, never in the
    user's data folder."""
    path = tmp_path / "history" / "history.sqlite3"
    monkeypatch.setenv("ASSISTANT_HISTORY", str(path))
    return path


def seed_cases(items: Sequence[dict[str, Any]]) -> list[Any]:
    """Each answerable seed question as a test case; a known miss is a strict xfail, so fixing it makes the
    test fail too (and its `known_miss` reason must then go)."""
    return [
        pytest.param(item, id=item["q"][:60],
                     marks=[pytest.mark.xfail(strict=True, reason=item["known_miss"])] if "known_miss" in item else [])
        for item in items
    ]


@pytest.fixture(scope="session")
def encoder() -> SentenceEncoder:
    """The shipped all-MiniLM-L6-v2, loaded once for the whole run."""
    enc = SentenceEncoder(Settings().model_path)
    enc.encode(["warm up"])
    return enc


@pytest.fixture
def run(encoder: SentenceEncoder, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """cli.main(args) with the session's loaded model: (exit status, stdout, stderr)."""
    monkeypatch.setattr("assistant.core.SentenceEncoder", lambda *args, **kwargs: encoder)

    def call(*args: str) -> tuple[int, str, str]:
        status = cli.main(list(args))
        out = capsys.readouterr()
        return status, out.out, out.err

    return call


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the shipped embeddings/ folder."""
    target = tmp_path_factory.mktemp("shipped") / "embeddings"
    shutil.copytree(SHIPPED_INDEX, target, ignore=shutil.ignore_patterns(".lock"))
    return target


@pytest.fixture(scope="session")
def assistant(encoder: SentenceEncoder, seeds_index: Path) -> Assistant:
    """The assistant on the shipped articles and (a copy of) the shipped index, with the real model."""
    a = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder)
    a.open()
    return a


class FakeEncoder:
    """Deterministic stand-in for unit tests of storage and fusion only: hashed bag of words, unit norm."""

    model_id = "fake-encoder@1"
    dimensions = 32

    def __init__(self) -> None:
        self.encoded_texts = 0
        self.encoded_words = 0  # of those, single words (a question's terms and a passage's words, matching.py)

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
        out += 1e-3
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        self.encoded_texts += len(texts)
        self.encoded_words += sum(len(text.split()) == 1 for text in texts)
        return out


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


def assert_citation_contract(answer_dict: dict, where: Assistant | Path) -> None:  # type: ignore[type-arg]
    """Every quote is exactly its article's text at its offsets, and the answer is made of quotes only.

    `where` is the assistant that answered (its `article(source).text`, what the reader shows), or the
    corpus folder: then each article is read again from disk through the real readers, and a .txt/.md
    article's text must also be the file itself, decoded as UTF-8 (the on-disk contract)."""
    for citation in answer_dict["citations"]:
        text = _article_text(where, citation["source"])
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        assert citation["quote"] in answer_dict["answer"]
        if citation.get("answer_start") is not None:  # the answer phrase lies inside its quote
            assert citation["start"] <= citation["answer_start"] < citation["answer_end"] <= citation["end"]
    if answer_dict["found"]:
        assert answer_dict["citations"]
        rest = answer_dict["answer"]
        for citation in answer_dict["citations"]:
            rest = rest.replace(citation["quote"], "", 1)
        assert rest.strip() == ""
    else:
        assert answer_dict["answer"] == "" and answer_dict["citations"] == []


def _article_text(where: Assistant | Path, source: str) -> str:
    if isinstance(where, Assistant):
        return where.article(source).text
    from assistant.ingest import read_file

    file = where / source.split("#", 1)[0]
    [article] = [a for a in read_file(where, file) if a.source == source]
    if file.suffix.lower() in (".txt", ".md"):
        assert article.text == file.read_bytes().decode("utf-8")
    return article.text


NEWS = Path(__file__).parent / "data" / "news"


@pytest.fixture(scope="session")
def news_index(tmp_path_factory: pytest.TempPathFactory, encoder: SentenceEncoder) -> Path:
    """The index of the news fixture corpus (tests/data/news), built once with the real model."""
    index = tmp_path_factory.mktemp("news") / "index"
    Assistant(corpus=NEWS, index=index, encoder=encoder).open()
    return index


@pytest.fixture(scope="session")
def news(encoder: SentenceEncoder, news_index: Path) -> Assistant:
    """The assistant on the news fixture corpus: pages, an export, two feeds, front matter."""
    a = Assistant(corpus=NEWS, index=news_index, encoder=encoder)
    a.open()
    return a


class GatedAssistant(Assistant):
    """The real assistant on the seeds, but `open()` (and optionally `ask()`) wait until the test lets them go:
    for what a front does while the index loads or a question runs."""

    def __init__(self, encoder: SentenceEncoder, index: Path, gate_ask: bool = False) -> None:
        super().__init__(corpus=SEEDS, index=index, encoder=encoder)
        self.open_gate = threading.Event()
        self.ask_gate = threading.Event()
        if not gate_ask:
            self.ask_gate.set()

    @classmethod
    def holding_questions(cls, encoder: SentenceEncoder, index: Path) -> GatedAssistant:
        """Opens at once; each question waits for `ask_gate`."""
        slow = cls(encoder, index, gate_ask=True)
        slow.open_gate.set()
        return slow

    def open(self, progress: bool = False) -> IndexReport:
        assert self.open_gate.wait(60)
        return super().open(progress)

    def ask(self, question: str, context: Sequence[Answer] = ()) -> Answer:
        assert self.ask_gate.wait(60)
        return super().ask(question, context)
