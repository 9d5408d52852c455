"""Whether a passage holds a question's terms: by the same stem, or by a word the model places close to it.

Coverage (the IDF-weighted share of the question's terms a sentence holds) and the rarest missing term
are the strongest evidence answer selection and answerability read. Counted by stem alone, a question
asked in other words than the article's ("its biggest base abroad" against "its largest foreign base",
"which paper" against "the newspaper") covers little, and a word no article uses counts as the rarest
term of all: the assistant abstains on a question the articles answer. So a question term that a passage
lacks by stem counts as partly present when a word of the passage is close to it: each word is embedded
alone by the index's own encoder (all-MiniLM-L6-v2 places "biggest" at cosine 0.94 from "largest",
"troops" at 0.89 from "soldiers", but "biggest" at 0.52 from "smallest" and "month" at 0.65 from "year"),
and the term's presence rises linearly from 0 at `low` to 1 at `high` (config.AnswerSettings.soft_match).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .index.lexical import tokenize

if TYPE_CHECKING:
    from .index.encoder import Encoder

# Words that shape a question rather than name its subject ("how many", "what kind"): the answer does not
# repeat them, so no word of a passage stands in for them (and reasons.py never reports them missing).
_AFTER_HOW = ("many", "much", "long", "far", "old")  # "how many …"
_BEFORE_OF = ("name", "names", "kind", "type", "sort")  # "what kind of …"
_HAPPEN = ("happen", "happened", "happens")  # "what happened to …"
FORM_WORDS = frozenset(tokenize(" ".join(_AFTER_HOW + _BEFORE_OF + _HAPPEN)))
# Where they only shape the question ("how *long* did the fight last", "what *kind* of ship"; not "a long
# fight"), they carry no weight in coverage either: in a small collection "long" and "many" may be in no
# article, and counted as the rarest missing terms they made "How many people work at the quarry?" look
# unanswered beside "It employs 140 people at the site".
_FORM_USE = re.compile(rf"\bhow\s+(?:{'|'.join(_AFTER_HOW)})\b|\b(?:{'|'.join(_BEFORE_OF)})\s+of\b"
                       rf"|\b(?:{'|'.join(_HAPPEN)})\b", re.IGNORECASE)


def form_terms(question: str) -> frozenset[str]:
    """The stems of the question's words used only to shape it (FORM_WORDS where the question uses them so)."""
    return frozenset(t for m in _FORM_USE.finditer(question) for t in tokenize(m.group(0)) if t in FORM_WORDS)


WORD_CACHE = 100_000  # single-word vectors kept (about 150 MB at 384 float32 dimensions when full)


class WordVectors:
    """Unit vectors of single words by the index's encoder, embedded on first use (one encoder call for all
    the words a question reads) and kept, least recently used dropped first."""

    def __init__(self, encoder: Encoder | None, limit: int = WORD_CACHE) -> None:
        self._encoder = encoder
        self._limit = limit
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, words: Sequence[str]) -> np.ndarray:
        """One row per word, in order (zeros for every word when there is no encoder)."""
        with self._lock:
            todo = list(dict.fromkeys(w for w in words if w not in self._cache))
        if todo and self._encoder is not None:
            vectors = np.asarray(self._encoder.encode(todo), dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)
            with self._lock:
                self._cache.update(zip(todo, vectors, strict=True))
        with self._lock:
            rows = [self._cache.get(w) for w in words]
            for w in words:
                if w in self._cache:
                    self._cache.move_to_end(w)
            while len(self._cache) > self._limit:
                self._cache.popitem(last=False)
        dims = next((len(r) for r in rows if r is not None), 1)
        return np.asarray([r if r is not None else np.zeros(dims, dtype=np.float32) for r in rows])


@lru_cache(maxsize=WORD_CACHE)
def verb_forms(word: str) -> frozenset[str]:
    """The stems of every form of the verb `word` is a form of ("say": say, said, saying, says; "led": lead,
    led, leading, leads), by lemminflect's dictionary; empty for a word it does not list as a verb.

    The stemmer keeps "said" apart from "say", and the word vectors place them only 0.64 apart ("told" and
    "tell" 0.69, "left" and "leave" 0.50), so "What did the minister say?" would find nothing of "the
    minister said" without these."""
    from lemminflect import getAllInflections, getLemma

    bases = getLemma(word, upos="VERB", lemmatize_oov=False)
    forms = {form for base in bases for found in getAllInflections(base, upos="VERB").values() for form in found}
    return frozenset(t for form in forms.union(bases) for t in tokenize(form))


def load() -> None:
    """Load lemminflect's dictionaries now (about 1 s; a thread may call it ahead of the first question)."""
    verb_forms("be")


class TermMatcher:
    """One question's terms against passages: how present each term is, 0 to 1, in a list of words."""

    def __init__(self, terms: Sequence[str], words: Sequence[str], vectors: WordVectors,
                 soft: tuple[float, float]) -> None:
        """`terms[i]` is stemmed from `words[i]`; `soft` is (low, high) of the cosine ramp, low >= 1 to
        count by stem alone. FORM_WORDS always count by stem alone."""
        self.terms = list(terms)
        self._index = {t: i for i, t in enumerate(self.terms)}
        self._forms: dict[str, int] = {}  # the stem of another form of a term's verb ("said" for "say") -> term
        for i, word in enumerate(words):
            for form in verb_forms(word):
                self._forms.setdefault(form, i)
        self._vectors = vectors
        self._low, self._high = soft
        content = [t not in FORM_WORDS for t in self.terms]
        self._question = vectors.get(list(words)) * np.asarray(content, dtype=np.float32)[:, None] \
            if self.soft and any(content) else np.zeros((len(self.terms), 1), dtype=np.float32)
        self._close: dict[str, np.ndarray] = {}  # word -> each term's presence by that word

    @property
    def soft(self) -> bool:
        return self._low < 1.0

    def presence(self, pairs: Iterable[tuple[str, str]]) -> np.ndarray:
        """Each term's presence in the passage whose (word, term) pairs are given (tokenize_words): 1 for
        the same stem or another form of the same verb (verb_forms), else the ramp of its best cosine to a
        word of the passage."""
        out = np.zeros(len(self.terms))
        words: list[str] = []
        for word, term in pairs:
            i = self._index.get(term)
            if i is None:  # another form of the same verb: "said" for "say", "tells" for "told"
                i = self._forms.get(term)
            if i is not None:
                out[i] = 1.0
            words.append(word)
        if not self.soft or not self.terms or out.min() >= 1.0 or not words or not self._question.any():
            return out
        self.learn(words)
        close = np.max([self._close[w] for w in dict.fromkeys(words)], axis=0)
        return np.asarray(np.maximum(out, close))

    def learn(self, words: Iterable[str]) -> None:
        """The presence each term gets from each new word (one encoder call for the words not yet seen):
        called with every word a question will read, it saves an encoder call per passage."""
        if not self.soft or not self._question.any():
            return
        new = list(dict.fromkeys(w for w in words if w not in self._close))
        if not new:
            return
        cosines = self._vectors.get(new) @ self._question.T
        ramp = np.clip((cosines - self._low) / (self._high - self._low), 0.0, 1.0)
        self._close.update(zip(new, ramp, strict=True))
