"""Quotes that stand on their own: a sentence that leans on its neighbour is quoted together with it.

A quote like "Last week, it became the first country to reopen its embassy there" is the right sentence,
but "it" is named only in the sentence before; and "…,” he said Friday from Kazan" holds the fact asked
for while the sentence before it says who "he" is. In both cases the two sentences are quoted as ONE
citation: one contiguous span of the article (still verbatim, `quote == text[start:end]`). Nothing is
merged when the sentence stands alone, and never more than one neighbour on each side.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from .evidence import Evidence
from .index.lexical import tokenize
from .types import Article, Citation

# A subject that names nobody: a pronoun, or "the" + a noun that stands for a name given earlier. An opening
# phrase before a comma ("Last week, it ...", "In 2019, the group ...", "But they ...") is skipped; a name
# before a comma is not an opening ("Zamir Kabulov, his special envoy, ..." names him).
_REFERENCE_NOUNS = (
    "newspaper|paper|minister|ministry|group|agency|company|firm|government|official|officials|president|"
    "spokesman|spokeswoman|spokesperson|envoy|leader|organi[sz]ation|movement|alliance|country|state|city|"
    "report|statement|letter|deal|agreement|move|decision|plan|party|official|militants|militia|analyst|expert|"
    "researcher|professor|diplomat|embassy|army|military|bank|court|council|committee|body|bloc|regime|"
    "administration|delegation|team|club|band|station|network|broadcaster|outlet|magazine|site|institute|center|"
    "centre|university|school|kingdom|nation|republic|emirate|man|woman|pair|two|three|latter|former"
)
_OPENING = (r"(?:(?:in|on|at|last|this|after|before|since|during|meanwhile|however|earlier|later|then|yet|still|"
            r"also|now|today|yesterday|instead|moreover|furthermore|by|for|from|when|while|as|despite|although|"
            r"though|according\s+to|under|with|without|once|initially|finally|previously|recently)\b[^,.;:!?]{0,40},\s+"
            r"|(?:and|but|so|yet)\s+)?")
_LEANS_BACK = re.compile(
    r"^(?:[“\"'(]?\s*)?" + _OPENING +
    r"(?:(?:he|she|it|they|his|her|its|their|this|these|those|such)\b"
    rf"|the\s+(?:{_REFERENCE_NOUNS})\b(?!\s+of\b))",
    re.IGNORECASE,
)
# "…,” he said" / "she added" / "…, the ministry said" / "According to the agency, …": a remark attributed
# to someone the sentence itself does not name.
_SAYS = r"(?:said|says|added|told|noted|wrote|stated|explained|argued|warned|insisted|reported|announced|confirmed)"
_ATTRIBUTED = re.compile(
    rf"\b(?:he|she|they)\s+{_SAYS}\b"
    r"|\b(?:said|says|added)\s+(?:he|she|they)\s*(?:[,.;:!?]|$)"  # "…,” said he."; not "Brisco said he had"
    rf"|\bthe\s+(?:{_REFERENCE_NOUNS})\s+{_SAYS}\b"
    rf"|\baccording\s+to\s+(?:him|her|them|it|the\s+(?:{_REFERENCE_NOUNS})\b(?!\s+of\b))",
    re.IGNORECASE,
)


def leans_back(sentence: str) -> bool:
    """Does the sentence's subject refer to someone or something named only before it?"""
    return bool(_LEANS_BACK.match(sentence.strip())) or bool(_ATTRIBUTED.search(sentence))


MAX_BACK = 2  # sentences a quote may reach back for the one that names its subject


def self_contained(citations: Sequence[Citation], question_terms: set[str], evidence: Evidence,
                   articles: Mapping[str, Article], max_words: int) -> list[Citation]:
    """Each citation widened to the neighbour it leans on, when the two together stay within `max_words`.

    Backward: the quote's subject is a pronoun or a definite reference, so the sentence before is quoted too,
    or the two before when that one leans back as well ("She said … She added …").
    Forward: the next sentence leans back on the quote and holds a word of the question the quote lacks
    (the Kazan case: "…,” he said Friday from Kazan"). A later citation that a widened one now covers is
    dropped, so no text is quoted twice."""
    out: list[Citation] = []
    for c in citations:
        text = evidence.text(c.source)
        start, end = c.start, c.end
        try:
            row = evidence.sentence_row(c.source, c.start)
        except (KeyError, IndexError, ValueError):
            out.append(c)
            continue
        words = len(text[start:end].split())
        if leans_back(text[start:end]):
            start, words = _widened_back(evidence, text, row, start, words, max_words)
        after = evidence.adjacent(row, 1)
        if after is not None:
            _, a_start, a_end = evidence.sentence(after)
            following = text[a_start:a_end]
            lacking = question_terms - set(tokenize(text[start:end]))
            if (leans_back(following) and lacking & set(tokenize(following))
                    and words + len(following.split()) <= max_words):
                end = a_end
        if (start, end) != (c.start, c.end):
            c = replace(c, quote=articles[c.source].text[start:end], start=start, end=end)
        if not any(o.source == c.source and o.start < c.end and c.start < o.end for o in out):
            out.append(c)
    return out


def chosen_starts(widened: Sequence[Citation], chosen: Sequence[Citation]) -> list[int]:
    """Where, in each of `self_contained`'s citations, the sentence chosen to answer begins (the first chosen
    one inside it): a quote widened backward starts with context, and its answer is looked for after it."""
    return [min((o.start for o in chosen if o.source == c.source and c.start <= o.start < c.end), default=c.start)
            for c in widened]


def _widened_back(evidence: Evidence, text: str, row: int, start: int, words: int, max_words: int
                  ) -> tuple[int, int]:
    """(start, words) of a quote that leans back, widened over the sentences before it: up to the nearest one
    that names its own subject, at most MAX_BACK back, when all fit in `max_words` ("Mayor Dana Whitlock
    opened … She said … She added …"); else over the one before alone, as far as it fits; else unchanged."""
    one_back: tuple[int, int] | None = None  # (start, words) widened over the sentence before alone
    total = words
    at = row
    for _ in range(MAX_BACK):
        previous = evidence.adjacent(at, -1)
        if previous is None:
            break
        at = previous
        _, b_start, b_end = evidence.sentence(at)
        sentence = text[b_start:b_end]
        total += len(sentence.split())
        one_back = one_back or (b_start, total)
        if total > max_words:
            break
        if not leans_back(sentence):
            return b_start, total
    return one_back if one_back is not None and one_back[1] <= max_words else (start, words)
