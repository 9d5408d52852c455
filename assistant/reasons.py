"""Why there is no answer, in the user's words: "no article mentions Z", "the articles mention X but never say Y".

Read from evidence already computed for the question (which of its words the corpus holds, which the best
passages hold, and what kind of answer it asks for), so the reason costs nothing extra."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .evidence import Evidence
from .index.lexical import tokenize
from .matching import FORM_WORDS
from .phrase import asked_kind
from .types import Hit

_ASKED = {"person": "who", "place": "where", "date": "when", "number": "how many or how much"}
_WORD = re.compile(r"[^\W_]+(?:[.'’-][^\W_]+)*")


def _words(question: str) -> list[tuple[str, str]]:
    """(word as typed, its stem) for each informative word of the question, in order, once each."""
    out, seen = [], set()
    for word in _WORD.findall(question):
        stems = tokenize(word)
        if stems and stems[0] not in seen and stems[0] not in FORM_WORDS:
            seen.add(stems[0])
            out.append((word, stems[0]))
    return out


def _join(words: Sequence[str], conjunction: str = "or") -> str:
    quoted = [f"“{w}”" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" {conjunction} " + quoted[-1]


def why_not(question: str, hits: Sequence[Hit], evidence: Evidence, confidence: float, threshold: float) -> str:
    """The reason for abstaining on `question`, whose best passages are `hits`."""
    words = _words(question)
    nowhere = [w for w, stem in words if evidence.term_weight(stem) >= evidence.missing_idf]
    sure = f"confidence {confidence:.2f}, below {threshold:.2f}"
    if nowhere:
        return f"no article mentions {_join(nowhere)} ({sure})"
    read = set(tokenize(" ".join(h.chunk.text for h in hits)))
    found = [w for w, stem in words if stem in read]
    missing = [w for w, stem in words if stem not in read]
    kind = asked_kind(question)
    if found and missing:
        return f"the articles mention {_join(found[:3], 'and')} but never say {_join(missing[:3])} ({sure})"
    if found and kind in _ASKED:
        return f"the articles mention {_join(found[:3], 'and')} but never say {_ASKED[kind]} ({sure})"
    return f"no sentence in the articles clearly answers this ({sure})"
