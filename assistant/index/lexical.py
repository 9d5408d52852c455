"""The one tokenizer (for documents and queries alike), BM25 postings as arrays, and BM25 scoring
(rank-bm25's Okapi, from the postings of every segment of the index)."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
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
    return [term for _, term in tokenize_words(text)]


def tokenize_words(text: str) -> list[tuple[str, str]]:
    """`tokenize`'s terms each with the lower-cased word it was stemmed from ("countries", "countri"): the
    word is what an embedding of a single word reads (matching.py)."""
    words = [w.replace("’", "'") for w in _TOKEN.findall(text.lower())]
    words = [w.split("'")[0] if w.endswith(("'s", "'")) else w for w in words]
    words = [w if w[0].isdigit() else w.replace(".", "") for w in words if w]
    kept = [w for w in words if w and w not in STOP_WORDS]
    return list(zip(kept, _stemmer().stemWords(kept), strict=True))


def term_hash(term: str) -> int:
    """A stable 64-bit name for a term (BLAKE2b): postings keep hashes, not strings, so a segment's
    vocabulary is one sorted uint64 array that opens memory-mapped and is searched with searchsorted."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


@dataclass(frozen=True)
class Postings:
    """The BM25 postings of a run of chunks as arrays (CSR by term hash), saved as .npy, memory-mapped.

    The rows holding term `terms[t]` are `rows[starts[t]:starts[t + 1]]` (ascending), with their term
    frequencies in `tf`; `lengths` is every chunk's token count. Nothing here depends on the rest of
    the corpus (N, avgdl, df are combined when the index opens), so a segment's postings never change."""

    terms: np.ndarray  # uint64, sorted
    starts: np.ndarray  # int64, len(terms) + 1
    rows: np.ndarray  # int32, local chunk rows
    tf: np.ndarray  # int32
    lengths: np.ndarray  # int32, one per chunk

    ARRAYS = ("terms", "starts", "rows", "tf", "lengths")

    def __len__(self) -> int:
        return len(self.lengths)

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]]) -> Postings:
        """Postings of tokenized chunks, row i being documents[i] (one dict lookup per token, the rest
        in numpy: tf per (row, term) pair from one sort)."""
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
        vocabulary: dict[str, int] = {}
        ids = np.fromiter((vocabulary.setdefault(w, len(vocabulary)) for d in documents for w in d),
                          dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
        pairs, tf = np.unique(rows * max(len(vocabulary), 1) + ids, return_counts=True)
        hashes = np.fromiter((term_hash(w) for w in vocabulary), dtype=np.uint64, count=len(vocabulary))
        size = max(len(vocabulary), 1)
        return cls.from_postings(hashes[pairs % size], pairs // size, tf.astype(np.int64), lengths)

    @classmethod
    def from_postings(cls, terms: np.ndarray, rows: np.ndarray, tf: np.ndarray, lengths: np.ndarray) -> Postings:
        """CSR postings from one (term hash, row, tf) triple per posting, in any order."""
        order = np.lexsort((rows, terms))
        terms, rows, tf = terms[order], rows[order], tf[order]
        unique, first = np.unique(terms, return_index=True)
        starts = np.append(first, len(terms)).astype(np.int64)
        return cls(unique.astype(np.uint64), starts, rows.astype(np.int32), tf.astype(np.int32),
                   np.asarray(lengths, dtype=np.int32))

    @classmethod
    def gather(cls, parts: Sequence[tuple[Postings, np.ndarray]], size: int) -> Postings:
        """The postings of chunks taken from other postings: `rowmap[i]` is the new row of local row i of
        that part, or -1 to leave it out (how segments are merged and dead rows dropped)."""
        terms, rows, tfs = [], [], []
        lengths = np.zeros(size, dtype=np.int32)
        for part, rowmap in parts:
            new = rowmap[part.rows] if len(part.rows) else np.zeros(0, dtype=np.int64)
            keep = new >= 0
            term_of_posting = np.repeat(np.arange(len(part.terms)), np.diff(part.starts))
            terms.append(np.asarray(part.terms)[term_of_posting[keep]])
            rows.append(new[keep])
            tfs.append(np.asarray(part.tf)[keep])
            kept = rowmap >= 0
            lengths[rowmap[kept]] = np.asarray(part.lengths)[kept]
        if not terms:
            return cls.build([[] for _ in range(size)])
        return cls.from_postings(np.concatenate(terms).astype(np.uint64), np.concatenate(rows).astype(np.int64),
                                 np.concatenate(tfs).astype(np.int64), lengths)

    def find(self, h: int) -> int:
        """The position of term hash `h` in `terms`, or -1."""
        i = int(np.searchsorted(self.terms, np.uint64(h)))
        return i if i < len(self.terms) and int(self.terms[i]) == h else -1

    def live_df(self, dead: np.ndarray | None) -> np.ndarray:
        """Document frequency of each term, not counting the chunks marked in `dead` (bool per row)."""
        df = np.diff(self.starts)
        if dead is None or not len(self.rows):
            return df
        counts = np.asarray(dead[self.rows], dtype=np.int64)
        return df - np.add.reduceat(counts, self.starts[:-1]) if len(df) else df


@dataclass(frozen=True)
class PostingsPart:
    """One segment's postings inside an index: its rows are `offset + local row`, or `live[local row]`
    (-1: a dead row) when some of its chunks were removed since it was written."""

    postings: Postings
    offset: int
    live: np.ndarray | None = None


class LexicalIndex:
    """BM25 (Okapi, rank-bm25's defaults k1=1.5, b=0.75, epsilon=0.25) over pre-tokenized chunks.

    Scores equal `rank_bm25.BM25Okapi.get_scores` (the reference, kept in the tests), computed from
    postings instead of a Python loop over every chunk per query term: each term's rows and their term
    frequencies give its tf part, tf (k1 + 1) / (tf + k1 (1 - b + b dl / avgdl)) (Robertson & Zaragoza
    2009), so a query costs the length of its terms' postings, not the corpus size. The postings are
    those of each segment of the index (memory-mapped arrays); N, avgdl and document frequencies are
    combined over the live chunks when the index opens.
    """

    k1 = 1.5
    b = 0.75
    epsilon = 0.25

    def __init__(self, documents: Sequence[Sequence[str]] = (), parts: Sequence[PostingsPart] | None = None,
                 size: int | None = None) -> None:
        if parts is None:
            parts = [PostingsPart(Postings.build(documents), 0)]
            size = len(documents)
        self.size = int(size if size is not None else sum(len(p.postings) for p in parts))
        self._parts = list(parts)
        hashes, dfs, total_length = [], [], 0.0
        self._norms: list[np.ndarray] = []
        for part in self._parts:
            dead = None if part.live is None else part.live < 0
            hashes.append(np.asarray(part.postings.terms))
            dfs.append(part.postings.live_df(dead))
            lengths = np.asarray(part.postings.lengths, dtype=np.float64)
            total_length += float(lengths.sum() if dead is None else lengths[~dead].sum())
        all_terms = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
        all_df = np.concatenate(dfs) if dfs else np.zeros(0, dtype=np.int64)
        order = np.argsort(all_terms, kind="stable")
        unique, first = np.unique(all_terms[order], return_index=True)
        df = np.add.reduceat(all_df[order], first) if len(first) else np.zeros(0, dtype=np.int64)
        known = df > 0
        self._terms, self._df = unique[known], df[known].astype(np.int64)
        self._idf = self._okapi_idf(self._df)
        avgdl = total_length / self.size if self.size else 0.0
        for part in self._parts:
            lengths = np.asarray(part.postings.lengths, dtype=np.float64)
            self._norms.append(self.k1 * (1 - self.b + self.b * lengths / avgdl) if avgdl > 0 else lengths)
        self._empty = avgdl <= 0

    def _okapi_idf(self, doc_freq: np.ndarray) -> np.ndarray:
        """ln((N - df + 0.5) / (df + 0.5)); a negative idf becomes epsilon * mean idf (rank-bm25's floor)."""
        n = self.size
        idf = np.log(n - doc_freq + 0.5) - np.log(doc_freq + 0.5)
        if len(idf):
            floor = self.epsilon * (math.fsum(idf.tolist()) / len(idf))
            idf = np.where(idf < 0, floor, idf)
        return np.asarray(idf, dtype=np.float64)

    def doc_freq(self, term: str) -> int:
        """How many live chunks hold `term`."""
        h = term_hash(term)
        i = int(np.searchsorted(self._terms, np.uint64(h)))
        return int(self._df[i]) if i < len(self._terms) and int(self._terms[i]) == h else 0

    def scores(self, query_tokens: Sequence[str]) -> np.ndarray:
        """The BM25 score of every chunk for the query (zeros when no query term is known)."""
        scores = np.zeros(self.size, dtype=np.float64)
        if self._empty:
            return scores
        for token in query_tokens:  # a repeated query term counts again, as in rank-bm25
            h = term_hash(token)
            g = int(np.searchsorted(self._terms, np.uint64(h)))
            if g >= len(self._terms) or int(self._terms[g]) != h:
                continue
            idf = self._idf[g]
            for part, norm in zip(self._parts, self._norms, strict=True):
                t = part.postings.find(h)
                if t < 0:
                    continue
                start, end = int(part.postings.starts[t]), int(part.postings.starts[t + 1])
                rows = np.asarray(part.postings.rows[start:end], dtype=np.int64)
                tf = np.asarray(part.postings.tf[start:end], dtype=np.float64)
                contribution = idf * (tf * (self.k1 + 1) / (tf + norm[rows]))
                if part.live is None:
                    scores[part.offset + rows] += contribution
                else:
                    target = part.live[rows]
                    alive = target >= 0
                    scores[target[alive]] += contribution[alive]
        return scores

    def search(self, query_tokens: Sequence[str], k: int, allowed: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and BM25 scores of the best `k` chunks with a positive score, best first.

        `allowed` (sorted chunk rows, or None for all): rank only inside these rows."""
        scores = self.scores(query_tokens)
        if allowed is None:
            positive = np.flatnonzero(scores > 0)
        else:
            allowed = np.asarray(allowed, dtype=np.int64)
            positive = allowed[scores[allowed] > 0]
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
