"""The store at scale, on small real data: opening reads no unchanged file, an update writes in
proportion to the change, dead rows never come back, and the approximate dense index ranks like the
exact one (filters included). The fake encoder stands in for the model: these are about storage."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SEEDS, FakeEncoder

from assistant import Assistant, Settings
from assistant.config import StoreSettings
from assistant.index import build, store
from assistant.index.build import open_index
from assistant.index.dense import DenseIndex
from assistant.index.lexical import LexicalIndex


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(SEEDS, target)
    for i in range(30):  # short made-up reports beside the seeds, so an update is a small share
        (target / f"report-{i:02d}.txt").write_text(
            f"Report {i} from the valley\n\nThe council of district {i} met on Monday about the bridge. "
            f"It voted {i} to 3 to repair the ferry before the storms. The mayor said the work would take "
            f"{i + 2} weeks.\n", encoding="utf-8")
    return target


def written_bytes(folder: Path, before: set[str]) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and p.name not in before)


def test_opening_an_unchanged_corpus_reads_no_file(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "index"
    open_index(corpus, folder, Settings(), FakeEncoder())
    reads: list[str] = []
    real = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    _, articles, report = open_index(corpus, folder, Settings(), FakeEncoder())
    assert report.encoded_texts == 0 and len(articles) == 35
    assert not [r for r in reads if r.startswith(str(corpus))]  # size and mtime matched: nothing read
    (corpus / "report-03.txt").touch()  # touched, not changed: hashed, not parsed
    os.utime(corpus / "report-04.txt", ns=(1, 1))
    touched = ["report-03.txt", "report-04.txt"]
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    for refresh in (False, True):  # a plain open writes nothing; `assistant index` records the new stats
        reads.clear()
        _, _, report = open_index(corpus, folder, Settings(), FakeEncoder(), refresh=refresh)
        assert sorted(Path(r).name for r in reads if r.startswith(str(corpus))) == touched
        assert report.encoded_texts == 0
        if not refresh:
            assert {p.name: real(p) for p in folder.iterdir() if p.is_file()} == before
    reads.clear()
    open_index(corpus, folder, Settings(), FakeEncoder())
    assert not [r for r in reads if r.startswith(str(corpus))]


def test_an_update_writes_in_proportion_to_the_change_and_dead_rows_never_return(
    corpus: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "index"
    open_index(corpus, folder, Settings(), FakeEncoder())
    total = store.load(folder).nbytes()
    before = {p.name for p in folder.iterdir()}
    edited = corpus / "report-07.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "The mayor resigned on Friday.\n", encoding="utf-8")
    encoder = FakeEncoder()
    stored, _, report = open_index(corpus, folder, Settings(), encoder)
    assert report.reused_articles == 34 and encoder.encoded_texts == 1 + 4  # one chunk, four sentences
    assert written_bytes(folder, before) < 0.2 * total  # a new small segment, the files table, the manifest
    assert len(stored.segments) == 2 and stored.dead[0].tolist() == [stored.segments[0].sources.index(edited.name)]
    # The old rows of the edited article are dead: never searched, never cited.
    assistant = Assistant(corpus=corpus, index=folder, encoder=FakeEncoder())
    hits = assistant.search("mayor resigned Friday valley report 7", k=50)
    sources = [h.chunk.source for h in hits]
    assert sources.count(edited.name) == 1 and "resigned" in hits[sources.index(edited.name)].chunk.text
    assert len({(h.chunk.source, h.chunk.start) for h in hits}) == len(hits)
    for hit in hits:  # every row's text is its article's current text
        text = (corpus / hit.chunk.source).read_text(encoding="utf-8")
        assert hit.chunk.text == " ".join(text[s:e] for s, e in hit.chunk.sentences)


def test_dead_rows_past_the_threshold_are_compacted(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "index"
    settings = Settings(store=StoreSettings(compact_dead_share=0.1))
    open_index(corpus, folder, settings, FakeEncoder())
    for p in sorted(corpus.glob("report-*.txt"))[:5]:
        p.unlink()
    for p in sorted(SEEDS.iterdir())[:2]:
        (corpus / p.name).write_text(p.read_text(encoding="utf-8") + "\nA correction was added.\n", encoding="utf-8")
    encoder = FakeEncoder()
    stored, articles, report = open_index(corpus, folder, settings, encoder)
    assert len(stored.segments) == 1 and not stored.dead[0].size  # one segment, no dead rows
    assert report.reused_articles == 28 and len(articles) == 30
    named = {f["name"] for s in stored.manifest["segments"] for f in s["files"].values()}
    assert {p.name for p in folder.glob("seg-*")} == named
    fresh = tmp_path / "fresh"
    again, _, _ = open_index(corpus, fresh, settings, FakeEncoder())
    assert sorted(c.text for c in stored.chunks) == sorted(c.text for c in again.chunks)


def test_bm25_over_segments_with_dead_rows_equals_a_fresh_index(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "index"
    open_index(corpus, folder, Settings(), FakeEncoder())
    (corpus / "report-01.txt").unlink()
    (corpus / "report-02.txt").write_text("Ferry news\n\nThe ferry sank near the bridge in the storm.\n",
                                          encoding="utf-8")
    stored, _, _ = open_index(corpus, folder, Settings(), FakeEncoder())
    assert len(stored.segments) == 2
    fresh, _, _ = open_index(corpus, tmp_path / "fresh", Settings(), FakeEncoder())
    by_key = {(c.source, c.start): i for i, c in enumerate(fresh.chunks)}
    mapping = np.asarray([by_key[(c.source, c.start)] for c in stored.chunks])
    a = LexicalIndex(parts=stored.postings_parts(), size=stored.n_chunks)
    b = LexicalIndex(parts=fresh.postings_parts(), size=fresh.n_chunks)
    for query in (["ferri", "bridg"], ["storm"], ["council", "district", "mayor"], ["taliban"]):
        expected = b.scores(query)[mapping]
        np.testing.assert_allclose(a.scores(query), expected, rtol=0, atol=1e-9)
        assert a.doc_freq(query[0]) == b.doc_freq(query[0])


def test_approximate_index_ranks_like_the_exact_one_filters_included(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "index"
    settings = Settings(store=StoreSettings(ann_threshold=10))
    stored, _, _ = open_index(corpus, folder, settings, FakeEncoder())
    assert stored.manifest["ann"] and (folder / stored.manifest["ann"]["name"]).exists()
    approximate = DenseIndex(parts=stored.dense_parts(), ann=stored.ann(settings.store), exact_filter_rows=3)
    exact = DenseIndex(parts=stored.dense_parts())
    rng = np.random.default_rng(0)
    allowed = np.sort(rng.choice(stored.n_chunks, 20, replace=False)).astype(np.int64)
    for row in range(0, stored.n_chunks, 7):
        query = FakeEncoder().encode([stored.chunk(row).text])[0]
        ids, scores = approximate.search(query, 10)
        want, want_scores = exact.search(query, 10)
        assert ids.tolist() == want.tolist()
        np.testing.assert_allclose(scores, want_scores, atol=1e-6)  # re-scored with the exact vectors
        ids, _ = approximate.search(query, 5, allowed=allowed)
        want, _ = exact.search(query, 5, allowed=allowed)
        assert ids.tolist() == want.tolist() and set(ids.tolist()) <= set(allowed.tolist())
    # After an update the approximate index still covers the old segment; dead rows never come back.
    (corpus / "report-05.txt").unlink()
    stored, _, _ = open_index(corpus, folder, settings, FakeEncoder())
    ann = stored.ann(settings.store)
    assert ann is not None and stored.dead[0].size
    approximate = DenseIndex(parts=stored.dense_parts(), ann=ann)
    exact = DenseIndex(parts=stored.dense_parts())
    for row in range(0, stored.n_chunks, 5):
        query = FakeEncoder().encode([stored.chunk(row).text])[0]
        (ids, scores), (want, want_scores) = approximate.search(query, 10), exact.search(query, 10)
        assert len(set(ids.tolist()) & set(want.tolist())) >= 9  # recall@10 on 8-bit codes, re-scored
        assert np.abs(scores - want_scores).max() < 2e-2
        assert not {stored.chunk(i).source for i in ids.tolist()} & {"report-05.txt"}


def test_per_article_arrays_and_data_are_kept_and_copied(corpus: Path, tmp_path: Path) -> None:
    """The place for derived per-article data (e.g. MinHash signatures): computed for new articles only."""
    calls: list[str] = []

    def annotate(article: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        calls.append(article.source)
        return {"signature": np.full(4, len(article.text), dtype=np.uint64)}, {"words": len(article.text.split())}

    folder = tmp_path / "index"
    open_index(corpus, folder, Settings(), FakeEncoder(), annotate=annotate)
    assert len(calls) == 35
    calls.clear()
    (corpus / "report-09.txt").rename(corpus / "renamed.txt")
    (corpus / "added.txt").write_text("Added\n\nThe bridge opened on Tuesday.\n", encoding="utf-8")
    stored, _, _ = build.open_index(corpus, folder, Settings(), FakeEncoder(), annotate=annotate)
    assert calls == ["added.txt"]  # the renamed article's rows and data were copied
    sources, signatures = stored.article_array("signature")
    assert len(sources) == 36 and signatures.shape == (36, 4) and signatures.dtype == np.uint64
    text = (corpus / "renamed.txt").read_text(encoding="utf-8")
    assert signatures[sources.index("renamed.txt")].tolist() == [len(text)] * 4
    assert stored.article_data("renamed.txt") == {"words": len(text.split())}
    assert json.loads(json.dumps(stored.article_data("added.txt")))["words"] == 6


@pytest.mark.slow
def test_pooled_sentence_vectors_cost_no_extra_encoding_and_still_answer(encoder: Any, tmp_path: Path) -> None:
    """sentence_vectors="pooled" embeds the chunks only; each sentence's vector is pooled from its tokens
    in the chunk pass. The chunk vectors are exactly what encode() gives."""
    from conftest import assert_citation_contract

    settings = Settings(store=StoreSettings(sentence_vectors="pooled"))
    assistant = Assistant(corpus=SEEDS, index=tmp_path / "index", settings=settings, encoder=encoder)
    before = encoder.encoded_texts
    report = assistant.open()
    assert encoder.encoded_texts - before == report.chunks == 38
    answer = assistant.ask("How much has Russia committed to train and equip the Tajik army?")
    assert answer.found and "$1.2 billion" in answer.text
    assert_citation_contract(answer.to_dict(), SEEDS)
    stored = store.load(tmp_path / "index")
    texts = [c.indexed_text(True) for c in stored.chunks[:6]]
    vectors, pooled = encoder.encode_spans(texts, [[(0, len(t)), (len(t) // 2, len(t))] for t in texts])
    np.testing.assert_allclose((vectors * encoder.encode(texts)).sum(axis=1), 1.0, atol=1e-5)
    for own in pooled:
        assert all(v is not None and abs(float(np.linalg.norm(v)) - 1) < 1e-5 for v in own)
    chunk = stored.chunk(0)
    row = stored.sentence_row(chunk.source, chunk.sentences[0][0])
    alone = encoder.encode([chunk.text[: chunk.sentences[0][1] - chunk.sentences[0][0]]])[0]
    assert float(stored.sentence_vector(row) @ alone) > 0.8  # the same sentence, read in its context


@pytest.mark.slow
def test_lazy_sentence_vectors_answer_as_the_stored_ones(encoder: Any, assistant: Assistant, tmp_path: Path) -> None:
    settings = Settings(store=StoreSettings(sentence_vectors="lazy"))
    lazy = Assistant(corpus=SEEDS, index=tmp_path / "index", settings=settings, encoder=encoder)
    assert lazy.open().encoded_texts == 38  # chunks only; sentences wait for a question
    for question in ("How much has Russia committed to train and equip the Tajik army?",
                     "Who is the Afghan foreign minister?", "Which country hosted the talks?"):
        a, b = lazy.ask(question), assistant.ask(question)
        assert (a.found, a.text, [c.source for c in a.citations]) == (b.found, b.text, [c.source for c in b.citations])
        assert abs(a.confidence - b.confidence) < 1e-3


def test_progress_reports_articles_texts_rate_and_eta(corpus: Path, tmp_path: Path) -> None:
    seen: list[build.Status] = []
    settings = Settings(store=StoreSettings(batch_texts=40))
    open_index(corpus, tmp_path / "index", settings, FakeEncoder(), progress=seen.append)
    assert seen[0].articles_done == 0 and seen[-1].articles_done == seen[-1].articles_total == 35
    assert [s.articles_done for s in seen] == sorted(s.articles_done for s in seen) and len(seen) > 3
    middle = seen[len(seen) // 2]
    assert middle.eta_seconds is not None and middle.rate > 0
    line = middle.line()
    assert f"{middle.articles_done}/35 articles" in line and "texts/s" in line and "ETA" in line
    assert "ETA" not in seen[-1].line()


def test_the_synthetic_benchmark_index_is_what_a_real_build_of_its_files_makes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """benchmarks.store.synthetic_index writes segments directly (no encoding, no sentence splitter, each
    pool sentence tokenized once). Given the same sentence boundaries, the real build of the same article
    files must make the same chunks, sentences, articles and BM25 postings; and the index must open as
    current (nothing to embed)."""
    from assistant import chunking
    from assistant.collection import SIGNATURE, copies_annotator
    from assistant.index.lexical import tokenize
    from assistant.ingest import read_corpus
    from benchmarks.store import synthetic_index

    settings = Settings()
    articles, _ = read_corpus(SEEDS)
    pool = list(dict.fromkeys(t for a in articles for c in chunking.chunk_article(a, settings.chunk, 0)
                              for t in _sentences(c)))
    folder, index = synthetic_index(tmp_path / "cache", pool, 700, FakeEncoder.model_id, FakeEncoder.dimensions,
                                    sentences_per_article=12, segment_chunks=250)
    synthetic = store.load(index)
    assert synthetic.n_chunks >= 700 and len(synthetic.segments) >= 3 and synthetic.n_sentences > 1000
    encoder = FakeEncoder()
    annotate = copies_annotator(settings.duplicates)
    reopened, _, report = open_index(folder, index, settings, encoder, annotate=annotate)
    assert report.encoded_texts == 0 and encoder.encoded_texts == 0 and reopened.n_chunks == synthetic.n_chunks
    # the synthetic index's sentence boundaries, for the real build to use instead of pysbd's
    spans: dict[str, set[tuple[int, int]]] = {}
    for chunk in synthetic.chunks:
        spans.setdefault(chunk.source, set()).update(chunk.sentences)
    monkeypatch.setattr(chunking, "article_sentences", lambda article, max_words: sorted(spans[article.source]))
    fresh, _, _ = open_index(folder, tmp_path / "fresh", settings, FakeEncoder(), annotate=annotate)
    assert (fresh.n_chunks, fresh.n_sentences) == (synthetic.n_chunks, synthetic.n_sentences)
    names, signed = synthetic.article_array(SIGNATURE)
    want = dict(zip(*fresh.article_array(SIGNATURE), strict=True))
    assert len(names) == len(want) and all(np.array_equal(s, want[n]) for n, s in zip(names, signed, strict=True))
    by_key = {(c.source, c.start, c.end): i for i, c in enumerate(fresh.chunks)}
    mapping = np.asarray([by_key[(c.source, c.start, c.end)] for c in synthetic.chunks])
    for i in range(0, synthetic.n_chunks, 7):
        a, b = synthetic.chunk(i), fresh.chunk(int(mapping[i]))
        assert (a.text, a.sentences, a.title) == (b.text, b.sentences, b.title)
        assert synthetic.article(a.source) == fresh.article(b.source)
    lexical = LexicalIndex(parts=synthetic.postings_parts(), size=synthetic.n_chunks)
    expected = LexicalIndex(parts=fresh.postings_parts(), size=fresh.n_chunks)
    for text in pool[:60:5]:
        query = tokenize(text)
        np.testing.assert_allclose(lexical.scores(query), expected.scores(query)[mapping], rtol=0, atol=1e-9)


def _sentences(chunk: Any) -> list[str]:
    out, at = [], 0
    for start, end in chunk.sentences:
        out.append(chunk.text[at : at + end - start])
        at += end - start + 1
    return out
