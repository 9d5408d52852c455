"""Why there is no answer, in the user's words: "no article mentions Z", "the articles mention X but never say Y".

Read from evidence already computed for the question (which of its words the corpus holds, which the best
passages hold, the vectors of their words, and what kind of answer it asks for), so the reason costs
nothing extra."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from .evidence import Evidence
from .index.lexical import tokenize, tokenize_words
from .matching import FORM_WORDS, verb_forms
from .phrase import asked_kind
from .types import Hit

_ASKED = {"person": "who", "place": "where", "date": "when", "number": "how many or how much"}
_WORD = re.compile(r"[^\W_]+(?:[.'’-][^\W_]+)*")


def _words(question: str) -> list[tuple[str, frozenset[str]]]:
    """(word as typed, the stems it counts as present under: its own and its verb's other forms, as
    matching.TermMatcher counts them) for each informative word of the question, in order, once each."""
    out, seen = [], set()
    for word in _WORD.findall(question):
        stems = tokenize(word)
        if stems and stems[0] not in seen and stems[0] not in FORM_WORDS:
            seen.add(stems[0])
            out.append((word, frozenset(stems[:1]) | verb_forms(word.lower())))
    return out


def _join(words: Sequence[str], conjunction: str = "or") -> str:
    quoted = [f"“{w}”" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" {conjunction} " + quoted[-1]


def _said_instead(words: Sequence[str], hits: Sequence[Hit], evidence: Evidence, near: float) -> list[str]:
    """The words of the best passages closest in meaning to `words` (no article uses those), each once: for
    "paper", "newspaper". Only those at cosine `near` or more (matching.py) count, and only common words on
    both sides: a name is close to other names ("Australia" to "China", 0.69), which are not another way of
    saying it."""
    common = [w for w in words if not w[:1].isupper()]
    text = " ".join(h.chunk.text for h in hits)
    typed = {m.group(0).lower(): m.group(0) for m in reversed(list(_WORD.finditer(text)))}
    passage = [w for w in dict.fromkeys(w for w, _ in tokenize_words(text)) if not typed.get(w, w)[:1].isupper()]
    if not common or not passage:
        return []
    cosines = evidence.words.get([w.lower() for w in common]) @ evidence.words.get(passage).T
    out: list[str] = []
    for row in cosines:
        best = int(np.argmax(row))
        if row[best] >= near and passage[best] not in out:
            out.append(passage[best])
    return out


def why_not(question: str, hits: Sequence[Hit], evidence: Evidence, confidence: float, threshold: float,
            near: float = 1.0) -> str:
    """The reason for abstaining on `question`, whose best passages are `hits`. A word no article uses is
    named with the passages' own word for it when one is at cosine `near` or more ("no article mentions
    “paper”; the passages nearest the question say “newspaper”"): the user learns how the articles put it."""
    words = _words(question)
    nowhere = [w for w, stems in words if all(evidence.term_weight(t) >= evidence.missing_idf for t in stems)]
    sure = f"confidence {confidence:.2f}, below {threshold:.2f}"
    if nowhere:
        instead = _said_instead(nowhere, hits, evidence, near) if near < 1.0 else []
        said = f"; the passages nearest the question say {_join(instead, 'and')}" if instead else ""
        return f"no article mentions {_join(nowhere)}{said} ({sure})"
    read = set(tokenize(" ".join(h.chunk.text for h in hits)))
    found = [w for w, stems in words if read & stems]
    missing = [w for w, stems in words if not read & stems]
    kind = asked_kind(question)
    if found and missing:
        return f"the articles mention {_join(found[:3], 'and')} but never say {_join(missing[:3])} ({sure})"
    if found and kind in _ASKED:
        return f"the articles mention {_join(found[:3], 'and')} but never say {_ASKED[kind]} ({sure})"
    return f"no sentence in the articles clearly answers this ({sure})"
