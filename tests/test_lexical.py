"""The postings BM25 in assistant/index/lexical.py gives exactly rank-bm25's Okapi scores (the reference)."""

from __future__ import annotations

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from assistant.config import DEFAULT_CORPUS as SEEDS
from assistant.index.lexical import LexicalIndex, tokenize
from assistant.ingest import read_corpus


def _seed_sentences() -> list[list[str]]:
    articles, _ = read_corpus(SEEDS)
    docs: list[list[str]] = []
    for article in articles:
        for start, end in article.body:
            docs.append(tokenize(article.text[start:end]))
    return docs


def test_scores_equal_rank_bm25_on_real_text() -> None:
    docs = _seed_sentences()
    assert len(docs) > 50
    docs.append([])  # an empty chunk scores 0 and still counts in N and avgdl
    reference = BM25Okapi(docs)
    fast = LexicalIndex(docs)
    queries = [d for d in docs[::7] if d] + [["taliban", "taliban", "mine"], ["nosuchwordanywhere"], []]
    for query in queries:
        expected = reference.get_scores(query) if query else np.zeros(len(docs))
        np.testing.assert_allclose(fast.scores(query), expected, rtol=0, atol=1e-9)


def test_negative_idf_takes_rank_bm25s_epsilon_floor() -> None:
    docs = [["a", "b"], ["a", "c"], ["a", "b", "d"], ["e"]]  # "a" is in 3 of 4 documents: negative idf
    np.testing.assert_allclose(LexicalIndex(docs).scores(["a", "b", "x"]),
                               BM25Okapi(docs).get_scores(["a", "b", "x"]), rtol=0, atol=1e-12)


@pytest.mark.parametrize("docs", [[], [[]], [[], []]])
def test_degenerate_corpora_score_zero(docs: list[list[str]]) -> None:
    index = LexicalIndex(docs)
    assert index.scores(["anything"]).tolist() == [0.0] * len(docs)
    ids, scores = index.search(["anything"], 5)
    assert len(ids) == 0 and len(scores) == 0


def test_search_returns_best_positive_rows_first() -> None:
    index = LexicalIndex([["x"], ["apple", "pie"], ["apple"], ["pie"], ["y"], ["z"]])
    ids, scores = index.search(["apple"], 10)
    assert ids.tolist() == [2, 1]  # the shorter chunk ranks first; chunks without the term are left out
    assert scores[0] > scores[1] > 0
