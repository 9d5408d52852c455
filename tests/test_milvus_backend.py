"""The Milvus backend against a real `milvus-lite server` on a loopback port, beside the local backend.

Each check uses the real model, the shipped seeds (and SciFact abstracts when /work/shared/bench has them),
the real local index the answers are read from, and real gRPC calls to Milvus."""

from __future__ import annotations

import builtins
import json
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS, assert_citation_contract

from assistant import Assistant, BackendError, Settings
from assistant.config import BackendSettings, StoreSettings
from assistant.fronts.cli import main
from assistant.index.encoder import SentenceEncoder
from assistant.index.milvus import MilvusBackend
from benchmarks.cli import BENCH
from benchmarks.scale import milvus_lite

pymilvus = pytest.importorskip("pymilvus")
DATA = json.loads((Path(__file__).parent / "data" / "seed_questions.json").read_text(encoding="utf-8"))
SCIFACT = BENCH / "scifact"
ABSTRACTS = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A milvus-lite server on a free loopback port, stopped by PID (SIGKILL: it ignores SIGTERM); the
    benchmark's own starter, so both run the server the same way."""
    exe = shutil.which("milvus-lite") or str(Path(sys.executable).with_name("milvus-lite"))
    if not Path(exe).exists():
        pytest.skip("milvus-lite is not installed (pip install 'assistant[milvus]')")
    with milvus_lite(tmp_path_factory.mktemp("milvus")) as uri:
        yield uri


def milvus(uri: str, name: str) -> MilvusBackend:
    return MilvusBackend(uri, collection=name)


def _copy_seeds(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    return corpus


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, encoder: SentenceEncoder) -> tuple[Path, Path, list[str]]:
    """The seeds plus the first ABSTRACTS SciFact abstracts as article files, indexed locally (sentence
    vectors lazy: the chunk vectors are what both backends rank), and the SciFact queries about them."""
    if not (SCIFACT / "corpus.jsonl").exists():
        pytest.skip(f"SciFact is not at {SCIFACT}")
    corpus = _copy_seeds(tmp_path_factory.mktemp("mixed"))
    kept: set[str] = set()
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as fh:
        for line, _ in zip(fh, range(ABSTRACTS), strict=False):
            row = json.loads(line)
            kept.add(str(row["_id"]))
            (corpus / f"scifact_{row['_id']}.txt").write_text(f"{row['title']}\n\n{row['text']}\n", encoding="utf-8")
    about: set[str] = set()
    for split in ("train", "test"):
        for line in (SCIFACT / "qrels" / f"{split}.tsv").read_text(encoding="utf-8").splitlines()[1:]:
            query, doc, *_ = line.split("\t")
            if doc in kept:
                about.add(query)
    queries = [json.loads(q) for q in (SCIFACT / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [q["text"] for q in queries if str(q["_id"]) in about][:40]
    index = corpus.parent / "index"
    Assistant(corpus=corpus, index=index, settings=_lazy(), encoder=encoder).open()
    return corpus, index, texts + [item["q"] for item in DATA["answerable"]]


def _lazy() -> Settings:
    return Settings(store=StoreSettings(sentence_vectors="lazy"))


@pytest.mark.slow
def test_top_chunks_overlap_with_the_local_backend(mixed: tuple[Path, Path, list[str]], milvus_uri: str,
                                                   encoder: SentenceEncoder) -> None:
    corpus, index, queries = mixed
    local = Assistant(corpus=corpus, index=index, settings=_lazy(), encoder=encoder)
    remote = Assistant(corpus=corpus, index=index, settings=_lazy(), encoder=encoder,
                       backend=milvus(milvus_uri, "mixed"))
    remote.open()
    assert remote.backend is not None and remote.backend.last_sync is not None
    assert remote.backend.last_sync.rows == local.open().chunks
    overlaps, firsts = [], 0
    for mode in ("hybrid", "dense", "bm25"):
        shares = []
        for query in queries:
            mine = [h.chunk.id for h in local.search(query, k=10, mode=mode)]
            theirs = [h.chunk.id for h in remote.search(query, k=10, mode=mode)]
            shares.append(len(set(mine) & set(theirs)) / len(mine))
            if mode == "hybrid":
                firsts += mine[0] == theirs[0]
        overlaps.append(sum(shares) / len(shares))
        print(f"{mode}: mean top-10 overlap {overlaps[-1]:.2f} over {len(queries)} queries")
    print(f"hybrid: same first chunk for {firsts}/{len(queries)} queries")
    hybrid, dense, bm25 = overlaps
    assert dense >= 0.95  # HNSW at this size is all but exact
    assert bm25 >= 0.9  # the same tokens; Milvus's BM25 keeps its IDF per segment (0.98 measured)
    assert hybrid >= 0.7  # WeightedRanker normalises with arctan, the local convex fusion min-max (0.80)
    assert firsts >= 0.7 * len(queries)  # 62 of 74 measured


@pytest.mark.slow
def test_seed_questions_get_the_same_quotes(milvus_uri: str, encoder: SentenceEncoder, seeds_index: Path,
                                            assistant: Assistant) -> None:
    remote = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder, backend=milvus(milvus_uri, "seeds"))
    same, questions = 0, [item["q"] for item in DATA["answerable"]] + list(DATA["out_of_corpus"])
    for question in questions:
        mine, theirs = assistant.ask(question), remote.ask(question)
        if theirs.found:
            assert_citation_contract(theirs.to_dict(), SEEDS)
        quotes = [(c.source, c.start, c.end) for c in mine.citations]
        same += mine.found == theirs.found and quotes == [(c.source, c.start, c.end) for c in theirs.citations]
    print(f"same answer (found, quoted spans) for {same}/{len(questions)} seed questions")
    assert same >= 0.85 * len(questions)


def _rows(uri: str, name: str) -> dict[str, str]:
    client = pymilvus.MilvusClient(uri=uri, timeout=10)
    rows = client.query(name, filter="ordinal >= 0", output_fields=["id", "sha"], limit=16384)
    client.close()
    return {r["id"]: r["sha"] for r in rows}


@pytest.mark.slow
def test_an_edited_article_changes_only_its_rows(tmp_path: Path, milvus_uri: str, encoder: SentenceEncoder) -> None:
    corpus = _copy_seeds(tmp_path)
    settings = Settings(backend=BackendSettings(kind="milvus", milvus_uri=milvus_uri, milvus_collection="edits"))
    first = Assistant(corpus=corpus, index=tmp_path / "index", settings=settings, encoder=encoder)
    first.index()
    before = _rows(milvus_uri, "edits")
    assert first.backend is not None and first.backend.last_sync is not None
    assert first.backend.last_sync.inserted == 5 and len(before) == first.backend.last_sync.rows
    edited = sorted(corpus.glob("*.txt"))[1]
    added = "The harbour authority said the new ferry from Quillport will carry 312 passengers."
    paragraphs = edited.read_text(encoding="utf-8").split("\n\n")  # inside the body, not after the page furniture
    edited.write_text("\n\n".join([*paragraphs[:3], added, *paragraphs[3:]]), encoding="utf-8")
    second = Assistant(corpus=corpus, index=tmp_path / "index", settings=settings, encoder=encoder)
    second.index()
    sync = second.backend.last_sync if second.backend is not None else None
    assert sync is not None and (sync.inserted, sync.removed) == (1, 1)
    after = _rows(milvus_uri, "edits")
    new_sha = second.article(edited.name).sha256
    changed = {i for i in before.keys() | after.keys() if before.get(i) != after.get(i)}
    assert changed and all(after.get(i, new_sha) == new_sha and before.get(i) != new_sha for i in changed)
    assert {i for i in before if before[i] == after.get(i)} == set(before) - changed  # the rest untouched
    assert len(after) == second.open().chunks
    answer = second.ask("How many passengers will the new ferry from Quillport carry?")
    assert answer.found and answer.text == added and answer.citations[0].source == edited.name
    third = Assistant(corpus=corpus, index=tmp_path / "index", settings=settings, encoder=encoder)
    third.open()  # nothing changed: the digest matches, nothing is written
    assert third.backend is not None and third.backend.last_sync is not None and third.backend.last_sync.rows == 0


@pytest.mark.slow
def test_filters_apply_inside_the_search(milvus_uri: str, encoder: SentenceEncoder, seeds_index: Path,
                                         assistant: Assistant) -> None:
    remote = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder, backend=milvus(milvus_uri, "seeds"))
    one = sorted(p.name for p in SEEDS.glob("*.txt"))[0]
    for question in ("Who is the Afghan foreign minister?", "What did the report say?"):
        hits = remote.search(question, k=20, sources=one)
        assert hits and {h.chunk.source for h in hits} == {one}
        assert len(hits) == len(assistant.search(question, k=20, sources=one))  # every chunk of it, none other
    empty = remote.ask("Who is the Afghan foreign minister?", since="2100-01-01")
    assert not empty.found and "no article" in empty.reason


def test_missing_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, seeds_index: Path,
                                        encoder: SentenceEncoder) -> None:
    real_import = builtins.__import__

    def no_pymilvus(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pymilvus" or name.startswith("pymilvus."):
            raise ImportError("No module named 'pymilvus'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pymilvus)
    a = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder, backend=MilvusBackend("http://127.0.0.1:9"))
    with pytest.raises(BackendError, match=r'pip install "assistant\[milvus\]"'):
        a.open()


def test_unreachable_uri_is_a_clear_error(seeds_index: Path, encoder: SentenceEncoder,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    a = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder, backend=MilvusBackend(uri))
    with pytest.raises(BackendError, match="cannot reach Milvus at " + uri):
        a.open()
    code = main(["ask", "--index", str(seeds_index), "--milvus-uri", uri, "--no-history", "Who won?"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach Milvus" in err and "Traceback" not in err


@pytest.mark.slow
def test_a_collection_built_otherwise_is_refused_not_rebuilt(milvus_uri: str, encoder: SentenceEncoder,
                                                             seeds_index: Path) -> None:
    Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder, backend=milvus(milvus_uri, "other")).open()
    rows = _rows(milvus_uri, "other")
    other = replace(BackendSettings(), hnsw_m=8)
    a = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder,
                  backend=MilvusBackend(milvus_uri, collection="other", settings=other))
    with pytest.raises(BackendError, match=r"built with other settings \(vector_index.*drop it.*--milvus-collection"):
        a.open()
    assert _rows(milvus_uri, "other") == rows  # untouched
    client = pymilvus.MilvusClient(uri=milvus_uri, timeout=10)
    client.create_collection("foreign", dimension=4)
    client.close()
    b = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder, backend=milvus(milvus_uri, "foreign"))
    with pytest.raises(BackendError, match="was not made by assistant"):
        b.open()


@pytest.mark.skipif(not os.environ.get("ASSISTANT_MILVUS_URI"), reason="set ASSISTANT_MILVUS_URI to a Milvus cluster")
def test_a_real_cluster(tmp_path: Path, encoder: SentenceEncoder) -> None:
    uri = os.environ["ASSISTANT_MILVUS_URI"]
    name = f"assistant_test_{os.getpid()}"
    corpus = _copy_seeds(tmp_path)
    a = Assistant(corpus=corpus, index=tmp_path / "index", encoder=encoder, backend=MilvusBackend(uri, name))
    try:
        answer = a.ask("Who is the Afghan foreign minister?")
        assert answer.found and "Muttaqi" in answer.text
        assert_citation_contract(answer.to_dict(), corpus)
    finally:
        client = pymilvus.MilvusClient(uri=uri, timeout=10)
        client.drop_collection(name)
        client.close()
