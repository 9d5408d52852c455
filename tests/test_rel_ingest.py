"""Bad article files: each is indexed correctly or skipped with a warning naming it, never a crash."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import SEEDS, FakeEncoder, assert_citation_contract

from assistant import Assistant, CorpusError, Settings
from assistant.index.build import open_index
from assistant.index.encoder import SentenceEncoder
from assistant.ingest import read_corpus

SEED = sorted(SEEDS.iterdir())[3]  # 003: Russia hosts Taliban talks (the Afghan foreign minister)
QUESTION = "Who is the Afghan foreign minister?"


def corpus_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir(exist_ok=True)
    shutil.copy(SEED, folder / SEED.name)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\r\n\t ", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(200), "binary file"),
        (bytes(range(1, 32)) * 20, "binary file"),
        ("Café au lait\n\nLe café était très chaud à Genève.\n".encode("latin-1"), "not UTF-8"),
        (b"Only a title\n", "no article text"),
        ("Only boilerplate\nRead More\nShare this:\nAdvertisement\nPhoto: AFP © Getty Images\n".encode(),
         "no article text"),
    ],
    ids=["empty", "blank", "png", "control characters", "latin-1", "title only", "only boilerplate"],
)
def test_unusable_file_is_skipped_with_a_warning_naming_it(
    tmp_path: Path, data: bytes, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = corpus_with(tmp_path, {"bad.txt": data})
    articles, skipped = read_corpus(corpus)
    assert [a.source for a in articles] == [SEED.name]
    assert len(skipped) == 1 and skipped[0].startswith("bad.txt: skipped") and reason in skipped[0]
    assert "bad.txt" in caplog.text
    _, _, report = open_index(corpus, tmp_path / "index", Settings(), FakeEncoder())
    assert report.articles == 1 and report.skipped == tuple(skipped)


def test_corpus_of_only_bad_files_is_a_clear_error(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes(b"")
    (corpus / "b.md").write_bytes("Caf\xe9\n".encode("latin-1"))
    with pytest.raises(CorpusError, match=r"no readable .*a\.txt: skipped, empty file.*b\.md"):
        read_corpus(corpus)


def test_symlinks_and_unreadable_files_are_skipped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = corpus_with(tmp_path, {"locked.txt": b"Locked\n\nYou cannot read this.\n"})
    (corpus / "link.txt").symlink_to(SEED)
    (corpus / "dangling.md").symlink_to(tmp_path / "nowhere.txt")
    (corpus / "folder.txt").mkdir()  # a directory with an article's name is not read
    os.mkfifo(corpus / "pipe.txt")  # nor is a named pipe (reading it would hang)
    real_read = Path.read_bytes

    def read_bytes(self: Path) -> bytes:  # root reads chmod 000 files: deny this one by hand
        if self.name == "locked.txt":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    articles, skipped = read_corpus(corpus)
    assert [a.source for a in articles] == [SEED.name]
    assert sorted(skipped) == [
        "dangling.md: skipped, a symbolic link (not followed)",
        "link.txt: skipped, a symbolic link (not followed)",
        "locked.txt: skipped, Permission denied",
    ]


@pytest.mark.parametrize("variant", ["bom+crlf", "cr"])  # each alone: test_rel_properties.py
def test_bom_and_line_endings_keep_quotes_at_their_offsets(
    tmp_path: Path, encoder: SentenceEncoder, variant: str
) -> None:
    text = SEED.read_text(encoding="utf-8")
    if "crlf" in variant:
        text = text.replace("\n", "\r\n")
    if variant == "cr":
        text = text.replace("\n", "\r")
    data = (b"\xef\xbb\xbf" if "bom" in variant else b"") + text.encode("utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "article.txt").write_bytes(data)
    assistant = Assistant(corpus=corpus, index=tmp_path / "index", encoder=encoder)
    answer = assistant.ask(QUESTION)
    assert answer.found and "Muttaqi" in answer.text
    assert_citation_contract(answer.to_dict(), corpus)
    for citation in answer.citations:
        assert data.decode("utf-8")[citation.start : citation.end] == citation.quote
    assert assistant.article("article.txt").title == SEED.read_text(encoding="utf-8").splitlines()[0].strip()


def test_duplicate_articles_under_two_names_are_both_citable(tmp_path: Path, encoder: SentenceEncoder) -> None:
    corpus = corpus_with(tmp_path, {"copy.txt": SEED.read_bytes()})
    assistant = Assistant(corpus=corpus, index=tmp_path / "index", encoder=encoder)
    answer = assistant.ask(QUESTION)
    assert answer.found and {c.source for c in answer.citations} <= {SEED.name, "copy.txt"}
    assert_citation_contract(answer.to_dict(), corpus)
    assert assistant.open().articles == 2
    (corpus / "copy.txt").rename(corpus / "copy2.txt")  # a renamed duplicate is reused, not re-embedded
    before = encoder.encoded_texts
    assert assistant.index().encoded_texts == 0 and encoder.encoded_texts == before


class HashEncoder(FakeEncoder):
    """One hash per text, not per word: the 50 MB test is about ingest, chunking and storage, and the
    per-word fake encoder alone would take minutes on 450,000 texts (the real model, hours)."""

    model_id = "hash-encoder@1"

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row, int(hashlib.md5(text.encode()).hexdigest(), 16) % self.dimensions] = 1.0
        self.encoded_texts += len(texts)
        return out


@pytest.mark.slow
def test_50_mb_article_indexes_in_bounded_time(tmp_path: Path) -> None:
    """50 MB: ordinary paragraphs plus one 1.7 MB paragraph with no line break (pysbd alone would
    need hours on it: its time grows with the square of the paragraph)."""
    paragraphs = [line for path in sorted(SEEDS.iterdir()) for line in path.read_text(encoding="utf-8").splitlines()[1:]
                  if len(line.split()) > 20]
    block = "\n\n".join(paragraphs) + "\n\n"
    huge = " ".join(paragraphs) * 100
    target = 50_000_000
    body = block * ((target - len(huge)) // len(block))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    data = f"A very long article\n{body}{huge}\n".encode()
    (corpus / "big.txt").write_bytes(data)
    started = time.monotonic()
    stored, articles, report = open_index(corpus, tmp_path / "index", Settings(), HashEncoder())
    took = time.monotonic() - started
    assert report.articles == 1 and report.chunks > 90_000 and took < 150
    text = articles["big.txt"].text
    assert len(text) >= 49_000_000
    tail = [c for c in stored.chunks if c.start >= len(text) - len(huge) - 1]
    assert len(tail) > 100  # the line-less paragraph was cut into sentences and chunks too
    for chunk in stored.chunks[:50] + stored.chunks[-50:] + tail[:50]:
        assert chunk.text == " ".join(text[s:e] for s, e in chunk.sentences)
