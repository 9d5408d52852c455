"""Filters: reading since/until/sources, matching outlets, sites and globs, and ranking only inside the filter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from assistant.config import RetrievalSettings
from assistant.filters import Filter, parse_filter, source_matches
from assistant.index.dense import Ann, DenseIndex, build_quantized, read_quantized
from assistant.index.hybrid import HybridRetriever
from assistant.index.lexical import LexicalIndex
from assistant.types import Article, Chunk


def article(source: str, date: str | None = None, outlet: str | None = None, url: str | None = None) -> Article:
    return Article(source, "t", "x", ((0, 1),), "h", date=date, outlet=outlet, url=url)


@pytest.mark.parametrize(("since", "until", "expected"), [
    ("2022-06-01", "2022-06-30", ("2022-06-01", "2022-06-30")),
    ("2022-06", "2022-06", ("2022-06-01", "2022-06-30")),
    ("2024-02", "2024-02", ("2024-02-01", "2024-02-29")),  # a leap year's February
    ("2022", "2022", ("2022-01-01", "2022-12-31")),
    (" 2022-6-1 ", None, ("2022-06-01", None)),
    (None, "2022-06", (None, "2022-06-30")),
    ("", "", (None, None)),
    ("2022-06-14", "2022-06-14", ("2022-06-14", "2022-06-14")),
])
def test_dates_months_and_years(since: str | None, until: str | None, expected: tuple[str | None, str | None]) -> None:
    flt = parse_filter(since, until)
    assert (flt.since, flt.until) == expected


def test_sources_and_the_dict_round_trip() -> None:
    flt = parse_filter("2022-06", None, [" Harbor Times ", "", "cnn.com", "Harbor Times"])
    assert flt.sources == ("Harbor Times", "cnn.com")
    assert flt.to_dict() == {"since": "2022-06-01", "until": None, "sources": ["Harbor Times", "cnn.com"]}
    assert parse_filter(**flt.to_dict()) == flt
    assert flt.arguments() == {"since": "2022-06-01", "sources": ["Harbor Times", "cnn.com"]}
    assert Filter().arguments() == {}  # no filter: `ask(q)` is called exactly as before filters
    assert parse_filter(sources="feeds/*.xml").sources == ("feeds/*.xml",)
    assert not Filter().active and Filter().describe() == "all articles"
    assert flt.describe() == "published since 2022-06-01, from Harbor Times or cnn.com"
    assert Filter("2022-06-01", "2022-06-01").describe() == "published on 2022-06-01"


def test_dates_are_inclusive_days_and_undated_articles_are_outside() -> None:
    june = Filter("2022-06-01", "2022-06-30")
    assert june.matches(article("a", "2022-06-01")) and june.matches(article("b", "2022-06-30T23:59:00-04:00"))
    assert not june.matches(article("c", "2022-07-01")) and not june.matches(article("d", "2022-05-31T23:00:00Z"))
    assert not june.matches(article("e", None))
    assert Filter(sources=("e",)).matches(article("e", None))  # a source filter alone keeps undated articles


@pytest.mark.parametrize(("pattern", "matched"), [
    ("Harbor Times", True), ("harbor  times", True), ("Harbor", False),
    ("harbortimes.example", True), ("www.harbortimes.example", True), ("times.example", False),
    ("feeds/*.rss", True), ("feeds/harbor-times.rss", True), ("feeds/harbor-times.rss#ht-201", True),
    ("*#ht-2*", True), ("pages/*", False), ("*.atom", False),
])
def test_a_source_is_an_outlet_a_site_or_a_glob(pattern: str, matched: bool) -> None:
    entry = article("feeds/harbor-times.rss#ht-201", outlet="Harbor Times",
                    url="https://news.harbortimes.example/2022/06/10/fire")
    assert source_matches(pattern, entry) is matched


def _corpus(n: int = 3000, dims: int = 24) -> tuple[list[Chunk], np.ndarray, list[list[str]]]:
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(n, dims)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vocabulary = [f"t{i}" for i in range(300)]
    tokens = [[vocabulary[j] for j in rng.integers(0, len(vocabulary), 12)] for _ in range(n)]
    chunks = [Chunk(i, f"a{i // 10}", "t", 0, 1, ((0, 1),), " ".join(tokens[i])) for i in range(n)]
    return chunks, vectors, tokens


@pytest.mark.parametrize("quantized", [False, True], ids=["exact segments", "quantized index with faiss id selector"])
def test_dense_search_ranks_exactly_inside_the_allowed_rows(quantized: bool, tmp_path: Path) -> None:
    _, vectors, _ = _corpus()
    ann = None
    if quantized:  # an 8-bit index over all rows, asked through its ID selector (the filter holds > 10 rows)
        rows = build_quantized([vectors], tmp_path / "ann.faiss")
        ann = Ann(read_quantized(tmp_path / "ann.faiss"), rows, rerank=4, physical_to_id=None)
    dense = DenseIndex(vectors, ann=ann, exact_filter_rows=10)
    query = vectors[5] + 0.3 * vectors[7]
    unfiltered, _ = dense.search(query, 100)
    allowed = np.sort(np.setdiff1d(np.arange(len(vectors)), unfiltered))[::7].astype(np.int64)  # none of the top 100
    ids, scores = dense.search(query, 20, allowed)
    exact = allowed[np.argsort(-(vectors[allowed] @ query), kind="stable")[:20]]
    assert ids.tolist() == exact.tolist()
    assert np.allclose(scores, vectors[ids] @ query, atol=1e-5)
    assert dense.search(query, 5, np.zeros(0, dtype=np.int64))[0].tolist() == []
    assert len(dense.search(query, 50, allowed[:3])[0]) == 3


def test_bm25_search_ranks_inside_the_allowed_rows_with_the_corpus_scores() -> None:
    _, _, tokens = _corpus()
    lexical = LexicalIndex(tokens)
    reference = BM25Okapi(tokens).get_scores(["t1", "t2", "t3"])
    allowed = np.arange(1, len(tokens), 5, dtype=np.int64)
    ids, scores = lexical.search(["t1", "t2", "t3"], 15, allowed)
    best = np.sort(reference[allowed])[::-1][:15]
    assert set(ids.tolist()) <= set(allowed.tolist()) and len(ids) == 15
    assert np.allclose(scores, reference[ids]) and np.allclose(scores, best)  # the same scores (ties in any order)


def test_a_narrow_filter_still_finds_its_best_passages() -> None:
    """The one article allowed ranks far below the top 100 unfiltered; filtering after a top-k would lose it."""
    chunks, vectors, tokens = _corpus()
    retriever = HybridRetriever(chunks, DenseIndex(vectors), LexicalIndex(tokens), RetrievalSettings())
    query, words = vectors[0], ["t1", "t2"]
    everything = [h.chunk.id for h in retriever.search(query, words, 100)]
    outside = next(a for a in range(len(chunks) // 10) if not set(range(a * 10, a * 10 + 10)) & set(everything))
    rows = np.arange(outside * 10, outside * 10 + 10, dtype=np.int64)
    hits = retriever.search(query, words, 5, allowed=rows)
    assert len(hits) == 5 and {h.chunk.source for h in hits} == {f"a{outside}"}
    best = int(rows[np.argmax(vectors[rows] @ query)])
    assert best in [h.chunk.id for h in hits]
    assert retriever.search(query, words, 5, allowed=np.zeros(0, dtype=np.int64)) == []
