"""The indexed articles as a news collection: each article's chunk rows, its copies, and what a filter allows.

A question searches the chunk rows that `allowed(filter)` returns: the rows of the articles the filter
matches, with each group of copies (index/duplicates.py) reduced to one article, the earliest dated
match, else the first by name. The others are listed as that article's `also_in` and their passages are
not ranked beside it, so five syndicated copies of a story cannot fill the five best passages; except a
copy's own passages (`own_rows`), those holding at least `DuplicateSettings.own_words` words in sentences
no other copy has: a re-post that adds a paragraph, or an updated story, is searched for what only it says.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import DuplicateSettings
from .filters import Filter
from .index.duplicates import body_text, canonical_order, groups, signature
from .types import Article, Chunk, Copy, Described

if TYPE_CHECKING:
    from .index.build import Annotate
    from .index.store import StoredIndex

log = logging.getLogger(__name__)

SIGNATURE = "minhash"  # the per-article array the build stores (index/segment.py extras)
NO_FILTER = Filter()
_CACHED_FILTERS = 16  # allowed rows of the last filters used (a chat asks many questions under one)
_SHOWN_OUTLETS = 6  # how many outlets a "nothing matches" message lists


class Collection:
    """Articles' metadata, their chunk rows and their groups of copies; safe to share between threads."""

    def __init__(self, articles: Mapping[str, Described], rows: Mapping[str, np.ndarray],
                 copies: Sequence[Sequence[str]] = (), passages: Passages | None = None,
                 settings: DuplicateSettings | None = None) -> None:
        self.articles = articles
        self._rows = rows
        self._group: dict[str, tuple[str, ...]] = {}
        for members in copies:
            group = tuple(sorted(m for m in members if m in articles))
            if len(group) > 1:
                for source in group:
                    self._group[source] = group
        self._passages = passages
        self._settings = settings or DuplicateSettings()
        self._own: dict[str, np.ndarray] | None = None
        self._cache: OrderedDict[Filter, np.ndarray | None] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def build(cls, articles: Mapping[str, Article], chunks: Sequence[Chunk],
              settings: DuplicateSettings) -> Collection:
        """The collection of these articles and chunks, with its copies found now from their texts."""
        rows: dict[str, list[int]] = {}
        for chunk in chunks:
            rows.setdefault(chunk.source, []).append(chunk.id)
        names = sorted(articles)
        signed = np.stack([signature(body_text(articles[n]), settings) for n in names]) if names else None
        by_id = {c.id: c for c in chunks}
        return cls(articles, {s: np.asarray(r, dtype=np.int64) for s, r in rows.items()},
                   _copies(names, signed, settings), Passages(by_id.__getitem__, lambda n: articles[n].text),
                   settings)

    @classmethod
    def of_index(cls, stored: StoredIndex, settings: DuplicateSettings) -> Collection:
        """The collection of an opened index: metadata and chunk rows read from it, copies grouped from the
        signatures its build stored (`copies_annotator`); an article indexed without one is signed now."""
        names = sorted(stored.sources())
        infos = {n: stored.info(n) for n in names}
        rows = {n: stored.chunk_ids(n) for n in names}
        passages = Passages(stored.chunk, lambda n: stored.article(n).text)
        kept = _kept_copies(stored, settings, set(names))
        if kept is not None:
            return cls(infos, rows, kept, passages, settings)
        signed_names, signed = stored.article_array(SIGNATURE)
        have = dict(zip(signed_names, signed, strict=True)) if len(signed_names) else {}
        missing = [n for n in names if n not in have]
        if missing and len(names) > 1:
            log.info("signing %d articles indexed without a MinHash signature", len(missing))
            have.update({n: signature(body_text(stored.article(n)), settings) for n in missing})
        matrix = np.stack([have[n] for n in names]) if len(names) > 1 else None
        copies = _copies(names, matrix, settings)
        stored.keep_derived(_copies_name(settings), json.dumps(copies, ensure_ascii=False).encode("utf-8"))
        return cls(infos, rows, copies, passages, settings)

    def copies_of(self, source: str) -> tuple[Copy, ...]:
        """The other copies of this article's story, earliest first (empty for a story told once)."""
        others = [self.articles[s] for s in self._group.get(source, ()) if s != source]
        others.sort(key=canonical_order)
        return tuple(Copy(a.source, a.title, a.outlet, a.date) for a in others)

    def groups(self) -> list[tuple[str, ...]]:
        """Every group of copies, by source."""
        return sorted(set(self._group.values()))

    def matching(self, flt: Filter) -> list[Described]:
        return [a for a in self.articles.values() if flt.matches(a)]

    def shown(self, flt: Filter) -> list[str]:
        """The articles a question under `flt` may quote: one per group of copies, by source."""
        chosen: list[str] = []
        seen: set[tuple[str, ...]] = set()
        for article in sorted(self.matching(flt) if flt.active else self.articles.values(), key=canonical_order):
            group = self._group.get(article.source)
            if group is not None:
                if group in seen:  # an earlier match of this group is shown
                    continue
                seen.add(group)
            chosen.append(article.source)
        return sorted(chosen)

    def own_rows(self) -> dict[str, np.ndarray]:
        """Per copy of a story: the chunk rows with at least `own_words` words in sentences no other copy of
        it has (computed once, from the grouped articles only)."""
        with self._lock:
            if self._own is None:
                self._own = {} if self._passages is None else {
                    source: own for group in set(self._group.values())
                    for source, own in self._passages.own(group, self._rows, self._settings).items() if len(own)}
            return self._own

    def allowed(self, flt: Filter = NO_FILTER) -> np.ndarray | None:
        """The sorted chunk rows a question under `flt` ranks, or None when that is every row: those of the
        articles shown, and each other matching copy's own rows."""
        if not flt.active and not self._group:
            return None
        with self._lock:
            if flt in self._cache:
                self._cache.move_to_end(flt)
                return self._cache[flt]
        shown = set(self.shown(flt))
        own = self.own_rows()
        pieces = [self._rows[s] for s in shown if s in self._rows]
        pieces += [rows for s, rows in own.items()
                   if s not in shown and (not flt.active or flt.matches(self.articles[s]))]
        rows = np.sort(np.concatenate(pieces)) if pieces else np.zeros(0, dtype=np.int64)
        with self._lock:
            self._cache[flt] = rows
            while len(self._cache) > _CACHED_FILTERS:
                self._cache.popitem(last=False)
        return rows

    def why_empty(self, flt: Filter) -> str:
        """Why no article matches `flt`, in words (the reason of an answer that finds nothing)."""
        articles = list(self.articles.values())
        if flt.sources and not any(flt.matches_sources(a) for a in articles):
            outlets = sorted({a.outlet for a in articles if a.outlet})
            listed = ", ".join(outlets[:_SHOWN_OUTLETS]) + (", …" if len(outlets) > _SHOWN_OUTLETS else "")
            reason = (f"no article is from {' or '.join(flt.sources)} (no outlet, site or file matches; "
                      + (f"the outlets are {listed})" if outlets else "no article names its outlet)"))
        else:
            reason = f"no article is {flt.describe()}"
        undated = sum(a.date is None for a in articles)
        if flt.dated and undated:
            have = "has" if undated == 1 else "have"
            reason += (f"; {undated} of the {len(articles)} articles {have} no date, and an article without a date "
                       "is outside any date filter")
        return reason


class Passages:
    """What finding a copy's own passages reads: chunks by row and article texts (from the index, or from the
    articles being built)."""

    def __init__(self, chunk: Callable[[int], Chunk], text: Callable[[str], str]) -> None:
        self._chunk = chunk
        self._text = text

    def own(self, group: Sequence[str], rows: Mapping[str, np.ndarray], settings: DuplicateSettings
            ) -> dict[str, np.ndarray]:
        """Per member of `group`: its chunk rows with at least `own_words` words in sentences that no other
        member has (sentences compared with their spacing normalised)."""
        sentences: dict[str, list[list[str]]] = {}
        for source in group:
            text = self._text(source)
            sentences[source] = [[" ".join(text[a:b].split()) for a, b in self._chunk(int(r)).sentences]
                                 for r in rows.get(source, ())]
        said = {source: {s for chunk in chunks for s in chunk} for source, chunks in sentences.items()}
        out: dict[str, np.ndarray] = {}
        for source, chunks in sentences.items():
            elsewhere = set().union(*(said[o] for o in group if o != source))
            own = []
            for row, chunk in zip(rows.get(source, ()), chunks, strict=True):
                if sum(len(s.split()) for s in chunk if s not in elsewhere) >= settings.own_words:
                    own.append(int(row))
            out[source] = np.asarray(own, dtype=np.int64)
        return out


def _copies_name(settings: DuplicateSettings) -> str:
    """The name the groups are kept under beside the index: they depend on its signatures (fixed for one
    generation of it) and on these settings (the threshold is not part of the index identity)."""
    grouping = {k: v for k, v in asdict(settings).items() if k != "own_words"}  # own_words does not group
    digest = hashlib.sha256(json.dumps(grouping, sort_keys=True).encode("utf-8")).hexdigest()[:12]
    return f"copies-{digest}.json"


def _kept_copies(stored: StoredIndex, settings: DuplicateSettings, names: set[str]) -> list[list[str]] | None:
    """The groups an earlier open of this same index computed (LSH over every signature took 14 s of a
    24 s open at a million chunks), or None when there are none or they do not fit the index."""
    data = stored.derived(_copies_name(settings))
    if data is None:
        return None
    try:
        copies = json.loads(data)
        fits = isinstance(copies, list) and all(isinstance(g, list) and set(g) <= names for g in copies)
    except (ValueError, TypeError):  # not JSON, or a group holding something other than names
        return None
    return copies if fits else None


def _copies(names: list[str], signatures: np.ndarray | None, settings: DuplicateSettings) -> list[list[str]]:
    if signatures is None or len(names) < 2:
        return []
    return [[names[i] for i in members] for members in groups(signatures, settings)]


def copies_annotator(settings: DuplicateSettings) -> Annotate:
    """What the build stores per article for finding copies: its MinHash signature, computed once when
    the article is new or changed (opening the index only groups the stored signatures)."""

    def annotate(article: Article) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        return {SIGNATURE: signature(body_text(article), settings)}, {}

    return annotate
