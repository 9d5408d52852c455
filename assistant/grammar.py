"""Part-of-speech tags and phrase chunks for a run of words, from TextBlob's pattern tagger.

The answer phrase (phrase.py) is chosen among short spans of a quote; whether a span is a whole noun
phrase, cuts one, or holds a verb says a lot about whether it can be an answer (the SQuAD paper's
logistic-regression reader leaned on exactly such constituent features). No parser model can be
fetched here, but TextBlob ships one inside its wheel: the Brill tagger and rule-based chunker of
CLiPS Pattern, with its English lexicon (1.2 MB) and contextual rules, so it runs offline and fast
(about 0.2 ms per sentence here). The tagger takes the caller's own words, so tags line up with the
phrase tokens one to one.

TextBlob imports NLTK (about 2 s here), so the tagger is loaded at the first call, not at import;
`Assistant` starts `load` in the background when it opens an index, so the first answer does not wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Tag:
    """One word's tags: Penn part of speech ("NNP", "VBD", "CD"...), the index of the chunk it belongs
    to (-1 outside every chunk), the chunk's kind ("NP", "VP", "PP", "ADJP"...; "" outside) and whether
    the word is inside a prepositional phrase ("in | the city")."""

    pos: str
    chunk: int
    kind: str
    in_pnp: bool


@cache
def _parser() -> Any:
    from textblob.en import parser

    return parser


def load() -> None:
    """Load the tagger now (a thread may call it ahead of the first `tag`)."""
    _parser()


def tag(words: Sequence[str]) -> list[Tag]:
    """Tags for `words`, one per word, in order."""
    if not words:
        return []
    parser = _parser()
    rows = parser.find_chunks(parser.find_tags(list(words)))
    out: list[Tag] = []
    chunk, previous = -1, ""
    for row in rows:
        iob = row[2]
        kind = iob[2:] if iob != "O" else ""
        if kind and (iob.startswith("B-") or kind != previous):
            chunk += 1
        out.append(Tag(str(row[1]), chunk if kind else -1, kind, row[3] != "O"))
        previous = kind
    return out
