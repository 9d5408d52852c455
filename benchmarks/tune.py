"""Choosing defaults on the tuning splits only: chunk size, candidate depth, fusion method and weight.

Tuning data: SciFact train qrels (never the test qrels) and a fixed SQuAD v1.1 slice disjoint from the
2,000-question report sample. Each variant runs HybridRetriever.search (the code Assistant.search
calls) on the same loaded index; the two candidate lists are memoised per query, so a variant costs
only its fusion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from assistant import Assistant
from assistant.config import RetrievalSettings
from assistant.core import clean_question
from assistant.index.hybrid import HybridRetriever
from assistant.types import Hit

from .common import prime_questions
from .data import Documents
from .metrics import max_pool, mean, ndcg_at_k, recall_at_k
from .retrieval import doc_ranking

FUSIONS = ("rrf", "convex")
DENSE_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
DEPTHS = (50, 100, 200)


class _Memo:
    """One side's candidate list per (query, depth), computed once for all fusion variants."""

    def __init__(self, side: Any) -> None:
        self.side = side
        self.memo: dict[tuple[Any, int], tuple[np.ndarray, np.ndarray]] = {}

    def search(self, query: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        key = (query.tobytes() if isinstance(query, np.ndarray) else tuple(query), k)
        if key not in self.memo:
            self.memo[key] = self.side.search(query, k)
        return self.memo[key]


def variants() -> list[RetrievalSettings]:
    base = RetrievalSettings()
    return [replace(base, fusion=f, dense_weight=w, candidates=d)  # type: ignore[arg-type]
            for f in FUSIONS for w in DENSE_WEIGHTS for d in DEPTHS]


def label(r: RetrievalSettings) -> str:
    return f"{r.fusion} w={r.dense_weight:.1f} depth={r.candidates}"


class Searcher:
    """Encodes each query once (as Assistant.search does) and searches with any retrieval settings."""

    def __init__(self, assistant: Assistant) -> None:
        loaded: Any = assistant.loaded.retriever
        self.assistant = assistant
        self.chunks = loaded.chunks
        self.dense = _Memo(loaded.dense)
        self.lexical = _Memo(loaded.lexical)
        self.queries: dict[str, tuple[np.ndarray, list[str]]] = {}

    def prime(self, texts: list[str]) -> None:
        prime_questions(self.assistant, texts)

    def query(self, text: str) -> tuple[np.ndarray, list[str]]:
        if text not in self.queries:
            vector, tokens = self.assistant._query(clean_question(text))
            self.queries[text] = (np.asarray(vector), tokens)
        return self.queries[text]

    def search_with(self, settings: RetrievalSettings) -> Any:
        retriever = HybridRetriever(self.chunks, self.dense, self.lexical, settings)  # type: ignore[arg-type]

        def search(text: str, k: int, mode: str) -> list[Hit]:
            vector, tokens = self.query(text)
            return retriever.search(vector, tokens, k, mode)

        return search


def beir_variants(searcher: Searcher, docs: Documents, queries: Mapping[str, str],
                  qrels: Mapping[str, Mapping[str, int]], grid: Sequence[RetrievalSettings]) -> list[dict[str, Any]]:
    """nDCG@10 and Recall@100 of every retrieval variant (hybrid) on the given qrels."""
    searcher.prime([queries[q] for q in qrels if q in queries])
    rows = []
    for settings in grid:
        run = searcher.search_with(settings)
        ndcg, recall = [], []
        for qid, rel in qrels.items():
            if qid in queries:
                ndcg.append(ndcg_at_k(doc_ranking(run, docs, queries[qid], "hybrid", settings.candidates), rel, 10))
                recall.append(recall_at_k(doc_ranking(run, docs, queries[qid], "hybrid", max(settings.candidates, 300),
                                                      want=100), rel, 100))
        rows.append({"variant": label(settings), "fusion": settings.fusion, "dense_weight": settings.dense_weight,
                     "candidates": settings.candidates, "ndcg@10": mean(ndcg), "recall@100": mean(recall)})
    return rows


def squad_variants(searcher: Searcher, docs: Documents, questions: Sequence[Mapping[str, Any]],
                   grid: Sequence[RetrievalSettings]) -> list[dict[str, Any]]:
    """Gold paragraph at top-1 / top-5 of every retrieval variant on SQuAD tuning questions."""
    searcher.prime([q["question"] for q in questions])
    rows = []
    for settings in grid:
        run = searcher.search_with(settings)
        top1 = top5 = 0
        for q in questions:
            ranking = max_pool((docs.doc_of[h.chunk.source], h.score) for h in run(q["question"], settings.candidates,
                                                                                   "hybrid"))
            top1 += ranking[:1] == [q["gold_passage"]]
            top5 += q["gold_passage"] in ranking[:5]
        rows.append({"variant": label(settings), "gold_top1": top1 / len(questions),
                     "gold_top5": top5 / len(questions)})
    return rows
