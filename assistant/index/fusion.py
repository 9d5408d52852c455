"""Pure functions that combine rankings. Never add raw BM25 to cosine: their scales differ."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def rrf(rankings: Sequence[Sequence[int]], k: int = 60, weights: Sequence[float] | None = None) -> dict[int, float]:
    """Reciprocal rank fusion, sum of w / (k + rank) with ranks from 1 (Cormack, Clarke & Buettcher 2009)."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc in enumerate(ranking, start=1):
            fused[doc] = fused.get(doc, 0.0) + weight / (k + rank)
    return fused


def min_max(scores: Mapping[int, float]) -> dict[int, float]:
    """Scale scores to [0, 1]; all-equal scores become 1 (each is the best there is)."""
    if not scores:
        return {}
    low, high = min(scores.values()), max(scores.values())
    if high == low:
        return dict.fromkeys(scores, 1.0)
    return {doc: (s - low) / (high - low) for doc, s in scores.items()}


def convex(first: Mapping[int, float], second: Mapping[int, float], weight: float) -> dict[int, float]:
    """weight * minmax(first) + (1 - weight) * minmax(second); a doc missing from a list scores 0 there."""
    a, b = min_max(first), min_max(second)
    return {doc: weight * a.get(doc, 0.0) + (1 - weight) * b.get(doc, 0.0) for doc in a.keys() | b.keys()}


def ranked(scores: Mapping[int, float]) -> list[tuple[int, float]]:
    """(doc, score) best first; ties broken by doc id so results are deterministic."""
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
