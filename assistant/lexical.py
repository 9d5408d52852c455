"""The one tokenizer (for documents and queries alike) and BM25 scoring with rank-bm25."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

# English function words (the classic Snowball list, less negations, which carry meaning in questions).
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself of off on once only or other our ours ourselves out over own same she should so some
    such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves s t d ll m o re ve y""".split()
)
TOKENIZER_VERSION = 1  # bump when tokenize() changes: stored tokens are then rebuilt
_TOKEN = re.compile(r"[^\W_]+(?:[.'’][^\W_]+)*", re.UNICODE)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, stop words dropped, Snowball-stemmed; "U.S." and "US" are both "us"."""
    words = [w.replace("’", "'") for w in _TOKEN.findall(text.lower())]
    words = [w.split("'")[0] if w.endswith(("'s", "'")) else w for w in words]
    words = [w if w[0].isdigit() else w.replace(".", "") for w in words if w]
    kept = [w for w in words if w and w not in STOP_WORDS]
    return list(_stemmer().stemWords(kept))


class LexicalIndex:
    """BM25 (Okapi, rank-bm25's defaults k1=1.5, b=0.75) over pre-tokenized chunks."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.size = len(documents)
        # rank-bm25 divides by the corpus size: an empty corpus has no BM25 side at all.
        self._bm25: Any = BM25Okapi([list(d) for d in documents]) if documents else None

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """The BM25 score of every chunk for the query (zeros when no query term is known)."""
        if self._bm25 is None or not query_tokens:
            return np.zeros(self.size, dtype=np.float64)
        return np.asarray(self._bm25.get_scores(list(query_tokens)), dtype=np.float64)

    def search(self, query_tokens: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and BM25 scores of the best `k` chunks with a positive score, best first."""
        scores = self.scores(query_tokens)
        positive = np.flatnonzero(scores > 0)
        if not len(positive):
            return positive, scores[positive]
        k = min(k, len(positive))
        top = positive[np.argpartition(-scores[positive], k - 1)[:k]]
        top = top[np.lexsort((top, -scores[top]))]
        return top, scores[top]


def idf_table(documents: Sequence[Sequence[str]]) -> dict[str, float]:
    """Positive IDF, ln(1 + (N - df + 0.5) / (df + 0.5)) (Lucene's BM25 form), for weighting query terms."""
    df: dict[str, int] = {}
    for doc in documents:
        for term in set(doc):
            df[term] = df.get(term, 0) + 1
    n = len(documents)
    return {t: float(np.log1p((n - d + 0.5) / (d + 0.5))) for t, d in df.items()}
