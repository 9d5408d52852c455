"""`Assistant`: the one facade the API, the CLI and the chat UI call (ask, search, index)."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .answer import Evidence, candidates, choose, scores
from .config import DEFAULT_CORPUS, DEFAULT_INDEX, Settings
from .encoder import Encoder, SentenceEncoder
from .errors import QuestionError
from .types import Answer, Article, Hit, IndexReport

if TYPE_CHECKING:
    import numpy as np

    from .retrieval import HybridRetriever

MAX_QUERY_TERMS = 64  # a 10,000-character question must not make BM25 score thousands of terms
_FOLLOW_UP = re.compile(
    r"^(and|but|also|what about|how about|and what|why|how so)\b"
    r"|\b(he|she|it|they|them|his|her|its|their|that|this|those|these)\b",
    re.IGNORECASE,
)


@dataclass
class _Loaded:
    """The opened index and what is derived from it at load time."""

    report: IndexReport
    retriever: HybridRetriever
    evidence: Evidence

    @property
    def articles(self) -> dict[str, Article]:
        return self.evidence.articles


# Terminal escape sequences (CSI, 8-bit CSI, OSC) are removed whole, not left as words to search for.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def clean_question(question: str) -> str:
    """The question without control characters (NUL, ANSI escapes) or surrounding space."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = _ESCAPES.sub(" ", question)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("the question is empty: type a question about the articles")
    return text


class Assistant:
    """Answers questions from a folder of articles, with verbatim quotes and citations.

    The index at `index` is opened (built, or brought up to date with `corpus`) on first use, or
    explicitly with `open()`. Safe to share between threads.
    """

    def __init__(
        self,
        corpus: str | Path | None = None,
        index: str | Path | None = None,
        settings: Settings | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        self.corpus = Path(corpus) if corpus is not None else DEFAULT_CORPUS
        self.index_dir = Path(index) if index is not None else DEFAULT_INDEX
        self.settings = settings or Settings()
        self._encoder = encoder
        self._loaded: _Loaded | None = None
        self._lock = threading.RLock()

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            encoder: Encoder = SentenceEncoder(self.settings.model_path, self.settings.batch_size)
            self._encoder = encoder
            return encoder
        return self._encoder

    def open(self, progress: bool = False) -> IndexReport:
        """Open the index, building or updating it from the corpus if needed (idempotent)."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load(progress)
            return self._loaded.report

    def index(self, progress: bool = False) -> IndexReport:
        """Re-read the corpus and bring the index up to date now (embeds only what changed)."""
        with self._lock:
            self._loaded = self._load(progress)
            return self._loaded.report

    def _load(self, progress: bool) -> _Loaded:
        from .dense import DenseIndex
        from .indexing import open_index
        from .lexical import LexicalIndex, idf, idf_table
        from .retrieval import HybridRetriever
        from .store import sentence_keys, sentence_spans

        stored, articles, report = open_index(self.corpus, self.index_dir, self.settings, self.encoder, progress)
        retriever = HybridRetriever(
            stored.chunks, DenseIndex(stored.vectors), LexicalIndex(stored.tokens), self.settings.retrieval
        )
        evidence = Evidence(articles, sentence_keys(stored.chunks), sentence_spans(stored.chunks),
                            stored.sentence_vectors, stored.vectors,
                            idf_table(stored.tokens), idf(len(stored.tokens), 0))
        return _Loaded(report, retriever, evidence)

    @property
    def loaded(self) -> _Loaded:
        if self._loaded is None:
            self.open()
        assert self._loaded is not None
        return self._loaded

    def articles(self) -> list[Article]:
        """The indexed articles, by file name."""
        return sorted(self.loaded.articles.values(), key=lambda a: a.source)

    def article(self, source: str) -> Article:
        return self.loaded.articles[source]

    def _query(self, text: str) -> tuple[np.ndarray, list[str]]:
        from .lexical import tokenize

        tokens = list(dict.fromkeys(tokenize(text)))[:MAX_QUERY_TERMS]
        return self.encoder.encode([text])[0], tokens

    def search(self, question: str, k: int = 10, mode: str = "hybrid") -> list[Hit]:
        """The `k` best chunks for the question, with the fused score and both components."""
        text = clean_question(question)
        if k < 1:
            raise QuestionError("k must be at least 1")
        loaded = self.loaded
        vector, tokens = self._query(text)
        return loaded.retriever.search(vector, tokens, k, mode)

    def ask(self, question: str, context: Sequence[Answer] = ()) -> Answer:
        """Answer with verbatim quotes and citations, or abstain (found=False) with the reason.

        `context`: earlier turns of a conversation. A short follow-up ("What about China?") is
        retrieved together with the previous question, and does not quote again what was just quoted."""
        text = clean_question(question)
        follow_up = bool(context) and _is_follow_up(text)
        query = follow_up_query(clean_question(context[-1].question), text) if follow_up else text
        loaded = self.loaded
        vector, tokens = self._query(query)
        if not tokens:
            return Answer(question, False, "", (), 0.0, "the question has no words to look for in the articles")
        s = self.settings.answer
        hits = loaded.retriever.search(vector, tokens, max(s.read_chunks, 1))
        rows = candidates(query, tokens, vector, hits, loaded.evidence, s)
        if follow_up:
            quoted = {(c.source, c.start) for c in context[-1].citations}
            rows = [r for r in rows if (r.source, r.start) not in quoted]
        citations, best = choose(rows, scores(rows, s.weights), loaded.articles, s)
        if not rows:
            return Answer(question, False, "", (), 0.0, "no passage in the articles matches the question")
        if not citations:
            reason = (f"no sentence in the articles clearly answers this (best confidence {best:.2f}, "
                      f"below {s.abstain_below:.2f})")
            return Answer(question, False, "", (), round(best, 4), reason)
        answer_text = " ".join(c.quote for c in citations)
        return Answer(question, True, answer_text, tuple(citations), round(best, 4),
                      f"quoted from {len({c.source for c in citations})} article(s)")

    def session(self) -> Session:
        """A conversation: follow-up questions are retrieved together with the previous question."""
        return Session(self)


_WORD = re.compile(r"[\w’'-]+")


def _names(text: str) -> list[str]:
    """Capitalised words that are not function words ("What", "And"): the names a question mentions."""
    from .lexical import STOP_WORDS

    return [w for w in _WORD.findall(text) if w[0].isupper() and w.lower() not in STOP_WORDS]


def follow_up_query(previous: str, question: str) -> str:
    """The text to search for a follow-up: the previous question, then this one.

    When the follow-up names something ("What about China?"), it asks the same thing of another
    subject, so the names in the previous question (Russia, Tajik) are left out of the search."""
    if _names(question):
        names = set(_names(previous))
        previous = " ".join(w for w in previous.split() if w.strip("?.,!;:\"'“”‘’()") not in names)
    return f"{previous} {question}"


def _is_follow_up(question: str) -> bool:
    from .lexical import tokenize

    return len(tokenize(question)) < 3 or bool(_FOLLOW_UP.search(question))


class Session:
    """Remembers the turns of one conversation, so "What about China?" is read in context."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.turns: list[Answer] = []

    def ask(self, question: str) -> Answer:
        answer = self.assistant.ask(question, context=self.turns)
        self.turns.append(answer)
        return answer

    def clear(self) -> None:
        self.turns.clear()
