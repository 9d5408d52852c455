"""Retrieval on a BEIR folder through Assistant.search: nDCG@10, Recall@100, MRR@10 per mode.

The index holds chunks; a document scores its best chunk (max-pooling). The top-10 measures come
from the shipped search depth (`k = RetrievalSettings.candidates` chunks, exactly what `ask` reads
from); Recall@100 from a deeper search that goes on until 100 distinct documents are ranked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from assistant import Assistant
from assistant.types import Hit

from .common import prime_questions
from .data import Documents
from .metrics import max_pool, mean, mrr_at_k, ndcg_at_k, recall_at_k

MODES = ("bm25", "dense", "hybrid")
# Published nDCG@10 on the SciFact test queries (../shared/bench/README.md gives the sources).
PUBLISHED = {
    "scifact": {"bm25": ("BM25 (Anserini)", 0.679), "dense": ("all-MiniLM-L6-v2", 0.645),
                "hybrid": ("BM25 + bge-base, min-max fusion", 0.747)},
}

Search = Callable[[str, int, str], Sequence[Hit]]


def doc_ranking(search: Search, docs: Documents, query: str, mode: str, k: int, want: int = 0) -> list[str]:
    """Documents ranked by their best chunk among the top `k` chunks; with `want`, k grows (doubling)
    until `want` distinct documents are ranked or every chunk is."""
    while True:
        hits = search(query, k, mode)
        ranking = max_pool((docs.doc_of[h.chunk.source], h.score) for h in hits)
        if len(ranking) >= want or len(hits) < k:
            return ranking
        k *= 2


def evaluate(
    assistant: Assistant, docs: Documents, queries: Mapping[str, str], qrels: Mapping[str, Mapping[str, int]],
    modes: Sequence[str] = MODES, search: Search | None = None,
) -> dict[str, dict[str, Any]]:
    """Mean nDCG@10, Recall@100 and MRR@10 per mode over the queries that have judgements."""
    run: Search = search or (lambda q, k, m: assistant.search(q, k=k, mode=m))
    depth = assistant.settings.retrieval.candidates
    if search is None:
        prime_questions(assistant, [queries[q] for q in qrels if q in queries])
    out: dict[str, dict[str, Any]] = {}
    for mode in modes:
        ndcg, recall, mrr = [], [], []
        for qid, rel in qrels.items():
            if qid not in queries:
                continue
            top = doc_ranking(run, docs, queries[qid], mode, depth)
            deep = doc_ranking(run, docs, queries[qid], mode, max(depth, 300), want=100)
            ndcg.append(ndcg_at_k(top, rel, 10))
            mrr.append(mrr_at_k(top, rel, 10))
            recall.append(recall_at_k(deep, rel, 100))
        out[mode] = {"queries": len(ndcg), "ndcg@10": mean(ndcg), "recall@100": mean(recall), "mrr@10": mean(mrr)}
    return out
