"""Ranking and classification measures, each named after its formula. Ranks count from 1."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence


def ndcg_at_k(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with gain rel / log2(rank + 1) (Järvelin & Kekäläinen 2002; the trec_eval/BEIR form)."""
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 1) for rank, doc in enumerate(ranking[:k], start=1))
    ideal = sorted((r for r in relevant.values() if r > 0), reverse=True)[:k]
    idcg = sum(rel / math.log2(rank + 1) for rank, rel in enumerate(ideal, start=1))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant documents found in the first k."""
    wanted = {doc for doc, rel in relevant.items() if rel > 0}
    return len(wanted & set(ranking[:k])) / len(wanted) if wanted else 0.0


def mrr_at_k(ranking: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant document within the first k, else 0."""
    for rank, doc in enumerate(ranking[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def max_pool(ranked_units: Iterable[tuple[str, float]]) -> list[str]:
    """Documents in order of their best unit (chunk): a document scores its best chunk."""
    best: dict[str, float] = {}
    for doc, score in ranked_units:
        if doc not in best or score > best[doc]:
            best[doc] = score
    order = {doc: i for i, doc in enumerate(best)}  # first seen wins ties (the retriever's own order)
    return sorted(best, key=lambda d: (-best[d], order[d]))


def roc_auc(scores: Iterable[float], positives: Iterable[bool]) -> float:
    """Probability that a random positive scores above a random negative (ties count half); Mann-Whitney U."""
    pairs = sorted((float(s), bool(p)) for s, p in zip(list(scores), list(positives), strict=True))
    n_pos = sum(1 for _, p in pairs if p)
    n_neg = len(pairs) - n_pos
    if not n_pos or not n_neg:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + 1 + j) / 2  # average rank of a tie group, ranks from 1
        rank_sum += mid_rank * sum(1 for _, p in pairs[i:j] if p)
        i = j
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else float("nan")


# SQuAD v1.1 answer scoring, exactly as the official evaluate-v1.1.py (Rajpurkar et al. 2016): lowercase,
# drop punctuation, drop the articles a/an/the, collapse whitespace; EM and token F1, each the max over
# the accepted answers.
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def squad_normalize(text: str) -> str:
    """The official normalize_answer: lower, remove punctuation, remove articles, fix whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_SQUAD_ARTICLES.sub(" ", text).split())


def squad_f1(prediction: str, truth: str) -> float:
    """The official f1_score: harmonic mean of token precision and recall after normalisation."""
    pred, gold = squad_normalize(prediction).split(), squad_normalize(truth).split()
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def squad_exact(prediction: str, truth: str) -> float:
    """The official exact_match_score."""
    return float(squad_normalize(prediction) == squad_normalize(truth))


def squad_scores(prediction: str, truths: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) of one prediction, each the max over the accepted answers (metric_max_over_ground_truths)."""
    return max(squad_exact(prediction, t) for t in truths), max(squad_f1(prediction, t) for t in truths)
