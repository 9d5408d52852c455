"""The one tokenizer (for documents and queries alike) and BM25 scoring (rank-bm25's Okapi, from postings)."""

from __future__ import annotations

import math
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
    """BM25 (Okapi, rank-bm25's defaults k1=1.5, b=0.75, epsilon=0.25) over pre-tokenized chunks.

    Scores equal `rank_bm25.BM25Okapi.get_scores` (the reference, kept in the tests), computed from
    postings instead of a Python loop over every chunk per query term: each term keeps the rows that
    contain it and its precomputed tf part, tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)) (Robertson
    & Zaragoza 2009), so a query costs the length of its terms' postings, not the corpus size.
    """

    k1 = 1.5
    b = 0.75
    epsilon = 0.25

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.size = len(documents)
        # Same scan order as rank-bm25, so the average idf (a float sum) comes out bit-for-bit equal.
        term_ids: dict[str, int] = {}
        doc_freq: list[int] = []
        rows: list[int] = []
        terms: list[int] = []
        freqs: list[int] = []
        lengths = np.zeros(self.size, dtype=np.float64)
        for row, doc in enumerate(documents):
            lengths[row] = len(doc)
            counts: dict[str, int] = {}
            for word in doc:
                counts[word] = counts.get(word, 0) + 1
            for word, tf in counts.items():
                tid = term_ids.setdefault(word, len(term_ids))
                if tid == len(doc_freq):
                    doc_freq.append(0)
                doc_freq[tid] += 1
                rows.append(row)
                terms.append(tid)
                freqs.append(tf)
        self._term_ids = term_ids
        self._idf = self._okapi_idf(doc_freq)
        # Postings as CSR: the rows of term t are _rows[_starts[t]:_starts[t + 1]].
        order = np.argsort(np.asarray(terms, dtype=np.int64), kind="stable")
        self._rows = np.asarray(rows, dtype=np.int64)[order]
        tf_of_posting = np.asarray(freqs, dtype=np.float64)[order]
        self._starts = np.zeros(len(term_ids) + 1, dtype=np.int64)
        per_term = np.bincount(np.asarray(terms, dtype=np.int64), minlength=len(term_ids))
        np.cumsum(per_term, out=self._starts[1:])
        avgdl = float(lengths.sum()) / self.size if self.size else 0.0
        if avgdl > 0:
            norm = self.k1 * (1 - self.b + self.b * lengths / avgdl)
            self._tf_part = tf_of_posting * (self.k1 + 1) / (tf_of_posting + norm[self._rows])
        else:  # no chunk has any token: nothing can match
            self._tf_part = np.zeros(0, dtype=np.float64)

    def _okapi_idf(self, doc_freq: list[int]) -> np.ndarray:
        """ln((N - df + 0.5) / (df + 0.5)); a negative idf becomes epsilon * mean idf (rank-bm25's floor)."""
        n = self.size
        idf = [math.log(n - df + 0.5) - math.log(df + 0.5) for df in doc_freq]
        if idf:
            floor = self.epsilon * (sum(idf) / len(idf))
            idf = [floor if value < 0 else value for value in idf]
        return np.asarray(idf, dtype=np.float64)

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """The BM25 score of every chunk for the query (zeros when no query term is known)."""
        scores = np.zeros(self.size, dtype=np.float64)
        if not len(self._tf_part):
            return scores
        for token in query_tokens:  # a repeated query term counts again, as in rank-bm25
            tid = self._term_ids.get(token)
            if tid is None:
                continue
            start, end = self._starts[tid], self._starts[tid + 1]
            scores[self._rows[start:end]] += self._idf[tid] * self._tf_part[start:end]
        return scores

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


def idf(n: int, df: int) -> float:
    """Positive IDF, ln(1 + (N - df + 0.5) / (df + 0.5)) (Lucene's BM25 form); df=0 gives the maximum."""
    return float(np.log1p((n - df + 0.5) / (df + 0.5)))


def idf_table(documents: Sequence[Sequence[str]]) -> dict[str, float]:
    """IDF of every term of the corpus, for weighting query terms in answer selection."""
    df: dict[str, int] = {}
    for doc in documents:
        for term in set(doc):
            df[term] = df.get(term, 0) + 1
    return {t: idf(len(documents), d) for t, d in df.items()}
