"""Pick the sentences that answer a question, cite them, or abstain.

Two fitted models (`benchmarks/tune_answer.py`, SQuAD tuning slices only), both linear in a few
features with reasons:

1. Selection. The sentence most similar to a question often only restates it, so every sentence of the
   best chunks is scored on evidence that it *answers*: similarity (sentence, chunk, neighbours), the
   share of the question's informative (IDF-weighted) terms and bigrams it covers, whether it holds
   something of the type the question asks for (a number for "how much", a date for "when", a name for
   "who") that the question does not already contain, and how much of it merely repeats the question.
   The best-scored sentence is the answer (a conditional logit: softmax over one question's sentences).
2. Answerability. Whether the articles answer the question at all, from the winner's evidence and the
   retrieval's. Below `abstain_below` the assistant says the articles hold no answer.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .config import AnswerSettings
from .evidence import Evidence
from .index.lexical import tokenize, tokenize_words
from .matching import TermMatcher, form_terms
from .phrase import DATE_QUESTION, NUMBER_QUESTION, as_question, phrase_evidence
from .quotes import leans_back
from .types import Article, Chunk, Citation, Hit

# Selection: which sentence of the top chunks holds the answer (a conditional logit over one question's
# sentences, so anything constant within a question, like a bias, carries no information here).
FEATURES = (
    "cos_sentence", "cos_chunk", "chunk_rank", "coverage", "coverage_context", "bigrams", "type_found",
    "restates", "log_words", "cos_previous", "coverage_previous", "cos_next", "coverage_next", "missing_rare",
    "coverage_leaned_on",
)
# The answer often follows the sentence that matches the question ("Cicadas ... prime numbers.
# These insects spend most of their lives as grubs underground."): neighbours' scores are features too.
# A sentence whose subject is a pronoun or "the club" (quotes.leans_back) says what the sentence before
# names: "It beat Castleford 3-0" answers "Who did Harbour City beat?" though only the sentence before says
# "Harbour City". "coverage_leaned_on" is the coverage such a sentence gains from the one before (0 for a
# sentence that stands alone); the quote is then widened over that sentence (quotes.self_contained).

# Answerability: do the articles answer the question at all? Read from the winner's evidence, the
# retrieval's, and two cues of a question the text does not support: a negation the winner lacks, and
# a number the winner's article never mentions.
ANSWERABLE_FEATURES = (
    "bias", "best_score", "lead", "cos_sentence", "cos_chunk", "coverage", "coverage_context", "bigrams",
    "restates", "missing_rare", "type_found", "type_missing", "top_dense", "top_margin", "max_coverage",
    "max_cos_sentence", "max_bigrams", "negation_dropped", "number_missing",
)
MAX_LEAD = 5.0  # a lone candidate counts as leading by this much

# Re-ranking: the best few sentences by selection are read again for the answer phrase (phrase.py). A
# sentence that offers a confident phrase of the asked kind is more likely the answer, so its phrase score
# counts; one with no candidate of the kind (no number for "how many") keeps about its first-look score
# (the fitted weights of "phrase_none" and "in_top" nearly cancel). Zero outside the best few.
RERANK_FEATURES = ("selection", "phrase_best", "phrase_none", "in_top")

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
_NEGATION = re.compile(r"\b(not|never|no|cannot|without|none|nor|neither)\b|n[’']t\b", re.IGNORECASE)
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")


def question_type(question: str) -> str:
    """The kind of answer asked for: "number", "date", "entity" or "other"."""
    question = as_question(question)  # "Name the agency …" asks "which agency …"
    if NUMBER_QUESTION.search(question):
        return "number"
    if DATE_QUESTION.search(question):
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
class Candidate:
    """A sentence that might answer: where it is, and its feature row."""

    source: str
    start: int
    end: int
    features: tuple[float, ...]


@dataclass(frozen=True, eq=False)
class SentenceMatch:
    """One sentence against the question: cosine, IDF-weighted coverage, its stems and stem bigrams, and each
    question term's presence in it (Question.ordered order). Compared by identity: it holds an array."""

    cosine: float
    coverage: float
    terms: frozenset[str]
    presence: np.ndarray
    bigrams: frozenset[tuple[str, str]]


class Question:
    """The question's parts that every candidate is compared with, and a cache of per-sentence scores.

    A term's presence in a passage is 1 for the same stem and otherwise by how close the passage's words
    are to it (matching.py; `soft` is the cosine ramp, config.AnswerSettings.soft_match)."""

    def __init__(self, text: str, tokens: list[str], vector: np.ndarray, evidence: Evidence,
                 soft: tuple[float, float] = AnswerSettings.soft_match) -> None:
        self.text = text
        self.soft = soft
        self.kind = question_type(text)
        self.terms = set(tokens)
        self.ordered = list(dict.fromkeys(tokens))
        self.bigrams = set(itertools.pairwise(tokens))
        self.vector = vector
        self.evidence = evidence
        self.form = form_terms(text)  # "long" of "how long": no weight in coverage, never the rarest missing term
        self.negated = bool(_NEGATION.search(text))
        self.numbers = set(_DIGITS.findall(text))
        self._basic: dict[int, SentenceMatch] = {}

    @cached_property
    def weights(self) -> np.ndarray:
        """Each term's IDF, in `ordered` order; 0 for a word that only shapes the question (`form`)."""
        return np.asarray([0.0 if t in self.form else self.evidence.term_weight(t) for t in self.ordered],
                          dtype=np.float64)

    @cached_property
    def matcher(self) -> TermMatcher:
        word_of: dict[str, str] = {}
        for word, term in tokenize_words(self.text):
            word_of.setdefault(term, word)
        words = [word_of.get(t, t) for t in self.ordered]
        return TermMatcher(self.ordered, words, self.evidence.words, self.soft)

    def prepare(self, chunks: Sequence[Chunk]) -> None:
        """Embed at once the words of every sentence the question reads in these chunks (Evidence.rows_read),
        instead of one encoder call per passage."""
        if self.matcher.soft:
            texts = self.evidence.sentence_texts(self.evidence.rows_read(chunks))
            self.matcher.learn(word for text in texts for word, _ in tokenize_words(text))

    def coverage(self, presence: np.ndarray) -> float:
        """IDF-weighted share of the question's terms present: missing rare terms cost the most."""
        total = float(self.weights.sum())
        return float(self.weights @ presence) / total if total > 0 else 0.0

    def basic(self, row: int) -> SentenceMatch:
        """How a sentence row matches the question (computed once per row: a row is read as a candidate and
        as its neighbours' neighbour)."""
        if row not in self._basic:
            pairs = tokenize_words(self.evidence.sentence_texts([row])[0])
            stems = [term for _, term in pairs]
            presence = self.matcher.presence(pairs)
            self._basic[row] = SentenceMatch(float(self.evidence.sentence_vector(row) @ self.vector),
                                             self.coverage(presence), frozenset(stems), presence,
                                             frozenset(itertools.pairwise(stems)))
        return self._basic[row]

    def missing_rare(self, presence: np.ndarray) -> float:
        """IDF of the rarest question term absent (by its presence), relative to a term absent everywhere.

        One rare term missing (a name, a number) is what most often marks a question the text cannot
        answer, however well the rest of it matches."""
        if not len(self.ordered) or not self.evidence.missing_idf:
            return 0.0
        return float((self.weights * (1.0 - presence)).max()) / self.evidence.missing_idf

    def leaned_on(self, row: int, sentence: str) -> float:
        """Coverage a sentence that leans back (its subject named only before it) gains from the sentence
        before: the question's terms present in either, less those in the sentence alone."""
        previous = self.evidence.adjacent(row, -1)
        if previous is None or not leans_back(sentence):
            return 0.0
        own = self.basic(row)
        return self.coverage(np.maximum(own.presence, self.basic(previous).presence)) - own.coverage

    def neighbour(self, row: int, step: int) -> tuple[float, float]:
        """(cosine, coverage) of the sentence `step` rows away in the same article, or zeros."""
        other = self.evidence.adjacent(row, step)
        if other is None:
            return 0.0, 0.0
        match = self.basic(other)
        return match.cosine, match.coverage


def candidates(q: Question, hits: Sequence[Hit], settings: AnswerSettings) -> list[Candidate]:
    """Feature rows (in FEATURES order) for every sentence of the top chunks, each sentence once."""
    evidence = q.evidence
    typed = q.kind != "other"
    seen: set[tuple[str, int]] = set()
    said: set[str] = set()  # a sentence two copies of a story share is a candidate once, from the best-ranked
    out: list[Candidate] = []
    q.prepare([h.chunk for h in hits[: settings.read_chunks]])
    for rank, hit in enumerate(hits[: settings.read_chunks], start=1):
        chunk = hit.chunk
        text = evidence.text(chunk.source)
        rows = evidence.chunk_rows(chunk)
        in_chunk = np.max([q.basic(row).presence for row in rows], axis=0)
        cos_chunk = float(evidence.chunk_vector(chunk.id) @ q.vector)
        for (start, end), row in zip(chunk.sentences, rows, strict=True):
            key = (chunk.source, start)
            sentence = text[start:end]
            words = len(sentence.split())
            spaced = " ".join(sentence.split())
            if key in seen or spaced in said or words < settings.min_sentence_words:
                continue
            seen.add(key)
            said.add(spaced)
            match = q.basic(row)
            in_context = np.maximum(match.presence, in_chunk)
            out.append(Candidate(chunk.source, start, end, (
                match.cosine,
                cos_chunk,
                1.0 / rank,
                match.coverage,
                q.coverage(in_context),
                len(q.bigrams & match.bigrams) / len(q.bigrams) if q.bigrams else 0.0,
                float(typed and has_type(q.kind, sentence, q.terms)),
                len(match.terms & q.terms) / len(match.terms) if match.terms else 1.0,
                math.log1p(words),
                *q.neighbour(row, -1),
                *q.neighbour(row, 1),
                q.missing_rare(in_context),
                q.leaned_on(row, sentence),
            )))
    return out


def scores(rows: Sequence[Candidate], weights: Sequence[float]) -> np.ndarray:
    """Linear selection score of each candidate (a conditional logit: softmax over one question's rows)."""
    if not rows:
        return np.zeros(0)
    return np.asarray([c.features for c in rows], dtype=np.float64) @ np.asarray(weights, dtype=np.float64)


def rerank_features(q: Question, rows: Sequence[Candidate], selection: np.ndarray, top: int,
                    phrase_weights: Mapping[str, Sequence[float]]) -> np.ndarray:
    """RERANK_FEATURES of every candidate (rows in `rows` order); the phrase is read for the `top` best."""
    x = np.zeros((len(rows), len(RERANK_FEATURES)))
    x[:, 0] = selection
    for i in np.argsort(-selection, kind="stable")[:top]:
        c = rows[int(i)]
        best, none = phrase_evidence(q.text, q.evidence.text(c.source), c.start, c.end, phrase_weights)
        x[i, 1:] = (best, none, 1.0)
    return x


def rerank(q: Question, rows: Sequence[Candidate], selection: np.ndarray, settings: AnswerSettings) -> np.ndarray:
    """The selection scores after the second look (RERANK_FEATURES, `settings.rerank_weights`, fitted by
    `python -m benchmarks.tune_answer` on the same tuning halves as selection)."""
    if settings.rerank_top <= 0 or not len(rows):
        return selection
    x = rerank_features(q, rows, selection, settings.rerank_top, dict(settings.phrase_weights))
    return np.asarray(x @ np.asarray(settings.rerank_weights, dtype=np.float64))


def answerable_features(
    q: Question, rows: Sequence[Candidate], selection: np.ndarray, hits: Sequence[Hit]
) -> list[float]:
    """ANSWERABLE_FEATURES of a question whose candidates are `rows` (non-empty), scored `selection`."""
    order = np.argsort(-selection, kind="stable")
    winner = rows[int(order[0])]
    named = dict(zip(FEATURES, winner.features, strict=True))
    lead = float(selection[order[0]] - selection[order[1]]) if len(order) > 1 else MAX_LEAD
    column = np.asarray([c.features for c in rows])
    text = q.evidence.text(winner.source)
    top_margin = hits[0].score - hits[1].score if len(hits) > 1 else 1.0
    return [
        1.0,
        float(selection[order[0]]),
        min(lead, MAX_LEAD),
        *(named[name] for name in ("cos_sentence", "cos_chunk", "coverage", "coverage_context", "bigrams",
                                   "restates", "missing_rare", "type_found")),
        float(q.kind != "other" and not named["type_found"]),
        hits[0].dense_score or 0.0,
        top_margin,
        *(float(column[:, FEATURES.index(name)].max()) for name in ("coverage", "cos_sentence", "bigrams")),
        float(q.negated and not _NEGATION.search(text[winner.start : winner.end])),
        float(any(number not in text for number in q.numbers)),
    ]


def confidence(features: Sequence[float], calibration: Sequence[float]) -> float:
    """P(the articles answer the question): logistic in ANSWERABLE_FEATURES.

    Fitted (`benchmarks/tune_answer.py`) on questions whose answer is in the corpus, the same questions
    with their paragraph taken out (the answer is not in the articles), and SQuAD 2.0's unanswerable
    questions (on topic, but the text does not say)."""
    return float(logistic(np.dot(features, calibration)))


def logistic(z: np.ndarray | float) -> np.ndarray:
    """1 / (1 + e^-z), written with tanh so a large |z| does not overflow."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * np.asarray(z))))


def choose(
    rows: Sequence[Candidate], selection: np.ndarray, sure: float, articles: Mapping[str, Article],
    settings: AnswerSettings,
) -> list[Citation]:
    """The best sentence, plus up to `max_quotes - 1` others that score nearly as well.

    A near-tie is common when the answer is split over two sentences or stated by two articles; quoting
    both costs a few words and often holds the answer the best alone misses. Each quote's score is the
    confidence `sure`, discounted by how far the quote's selection odds trail the best's."""
    order = sorted(range(len(rows)), key=lambda i: (-selection[i], rows[i].source, rows[i].start))
    best = float(selection[order[0]])
    chosen = [i for i in order[: settings.max_quotes] if selection[i] >= best - settings.second_quote_margin]
    citations = []
    for i in chosen:
        c = rows[i]
        citations.append(Citation.of(articles[c.source], c.start, c.end,
                                     round(sure * math.exp(float(selection[i]) - best), 4)))
    return citations
