"""Near-duplicate articles (syndicated and re-posted copies of one story), found with MinHash and LSH.

Each article's body is cut into word 3-grams ("shingles"); its MinHash signature (datasketch, 128
permutations) estimates the Jaccard similarity of two articles' shingle sets as the share of equal
signature values. Candidate pairs come from LSH bands (datasketch's MinHashLSH), never from comparing
all pairs, and each candidate is kept only if its estimated similarity reaches the threshold. Copies
with another headline, byline or boilerplate share nearly all their 3-grams; two stories on the same
event written separately share a few names and phrases, far below it (benchmarks/news.py measures both).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from ..config import DuplicateSettings
from ..types import Article, Described

_WORD = re.compile(r"\w+")
DEFAULTS = DuplicateSettings()
_BATCH = 4_096  # shingles hashed per MinHash.update_batch (its working array is batch x permutations)


@lru_cache(maxsize=4)
def _template(num_perm: int) -> Any:
    """A MinHash whose permutations every signature shares (making them is the costly part of a MinHash)."""
    from datasketch import MinHash

    return MinHash(num_perm=num_perm)


def body_text(article: Article) -> str:
    """What a copy shares with its original: the body, without title and furniture."""
    return "\n".join(article.text[s:e] for s, e in article.body)


def shingles(text: str, size: int, limit: int) -> list[bytes]:
    """The word `size`-grams of `text`, lower-cased, at most `limit` of them (from the start)."""
    words = _WORD.findall(text.lower())
    if not words:
        return []
    if len(words) <= size:
        return [" ".join(words).encode()]
    return [" ".join(words[i : i + size]).encode() for i in range(min(len(words) - size + 1, limit))]


def signature(text: str, settings: DuplicateSettings = DEFAULTS) -> np.ndarray:
    """The MinHash signature of a text: `num_perm` uint32 values (all 2^32 - 1 for a text without words)."""
    from datasketch import MinHash

    template = _template(settings.num_perm)
    # crc32 (in C) hashes a shingle 5x faster than datasketch's default sha1; affine32 premixes it anyway.
    minhash = MinHash(num_perm=settings.num_perm, permutations=template.permutations, scheme=template.scheme,
                      hashfunc=zlib.crc32)
    grams = shingles(text, settings.shingle_words, settings.max_shingles)
    for i in range(0, len(grams), _BATCH):
        minhash.update_batch(grams[i : i + _BATCH])
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


def empty_signature(settings: DuplicateSettings = DEFAULTS) -> np.ndarray:
    return np.full(settings.num_perm, np.iinfo(np.uint32).max, dtype=np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures: the share of equal values."""
    return float(np.count_nonzero(a == b)) / len(a)


def groups(signatures: np.ndarray, settings: DuplicateSettings = DEFAULTS) -> list[list[int]]:
    """Rows of `signatures` (n x num_perm) that are copies of one another, each group sorted, groups of
    two or more only. Candidates are the rows that share an LSH bucket; a candidate pair is kept at
    estimated similarity >= threshold; groups are the connected components (a copy of a copy is in too)."""
    from datasketch import LeanMinHash, MinHashLSH

    n = len(signatures)
    if n < 2:
        return []
    empty = empty_signature(settings)
    template = _template(settings.num_perm)
    lsh = MinHashLSH(threshold=settings.threshold, num_perm=settings.num_perm)
    with lsh.insertion_session() as session:
        for row in range(n):
            if not np.array_equal(signatures[row], empty):  # a text without words is no one's copy
                # Lean: the hash values only, without the permutations a MinHash would rebuild for each row.
                sketch = LeanMinHash(seed=template.seed, hashvalues=signatures[row], scheme=template.scheme)
                session.insert(row, sketch, check_duplication=False)
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    checked: set[tuple[int, int]] = set()
    for table in lsh.hashtables:  # each band's buckets: rows whose band of values is equal
        for key in table.keys():  # noqa: SIM118 (a datasketch storage: keys() is its API, not a dict)
            bucket = sorted(table.get(key))
            for i, row in enumerate(bucket):
                for other in bucket[i + 1 :]:
                    if (row, other) in checked or find(row) == find(other):
                        continue
                    checked.add((row, other))
                    if similarity(signatures[row], signatures[other]) >= settings.threshold:
                        parent[max(find(row), find(other))] = min(find(row), find(other))
    components: dict[int, list[int]] = {}
    for row in range(n):
        components.setdefault(find(row), []).append(row)
    return sorted(members for members in components.values() if len(members) > 1)


def canonical(members: Sequence[Described]) -> Described:
    """The copy that is shown: the earliest dated one, else the first by name."""
    return min(members, key=canonical_order)


def canonical_order(article: Described) -> tuple[bool, str, str]:
    """Sort key of copies: dated before undated, earliest first, then by name (the first is shown)."""
    return (article.date is None, article.date or "", article.source)
