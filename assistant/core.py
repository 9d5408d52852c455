"""`Assistant`: the one facade the API, the CLI and the chat UI call (ask, search, index)."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from . import grammar, matching
from .answer import Question, answerable_features, candidates, choose, confidence, rerank, scores
from .chronology import date_answer
from .collection import Collection, copies_annotator
from .config import DEFAULT_CORPUS, Settings, default_index
from .conversation import Reading, Session, read
from .errors import QuestionError
from .evidence import Evidence
from .filters import DateLike, parse_filter
from .index.encoder import Encoder, SentenceEncoder, make_encoder
from .index.lexical import tokenize
from .phrase import with_phrases
from .quotes import chosen_starts, self_contained
from .reasons import why_not
from .types import Answer, Article, Hit, IndexReport

if TYPE_CHECKING:
    import numpy as np

    from .index.backend import Backend, Retriever

MAX_QUERY_TERMS = 64  # a 10,000-character question must not make BM25 score thousands of terms


@dataclass
class _Loaded:
    """The opened index and what is derived from it at load time."""

    report: IndexReport
    retriever: Retriever  # the backend, attached to this index
    evidence: Evidence
    collection: Collection  # metadata, copies of one story, what a filter allows

    @property
    def articles(self) -> Mapping[str, Article]:
        return self.evidence.articles


# Terminal escape sequences (CSI, 8-bit CSI, OSC) are removed whole, not left as words to search for.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def _load_readers() -> None:
    """What reading an answer loads on first use: the part-of-speech tagger and the verb dictionary."""
    grammar.load()
    matching.load()


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

    The index at `index` (default: `config.default_index(corpus)`) is opened (built, or brought up to
    date with `corpus`) on first use, or explicitly with `open()`. Safe to share between threads.
    `backend` ranks the chunks (default: `settings.backend`, the local store); answers are read from the
    local index either way (index/backend.py).
    """

    def __init__(
        self,
        corpus: str | Path | None = None,
        index: str | Path | None = None,
        settings: Settings | None = None,
        encoder: Encoder | None = None,
        backend: Backend | None = None,
    ) -> None:
        self.corpus = Path(corpus) if corpus is not None else DEFAULT_CORPUS
        self.index_dir = Path(index) if index is not None else default_index(self.corpus)
        self.settings = settings or Settings()
        self._encoder = encoder
        self._backend = backend  # None: settings.backend (index/backend.make_backend), on first open
        self._loaded: _Loaded | None = None
        self._lock = threading.RLock()

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            path, batch, engine = self.settings.model_path, self.settings.batch_size, self.settings.encoder_engine
            # SentenceEncoder by name here: tests inject the session's loaded model by patching it
            encoder = SentenceEncoder(path, batch) if engine == "sentence-transformers" \
                else make_encoder(path, batch, engine)
            self._encoder = encoder
            return encoder
        return self._encoder

    @property
    def backend(self) -> Backend | None:
        """The retrieval backend: the one given, else the one `settings.backend` names once opened."""
        return self._backend

    def open(self, progress: bool = False) -> IndexReport:
        """Open the index, building or updating it from the corpus if needed (idempotent)."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load(progress)
            return self._loaded.report

    def index(self, progress: bool = False) -> IndexReport:
        """Re-read the corpus and bring the index up to date now (embeds only what changed)."""
        with self._lock:
            self._loaded = self._load(progress, refresh=True)
            return self._loaded.report

    def _load(self, progress: bool, refresh: bool = False) -> _Loaded:
        from .index.backend import make_backend
        from .index.build import open_index
        from .index.lexical import LexicalIndex

        # the answer phrase's tagger (about 2 s) and the verb dictionary (about 1 s) load while the index is
        # opened, not at the first question
        threading.Thread(target=_load_readers, name="assistant-tagger", daemon=True).start()
        annotate = copies_annotator(self.settings.duplicates)
        stored, _, report = open_index(self.corpus, self.index_dir, self.settings, self.encoder, progress,
                                       annotate=annotate, refresh=refresh)
        lexical = LexicalIndex(parts=stored.postings_parts(), size=stored.n_chunks)
        if self._backend is None:
            self._backend = make_backend(self.settings)
        self._backend.attach(stored, lexical, self.settings, self.encoder.model_id)
        retriever = self._backend
        collection = Collection.of_index(stored, self.settings.duplicates)
        return _Loaded(report, retriever, Evidence(stored, lexical, self.encoder), collection)

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
        tokens = list(dict.fromkeys(tokenize(text)))[:MAX_QUERY_TERMS]
        return self.encoder.encode([text])[0], tokens

    def search(self, question: str, k: int = 10, mode: str = "hybrid", *, since: DateLike = None,
               until: DateLike = None, sources: str | Iterable[str] | None = None) -> list[Hit]:
        """The `k` best chunks for the question, with the fused score and both components, each with its
        article's date, outlet, url, author and other copies. `since`/`until` (dates, or YYYY-MM) and
        `sources` (outlets, sites or file globs) rank only inside that filter (see filters.py)."""
        text = clean_question(question)
        flt = parse_filter(since, until, sources)
        if k < 1:
            raise QuestionError("k must be at least 1")
        loaded = self.loaded
        vector, tokens = self._query(text)
        hits = loaded.retriever.search(vector, tokens, k, mode, loaded.collection.allowed(flt))
        return [self._with_metadata(hit) for hit in hits]

    def _with_metadata(self, hit: Hit) -> Hit:
        article = self.loaded.articles[hit.chunk.source]
        return replace(hit, date=article.date, outlet=article.outlet, url=article.url, author=article.author,
                       also_in=self.loaded.collection.copies_of(article.source))

    def ask(self, question: str, context: Sequence[Answer] = (), *, since: DateLike = None, until: DateLike = None,
            sources: str | Iterable[str] | None = None) -> Answer:
        """Answer with verbatim quotes and citations, or abstain (found=False) with the reason.

        `context`: earlier turns of a conversation, oldest first. A follow-up ("What about China?",
        "What did he say?") is searched together with the previous turn (see conversation.read).
        `since`, `until`, `sources`: search only the articles of that period and those outlets, sites or
        files (filters.py); a filter no article matches gives found=False saying so."""
        text = clean_question(question)
        flt = parse_filter(since, until, sources)
        collection = self.loaded.collection
        allowed = collection.allowed(flt)
        if allowed is not None and not len(allowed):
            return Answer(question, False, "", (), 0.0, collection.why_empty(flt))
        answer = self._ask(question, text, context, allowed)
        if flt.active and not answer.found:
            return replace(answer, reason=f"{answer.reason} (searched only the articles {flt.describe()})")
        return answer

    def _ask(self, question: str, text: str, context: Sequence[Answer], allowed: np.ndarray | None) -> Answer:
        """`ask` of `question` (`text`: as cleaned) over the chunk rows `allowed` (None: all)."""
        previous = replace(context[-1], question=clean_question(context[-1].question)) if context else None
        reading = read(text, previous)
        answer = self._answer(question, reading, context, allowed)
        return replace(answer, standalone_query=reading.query) if reading.follow_up else answer

    def _answer(self, question: str, reading: Reading, context: Sequence[Answer],
                allowed: np.ndarray | None) -> Answer:
        query = reading.query
        loaded = self.loaded
        vector, tokens = self._query(query)
        if not tokens:
            return Answer(question, False, "", (), 0.0, "the question has no words to look for in the articles")
        s = self.settings.answer
        hits = self._passages(reading, vector, tokens, allowed)
        if not hits:
            return Answer(question, False, "", (), 0.0, f"the articles do not mention {' or '.join(reading.focus)}")
        loaded.evidence.prepare(h.chunk for h in hits[: s.read_chunks])
        q = Question(query, tokens, vector, loaded.evidence, s.soft_match)
        rows = candidates(q, hits, s)
        if reading.skip_quoted:
            quoted = {(c.source, c.start) for c in context[-1].citations}
            rows = [r for r in rows if (r.source, r.start) not in quoted]
        if not rows:
            return Answer(question, False, "", (), 0.0, "no passage in the articles matches the question")
        selection = scores(rows, s.weights)
        sure = confidence(answerable_features(q, rows, selection, hits), s.calibration)
        if sure < s.abstain_below:
            reason = why_not(query, hits[: s.read_chunks], loaded.evidence, sure, s.abstain_below, s.soft_match[0])
            return Answer(question, False, "", (), round(sure, 4), reason)
        selection = rerank(q, rows, selection, s)  # after the confidence: it is read from the first look
        citations, dates_note = date_answer(query, q.terms, choose(rows, selection, sure, loaded.articles, s), rows,
                                            selection, loaded.articles, self.settings.news.conflict_margin)
        widened = self_contained(citations, q.terms, loaded.evidence, loaded.articles, s.self_contained_max_words)
        chosen = chosen_starts(widened, citations)
        citations = [replace(c, also_in=loaded.collection.copies_of(c.source)) for c in widened]
        citations = with_phrases(query, citations, {c.source: loaded.evidence.text(c.source) for c in citations},
                                 dict(s.phrase_weights), chosen)
        answer_text = " ".join(c.quote for c in citations)
        return Answer(question, True, answer_text, tuple(citations), round(sure, 4),
                      f"quoted from {len({c.source for c in citations})} article(s)"
                      + (f"; {dates_note}" if dates_note else ""))

    def _passages(self, reading: Reading, vector: np.ndarray, tokens: list[str],
                  allowed: np.ndarray | None = None) -> list[Hit]:
        """The chunks answers are read from; for "What about China?", only those that mention China."""
        loaded, read_chunks = self.loaded, max(self.settings.answer.read_chunks, 1)
        if not reading.focus:
            return loaded.retriever.search(vector, tokens, read_chunks, allowed=allowed)
        focus = set(tokenize(" ".join(reading.focus)))
        hits = loaded.retriever.search(vector, tokens, self.settings.retrieval.candidates, allowed=allowed)
        return [h for h in hits if focus & set(tokenize(h.chunk.text))][:read_chunks]

    def session(self, turns: Sequence[Answer] = ()) -> Session:
        """A conversation: follow-up questions are retrieved together with the previous question.

        `turns`: earlier answers to continue from (a conversation reopened from history), oldest first."""
        return Session(self, turns)
