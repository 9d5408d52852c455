"""Pick the sentences that answer a question, cite them, or abstain.

The sentence most similar to a question often only restates it. So each candidate sentence from the
best chunks is scored on evidence that it *answers*: similarity (sentence and its chunk), the share of
the question's informative (IDF-weighted) terms and bigrams it covers, whether it holds something of
the type the question asks for (a number for "how much", a date for "when", a name for "who") that the
question does not already contain, and how much of it merely repeats the question. A logistic model
over these features, fitted on a SQuAD v1.1 tuning slice (`benchmarks/tune_answer.py`), turns them into
P(the sentence holds the answer). The best sentence is the answer; below `abstain_below` the assistant
abstains, since a low-probability sentence is more often wrong than right.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .config import AnswerSettings
from .lexical import tokenize
from .types import Article, Citation, Hit

FEATURES = (
    "bias", "cos_sentence", "cos_chunk", "chunk_rank", "coverage", "coverage_context", "bigrams",
    "type_found", "type_missing", "restates", "log_words", "cos_gap", "coverage_gap",
    "cos_previous", "coverage_previous", "cos_next", "coverage_next",
)
# The answer often follows the sentence that matches the question ("Cicadas ... prime numbers.
# These insects spend most of their lives as grubs underground."): neighbours' scores are features too.

_NUMBER_Q = re.compile(
    r"\bhow (many|much|long|far|old|large|big|tall|high|often|fast|heavy|deep|wide)\b"
    r"|\bwhat (percentage|percent|proportion|number|amount|size|population|price|cost)\b",
    re.IGNORECASE,
)
_DATE_Q = re.compile(r"^when\b|\bwhen (did|was|were|is|does|do|will|had|has)\b"
                     r"|\b(what|which) (year|date|day|month|century|decade|time|period|era)\b", re.IGNORECASE)
_ENTITY_Q = re.compile(r"^(who|whom|whose|where)\b|\b(who|whom|whose|where) \w+|\bwhich \w+|\bwhat (is|was) the name\b",
                       re.IGNORECASE)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|billion|trillion|dozen|half|percent)\b", re.IGNORECASE)
_DATE = re.compile(
    r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b(january|february|march|april|may|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|century|decade|"
    r"yesterday|today|last (week|month|year))\b", re.IGNORECASE)
_CAPITALISED = re.compile(r"(?<=[\s(“\"'])[A-Z][\w’'.-]+")


def question_type(question: str) -> str:
    """The kind of answer asked for: "number", "date", "entity" or "other"."""
    if _NUMBER_Q.search(question):
        return "number"
    if _DATE_Q.search(question):
        return "date"
    if _ENTITY_Q.search(question):
        return "entity"
    return "other"


def has_type(kind: str, sentence: str, question_terms: set[str]) -> bool:
    """Does the sentence contain an answer of this kind that is not already in the question?"""
    pattern = {"number": _NUMBER, "date": _DATE}.get(kind)
    if pattern is not None:
        return any(not (set(tokenize(m.group(0))) <= question_terms) for m in pattern.finditer(sentence))
    if kind == "entity":
        return any(set(tokenize(m.group(0))) - question_terms for m in _CAPITALISED.finditer(sentence))
    return False


@dataclass(frozen=True)
class Evidence:
    """What answer selection reads besides the hits: article texts, precomputed vectors, term IDF."""

    articles: dict[str, Article]
    sentence_rows: dict[tuple[str, int], int]
    sentence_spans: list[tuple[str, int, int]]  # (source, start, end) of each sentence row
    sentence_vectors: np.ndarray
    chunk_vectors: np.ndarray
    idf: dict[str, float]
    missing_idf: float  # a question term found nowhere in the corpus is the most informative of all

    def term_weight(self, term: str) -> float:
        return self.idf.get(term, self.missing_idf)


@dataclass(frozen=True)
class Candidate:
    """A sentence that might answer: where it is, and its feature row."""

    source: str
    start: int
    end: int
    features: tuple[float, ...]


class _Question:
    """The question's parts that every candidate is compared with, and a cache of per-sentence scores."""

    def __init__(self, question: str, tokens: list[str], vector: np.ndarray, evidence: Evidence) -> None:
        self.kind = question_type(question)
        self.terms = set(tokens)
        self.ordered = list(dict.fromkeys(tokens))
        self.bigrams = set(itertools.pairwise(tokens))
        self.vector = vector
        self.evidence = evidence
        self._basic: dict[int, tuple[float, float, set[str]]] = {}

    def coverage(self, present: set[str]) -> float:
        """IDF-weighted share of the question's terms present: missing rare terms cost the most."""
        weight = self.evidence.term_weight
        total = sum(weight(t) for t in self.ordered)
        return sum(weight(t) for t in self.ordered if t in present) / total if total > 0 else 0.0

    def basic(self, row: int) -> tuple[float, float, set[str]]:
        """(cosine, coverage, terms) of a sentence row."""
        if row not in self._basic:
            source, start, end = self.evidence.sentence_spans[row]
            terms = set(tokenize(self.evidence.articles[source].text[start:end]))
            cosine = float(self.evidence.sentence_vectors[row] @ self.vector)
            self._basic[row] = (cosine, self.coverage(terms), terms)
        return self._basic[row]

    def neighbour(self, row: int, source: str) -> tuple[float, float]:
        """(cosine, coverage) of an adjacent sentence row of the same article, or zeros."""
        if 0 <= row < len(self.evidence.sentence_spans) and self.evidence.sentence_spans[row][0] == source:
            cosine, coverage, _ = self.basic(row)
            return cosine, coverage
        return 0.0, 0.0


def candidates(
    question: str,
    q_tokens: list[str],
    q_vector: np.ndarray,
    hits: Sequence[Hit],
    evidence: Evidence,
    settings: AnswerSettings,
) -> list[Candidate]:
    """Feature rows (in FEATURES order) for every sentence of the top chunks, each sentence once."""
    q = _Question(question, q_tokens, q_vector, evidence)
    typed = q.kind != "other"
    seen: set[tuple[str, int]] = set()
    raw: list[tuple[str, int, int, list[float]]] = []
    for rank, hit in enumerate(hits[: settings.read_chunks], start=1):
        chunk = hit.chunk
        text = evidence.articles[chunk.source].text
        context = set(tokenize(chunk.text))
        cos_chunk = float(evidence.chunk_vectors[chunk.id] @ q_vector)
        for start, end in chunk.sentences:
            key = (chunk.source, start)
            sentence = text[start:end]
            words = len(sentence.split())
            if key in seen or words < settings.min_sentence_words:
                continue
            seen.add(key)
            row = evidence.sentence_rows[key]
            cosine, coverage, s_terms = q.basic(row)
            s_tokens = tokenize(sentence)
            found = typed and has_type(q.kind, sentence, q.terms)
            raw.append((chunk.source, start, end, [
                1.0,
                cosine,
                cos_chunk,
                1.0 / rank,
                coverage,
                q.coverage(s_terms | context),
                len(q.bigrams & set(itertools.pairwise(s_tokens))) / len(q.bigrams) if q.bigrams else 0.0,
                float(found),
                float(typed and not found),
                len(s_terms & q.terms) / len(s_terms) if s_terms else 1.0,
                math.log1p(words),
                0.0,
                0.0,
                *q.neighbour(row - 1, chunk.source),
                *q.neighbour(row + 1, chunk.source),
            ]))
    if raw:
        best_cos = max(r[3][1] for r in raw)
        best_cov = max(r[3][4] for r in raw)
        for r in raw:
            r[3][11] = r[3][1] - best_cos
            r[3][12] = r[3][4] - best_cov
    return [Candidate(src, s, e, tuple(f)) for src, s, e, f in raw]


def scores(rows: Sequence[Candidate], weights: Sequence[float]) -> np.ndarray:
    """Linear selection score of each candidate (a conditional logit: softmax over one question's rows)."""
    if not rows:
        return np.zeros(0)
    return np.asarray([c.features for c in rows], dtype=np.float64) @ np.asarray(weights, dtype=np.float64)


def confidence(selection: np.ndarray, calibration: Sequence[float]) -> float:
    """P(the best sentence answers), logistic in the best score and its lead over the runner-up.

    A clear winner with a high score is usually right; a near-tie between weak sentences usually is not."""
    if not len(selection):
        return 0.0
    ordered = np.sort(selection)[::-1]
    lead = float(ordered[0] - ordered[1]) if len(ordered) > 1 else MAX_LEAD
    z = calibration[0] + calibration[1] * float(ordered[0]) + calibration[2] * min(lead, MAX_LEAD)
    return float(1.0 / (1.0 + math.exp(-z)))


MAX_LEAD = 5.0  # a lone candidate counts as leading by this much


def choose(
    rows: Sequence[Candidate], selection: np.ndarray, articles: dict[str, Article], settings: AnswerSettings
) -> tuple[list[Citation], float]:
    """The best sentence, plus the best of each other article that scores nearly as well (corroboration).

    Returns the citations (empty when abstaining) and the confidence of the best."""
    if not len(rows):
        return [], 0.0
    sure = confidence(selection, settings.calibration)
    if sure < settings.abstain_below:
        return [], sure
    order = sorted(range(len(rows)), key=lambda i: (-selection[i], rows[i].source, rows[i].start))
    best = float(selection[order[0]])
    chosen = [order[0]]
    sources = {rows[order[0]].source}
    for i in order[1:]:
        if len(chosen) >= settings.max_quotes or selection[i] < best - settings.second_quote_margin:
            break
        if rows[i].source not in sources:
            chosen.append(i)
            sources.add(rows[i].source)
    citations = []
    for rank, i in enumerate(chosen):
        c = rows[i]
        article = articles[c.source]
        # each quote's score: its confidence, discounted by how far it trails the best
        score = sure * math.exp(float(selection[i]) - best) if rank else sure
        citations.append(Citation(c.source, article.title, article.text[c.start : c.end], c.start, c.end,
                                  round(score, 4)))
    return citations, sure
