"""Dates in answers: which quoted article is newest, and quotes of different dates that disagree.

News changes: a death toll rises, a mayor is replaced. When an answer quotes articles of different
dates, the newest is marked (`Citation.newest`). When the best quote and another good candidate from an
article of another date give different numbers or names of the kind the question asks for ("three
firefighters were injured" on June 10, "five firefighters were injured" on June 12), both are shown,
marked `disagrees`, and the answer's reason says so with their dates, rather than one of them silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from .answer import FEATURES, Candidate, question_type
from .index.lexical import tokenize
from .ingest.dates import day_of
from .types import Article, Citation

_SMALL = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
          "sixteen seventeen eighteen nineteen twenty").split()
_WORDS = {word: str(n) for n, word in enumerate(_SMALL)} | {"thirty": "30", "forty": "40", "fifty": "50",
                                                           "hundred": "100", "dozen": "12"}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?|\b(?:" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
_SCALE = re.compile(r"\s*(million|billion|thousand|percent|%)", re.IGNORECASE)
_NAME = re.compile(r"(?<=[\s(“\"'])[A-Z][\w’'.-]+")
_TYPE_FOUND = FEATURES.index("type_found")


def values(kind: str, sentence: str, question_terms: set[str]) -> frozenset[str]:
    """The numbers (for number and date questions) or names (for who/which) a sentence gives that
    the question does not already contain: what two answers can disagree on."""
    if kind in ("number", "date"):
        found = set()
        for m in _NUMBER.finditer(sentence):
            raw = m.group(0).lower()
            number = _WORDS.get(raw, raw.replace(",", ""))
            scale = _SCALE.match(sentence, m.end())
            value = number + (scale.group(1).lower() if scale else "")
            if raw not in question_terms and number not in question_terms:
                found.add(value)
        return frozenset(found)
    if kind == "entity":
        return frozenset(t for m in _NAME.finditer(sentence) for t in tokenize(m.group(0)) if t not in question_terms)
    return frozenset()


def date_answer(
    question: str, question_terms: set[str], citations: Sequence[Citation], rows: Sequence[Candidate],
    selection: np.ndarray, articles: Mapping[str, Article], margin: float,
) -> tuple[list[Citation], str]:
    """The citations with `newest` and `disagrees` set (and a disagreeing quote added where one is
    found), and a sentence for the answer's reason ("" when dates say nothing here)."""
    chosen = list(citations)
    if not chosen:
        return chosen, ""
    kind = question_type(question)
    note = ""
    if kind != "other":
        chosen, note = _disagreement(kind, question_terms, chosen, rows, selection, articles, margin)
    return _mark_newest(chosen), note


def _disagreement(
    kind: str, terms: set[str], chosen: list[Citation], rows: Sequence[Candidate], selection: np.ndarray,
    articles: Mapping[str, Article], margin: float,
) -> tuple[list[Citation], str]:
    best = chosen[0]
    best_values = values(kind, best.quote, terms)
    if best.date is None or not best_values:
        return chosen, ""
    other: Citation | None = None
    for citation in chosen[1:]:  # a quote already shown may disagree
        if _differs(citation, best, kind, terms, best_values):
            other = citation
            break
    if other is None:
        top = float(selection.max()) if len(selection) else 0.0
        for i in sorted(range(len(rows)), key=lambda i: (-selection[i], rows[i].source, rows[i].start)):
            row = rows[i]
            if float(selection[i]) < top - margin:
                break
            if not row.features[_TYPE_FOUND] or row.source == best.source:
                continue
            candidate = Citation.of(articles[row.source], row.start, row.end, round(best.score * float(
                np.exp(float(selection[i]) - top)), 4))
            if _differs(candidate, best, kind, terms, best_values):
                other = candidate
                chosen.append(candidate)
                break
    if other is None:
        return chosen, ""
    marked = [replace(c, disagrees=True) if c is best or c is other else c for c in chosen]
    first, second = sorted((best, other), key=lambda c: c.date or "")
    return marked, (f"two quoted articles disagree: {_short(first)} ({day_of(first.date or '')}) and "
                    f"{_short(second)} ({day_of(second.date or '')}, the newest); both are quoted")


def _differs(citation: Citation, best: Citation, kind: str, terms: set[str], best_values: frozenset[str]) -> bool:
    """From another day, with its own answer of the asked kind and none of the best quote's."""
    if citation.date is None or best.date is None or day_of(citation.date) == day_of(best.date):
        return False
    mine = values(kind, citation.quote, terms)
    return bool(mine) and mine.isdisjoint(best_values)


def _mark_newest(citations: list[Citation]) -> list[Citation]:
    """Mark the quotes of the latest date, when the answer quotes articles of two dates or more."""
    dated = {day_of(c.date) for c in citations if c.date}
    if len(dated) < 2:
        return citations
    latest = max(c.date or "" for c in citations if c.date)
    return [replace(c, newest=True) if c.date == latest else c for c in citations]


def _short(citation: Citation) -> str:
    """The outlet (else title) a quote is from, for the reason sentence."""
    return citation.outlet or citation.title
