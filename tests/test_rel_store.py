"""A damaged, mismatched, read-only or full index never gives a wrong answer and never loses the old
index; corpus changes are picked up, and unchanged articles are not embedded again.

The fake encoder stands in for the model here: these tests are about files, not answers' quality."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import pathlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SEEDS, FakeEncoder

from assistant import Assistant, IndexLockedError, IndexStoreError, Settings
from assistant.chunking import chunk_article
from assistant.config import ChunkSettings
from assistant.index import store
from assistant.index.build import open_index
from assistant.ingest import parse_article

QUESTION = "How much has Russia committed to train and equip the Tajik army?"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def built(corpus: Path, tmp_path: Path) -> Path:
    """An index of the seed articles built with the fake encoder."""
    folder = tmp_path / "index"
    open_index(corpus, folder, Settings(), FakeEncoder())
    return folder


def ask(corpus: Path, folder: Path, encoder: FakeEncoder | None = None) -> dict[str, Any]:
    return Assistant(corpus=corpus, index=folder, encoder=encoder or FakeEncoder()).ask(QUESTION).to_dict()


def texts_to_embed(corpus: Path, source: str) -> int:
    """How many texts (chunks plus distinct sentences) one article costs to embed."""
    article = parse_article(source, (corpus / source).read_bytes())
    chunks = chunk_article(article, Settings().chunk, 0)
    return len(chunks) + len({s for c in chunks for s, _ in c.sentences})


def snapshot(folder: Path) -> dict[str, bytes]:
    """The index's files (finished batches of an interrupted build, in .staging/, are not the index)."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name not in (store.LOCK, store.STAGING)}


def manifest_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / store.MANIFEST).read_text())  # type: ignore[no-any-return]


def files(folder: Path, kind: str) -> Path:
    """A file of the index's first segment: "vectors.npy", "chunks.npy", "texts.bin", ..."""
    return folder / str(manifest_of(folder)["segments"][0]["files"][kind]["name"])


def edit_manifest(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    manifest = manifest_of(folder)
    change(manifest)
    (folder / store.MANIFEST).write_text(json.dumps(manifest))


def rewrite_with_checksum(folder: Path, kind: str, data: bytes) -> None:
    """Replace a segment file and record its new checksum: damage only the structure checks can see."""
    path = files(folder, kind)
    path.write_bytes(data)

    def fix(m: dict[str, Any]) -> None:
        m["segments"][0]["files"][kind].update(size=len(data), sha256=hashlib.sha256(data).hexdigest())

    edit_manifest(folder, fix)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _chunks_point_elsewhere(folder: Path) -> None:
    rows = np.load(files(folder, "chunks.npy"))
    rows[:, 1] = rows[::-1, 1]  # each chunk now claims another chunk's sentences
    rewrite_with_checksum(folder, "chunks.npy", _npy(rows))


def _sentences_past_the_text(folder: Path) -> None:
    rows = np.load(files(folder, "sentences.npy"))
    rows[-1, 2] += 10_000
    rewrite_with_checksum(folder, "sentences.npy", _npy(rows))


def _postings_outside(folder: Path) -> None:
    rows = np.load(files(folder, "rows.npy"))
    rows[0] = 1_000_000
    rewrite_with_checksum(folder, "rows.npy", _npy(rows))


def _swap_vector_files(m: dict[str, Any]) -> None:
    f = m["segments"][0]["files"]
    f["vectors.npy"], f["sentence_vectors.npy"] = f["sentence_vectors.npy"], f["vectors.npy"]


DAMAGE: dict[str, Callable[[Path], object]] = {
    "truncated vectors": lambda f: files(f, "vectors.npy").write_bytes(files(f, "vectors.npy").read_bytes()[:1000]),
    "garbage vectors": lambda f: files(f, "vectors.npy").write_bytes(os.urandom(4096)),
    "empty sentence vectors": lambda f: files(f, "sentence_vectors.npy").write_bytes(b""),
    "missing chunk file": lambda f: files(f, "chunks.npy").unlink(),
    "texts cut short": lambda f: files(f, "texts.bin").write_bytes(files(f, "texts.bin").read_bytes()[:-300]),
    "edited texts": lambda f: files(f, "texts.bin").write_bytes(files(f, "texts.bin").read_bytes().replace(b"a", b"e")),
    "edited metadata": lambda f: files(f, "articles.jsonl").write_text(
        files(f, "articles.jsonl").read_text().replace("Russia", "Rwanda")),
    "chunks point at other sentences": _chunks_point_elsewhere,
    "sentences past the text": _sentences_past_the_text,
    "postings point outside": _postings_outside,
    "files table edited": lambda f: (f / manifest_of(f)["files_table"]["name"]).write_text("{}"),
    "manifest not JSON": lambda f: (f / store.MANIFEST).write_text("{not json"),
    "manifest a JSON list": lambda f: (f / store.MANIFEST).write_text("[1, 2]"),
    "manifest truncated": lambda f: (f / store.MANIFEST).write_bytes((f / store.MANIFEST).read_bytes()[:300]),
    "manifest row counts wrong": lambda f: edit_manifest(f, lambda m: m["segments"][0].update(chunks=1)),
    "manifest files swapped": lambda f: edit_manifest(f, _swap_vector_files),
    "manifest dead rows outside": lambda f: edit_manifest(f, lambda m: m["segments"][0].update(dead=[999])),
    "manifest names a file outside": lambda f: edit_manifest(
        f, lambda m: m["segments"][0]["files"]["chunks.npy"].update(name="../../etc/passwd")),
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_index_is_rebuilt_never_used(corpus: Path, built: Path, damage: str) -> None:
    expected = ask(corpus, built)
    DAMAGE[damage](built)
    encoder = FakeEncoder()
    _, _, report = open_index(corpus, built, Settings(), encoder)
    assert report.rebuilt and encoder.encoded_texts == sum(texts_to_embed(corpus, p.name) for p in corpus.iterdir())
    assert ask(corpus, built) == expected
    store.load(built)  # the rebuilt index is whole again


class OtherModel(FakeEncoder):
    model_id = "another-model@2"


@pytest.mark.parametrize(
    ("encoder", "settings"),
    [(OtherModel(), Settings()), (FakeEncoder(), Settings(chunk=ChunkSettings(max_words=60))),
     (FakeEncoder(), Settings(chunk=ChunkSettings(title_in_text=False)))],
    ids=["other model", "other chunk size", "other title setting"],
)
def test_index_from_another_model_or_setting_is_rebuilt(
    corpus: Path, built: Path, encoder: FakeEncoder, settings: Settings
) -> None:
    stored, _, report = open_index(corpus, built, settings, encoder)
    assert report.rebuilt and report.reused_articles == 0 and encoder.encoded_texts > 0
    assert stored.model == encoder.model_id and store.load(built).identity["chunk"] == vars(settings.chunk)


def test_corpus_changes_are_picked_up_and_unchanged_articles_not_reembedded(corpus: Path, built: Path) -> None:
    names = sorted(p.name for p in corpus.iterdir())
    (corpus / names[0]).unlink()  # deleted
    (corpus / names[1]).rename(corpus / "renamed.txt")  # renamed: same content, reused
    edited = corpus / names[2]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nA new closing line was added today.\n", encoding="utf-8")
    (corpus / "added.md").write_text("Added article\n\nThe Tajik army got new trucks on Monday.\n", encoding="utf-8")
    encoder = FakeEncoder()
    stored, articles, report = open_index(corpus, built, Settings(), encoder)
    assert set(articles) == {"renamed.txt", names[2], names[3], names[4], "added.md"}
    assert set(stored.articles) == set(articles) and {c.source for c in stored.chunks} == set(articles)
    assert encoder.encoded_texts == texts_to_embed(corpus, names[2]) + texts_to_embed(corpus, "added.md")
    assert report.reused_articles == 3 and not report.rebuilt
    for chunk in stored.chunks:  # every row points at the current text of its (possibly renamed) file
        text = (corpus / chunk.source).read_bytes().decode("utf-8")
        assert chunk.text == " ".join(text[s:e] for s, e in chunk.sentences)
    again = FakeEncoder()
    open_index(corpus, built, Settings(), again)
    assert again.encoded_texts == 0


def test_articles_in_subfolders_are_reused_not_rebuilt(corpus: Path, tmp_path: Path) -> None:
    """Rows follow path order ("a/b" before "a-b"), the manifest name order: both must be accepted."""
    (corpus / "a").mkdir()
    for name in ("a/b.txt", "a-b.txt", "a.b.txt"):
        (corpus / name).write_text(f"{name}\n\nAn article filed as {name} about Kabul.\n", encoding="utf-8")
    folder = tmp_path / "index"
    open_index(corpus, folder, Settings(), FakeEncoder())
    encoder = FakeEncoder()
    _, articles, report = open_index(corpus, folder, Settings(), encoder)
    assert "a/b.txt" in articles and encoder.encoded_texts == 0 and not report.rebuilt


def test_unchanged_corpus_adds_nothing_to_the_folder(corpus: Path, built: Path) -> None:
    before = snapshot(built)
    encoder = FakeEncoder()
    open_index(corpus, built, Settings(), encoder)
    assert encoder.encoded_texts == 0 and snapshot(built) == before


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Make a folder read-only even for root: every write, create, rename or delete in it fails (EROFS)."""

    def patch(folder: Path) -> None:
        inside = str(folder.resolve())

        def denied(path: Any) -> bool:
            return str(Path(os.fsdecode(path)).resolve()).startswith(inside)

        def fail(path: Any) -> None:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fsdecode(path))

        real_open, real_path_open = os.open, pathlib.Path.open
        real_replace, real_unlink = os.replace, os.unlink

        def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and denied(path):
                fail(path)
            return real_open(path, flags, *args, **kwargs)

        def path_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if any(c in mode for c in "wax+") and denied(self):
                fail(self)
            return real_path_open(self, mode, *args, **kwargs)

        def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            if denied(dst):
                fail(dst)
            real_replace(src, dst, *args, **kwargs)

        def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
            if denied(path):
                fail(path)
            real_unlink(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", os_open)
        monkeypatch.setattr(pathlib.Path, "open", path_open)
        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "unlink", unlink)

    return patch


def test_read_only_index_opens_and_answers_when_corpus_unchanged(
    corpus: Path, built: Path, read_only: Callable[[Path], None]
) -> None:
    expected = ask(corpus, built)
    before = snapshot(built)
    read_only(built)
    encoder = FakeEncoder()
    assert ask(corpus, built, encoder) == expected
    assert encoder.encoded_texts - encoder.encoded_words == 1  # the question (and single words, matching.py)
    assert snapshot(built) == before


def test_read_only_index_with_changed_corpus_is_a_clear_error(
    corpus: Path, built: Path, read_only: Callable[[Path], None]
) -> None:
    before = snapshot(built)
    (corpus / "added.txt").write_text("Added\n\nSomething new happened in Kabul today.\n", encoding="utf-8")
    read_only(built)
    with pytest.raises(IndexStoreError, match=r"read-only.*--index"):
        Assistant(corpus=corpus, index=built, encoder=FakeEncoder()).open()
    assert snapshot(built) == before


def test_damaged_read_only_index_says_what_to_run(
    corpus: Path, built: Path, read_only: Callable[[Path], None]
) -> None:
    DAMAGE["garbage vectors"](built)
    read_only(built)
    with pytest.raises(IndexStoreError, match=r"damaged.*Run `assistant index --corpus .* --index "):
        open_index(corpus, built, Settings(), FakeEncoder())


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_full_disk_while_writing_keeps_the_old_index(
    corpus: Path, built: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    expected = ask(corpus, built)
    before = snapshot(built)
    (corpus / "added.txt").write_text("Added\n\nSomething new happened in Kabul today.\n", encoding="utf-8")
    calls = {"n": 0}

    def full(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if where != "replace" or calls["n"] > 1:  # for "replace": the first file lands, the next does not
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    if where == "write":
        real = io.BufferedWriter.write
        monkeypatch.setattr(os, "fdopen", lambda fd, mode: _FullFile(fd))
    else:
        real = getattr(os, where)
        monkeypatch.setattr(os, where, full)
    with pytest.raises(IndexStoreError, match=r"disk is full.*previous index is unchanged"):
        open_index(corpus, built, Settings(), FakeEncoder())
    monkeypatch.undo()
    assert snapshot(built) == before  # nothing half-written is left behind either
    (corpus / "added.txt").unlink()
    assert ask(corpus, built) == expected


class _FullFile(io.FileIO):
    """A file on a full disk: opening works, writing fails."""

    def __init__(self, fd: int) -> None:
        super().__init__(fd, "wb", closefd=True)

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_second_builder_gets_a_clear_lock_error(corpus: Path, built: Path) -> None:
    (corpus / "added.txt").write_text("Added\n\nSomething new happened in Kabul today.\n", encoding="utf-8")
    with store.build_lock(built), pytest.raises(IndexLockedError, match="another process is building"):
        open_index(corpus, built, Settings(), FakeEncoder(), lock_wait=0.3)
    _, _, report = open_index(corpus, built, Settings(), FakeEncoder())  # lock released: the update runs
    assert report.encoded_texts > 0


def test_stale_temporary_files_are_cleaned_up(corpus: Path, built: Path) -> None:
    (built / ".vectors-dead.npy.x1.tmp").write_bytes(b"half")
    (built / "seg-deadbeef0000.vectors.npy").write_bytes(b"orphan of an interrupted save")
    (built / "chunks-deadbeef0000.jsonl").write_text("a format 1 generation\n")
    (corpus / "added.txt").write_text("Added\n\nSomething new happened in Kabul today.\n", encoding="utf-8")
    open_index(corpus, built, Settings(), FakeEncoder())
    names = set(os.listdir(built))
    named = {f["name"] for s in manifest_of(built)["segments"] for f in s["files"].values()}
    named.add(manifest_of(built)["files_table"]["name"])
    assert {n for n in names if n.startswith(("seg-", "files-", "chunks-", "vectors-", "."))} == named | {store.LOCK}
