"""Frozen dataclasses that cross module boundaries. Offsets are character offsets into an article's
`text` (for a .txt/.md file, the file as it is on disk decoded as UTF-8; for a web page, record or feed
entry, the extracted text the index keeps), so `article.text[start:end]` is always the quoted text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol

Span = tuple[int, int]


@dataclass(frozen=True)
class Article:
    """One article file: its raw text and the spans of it that are article, not page furniture."""

    source: str  # file name relative to the corpus folder; a record or feed entry is "file#id"
    title: str
    text: str  # the whole file, decoded, untouched (.txt/.md); else the extracted article text
    body: tuple[Span, ...]  # kept paragraphs, in order, boilerplate removed
    sha256: str
    date: str | None = None  # ISO 8601 publication date (YYYY-MM-DD, or with a time), None when unknown
    outlet: str | None = None  # the publisher ("Reuters", "cnn.com")
    url: str | None = None
    author: str | None = None


class Described(Protocol):
    """What filters, copies and listings read of an article: its metadata, never its text."""

    @property
    def source(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def date(self) -> str | None: ...
    @property
    def outlet(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...


@dataclass(frozen=True)
class ArticleInfo:
    """An article's metadata without its text (the index reads these for every article on open)."""

    source: str
    title: str
    date: str | None = None
    outlet: str | None = None
    url: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A few consecutive sentences of one article; the unit that is embedded and BM25-scored."""

    id: int
    source: str
    title: str
    start: int
    end: int
    sentences: tuple[Span, ...]
    text: str  # the sentences joined by single spaces (what a reader sees)

    def indexed_text(self, with_title: bool) -> str:
        """What the encoder and BM25 see: the title gives every chunk its article's topic."""
        return f"{self.title}. {self.text}" if with_title and self.title else self.text


@dataclass(frozen=True)
class Copy:
    """Another copy of a cited story (syndicated or re-posted): shown, not quoted again."""

    source: str
    title: str
    outlet: str | None
    date: str | None


@dataclass(frozen=True)
class Hit:
    """A ranked chunk with the fused score and both components (None: not in that candidate list).

    `Assistant.search` adds the article's metadata and the other copies of its story."""

    chunk: Chunk
    score: float
    dense_score: float | None
    bm25_score: float | None
    dense_rank: int | None
    bm25_rank: int | None
    date: str | None = None
    outlet: str | None = None
    url: str | None = None
    author: str | None = None
    also_in: tuple[Copy, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.chunk.source,
            "title": self.chunk.title,
            "text": self.chunk.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "score": self.score,
            "dense_score": self.dense_score,
            "bm25_score": self.bm25_score,
            "dense_rank": self.dense_rank,
            "bm25_rank": self.bm25_rank,
            "date": self.date,
            "outlet": self.outlet,
            "url": self.url,
            "author": self.author,
            "also_in": [asdict(c) for c in self.also_in],
        }


@dataclass(frozen=True)
class Citation:
    """One verbatim quote: `quote == article.text[start:end]`, with the article's metadata."""

    source: str
    title: str
    quote: str
    start: int
    end: int
    score: float
    date: str | None = None
    outlet: str | None = None
    url: str | None = None
    author: str | None = None
    also_in: tuple[Copy, ...] = ()  # other copies of the same story
    answer_start: int | None = None  # the phrase inside the quote that answers (offsets like start/end)
    answer_end: int | None = None
    newest: bool = False  # from the most recently dated of the articles this answer quotes
    disagrees: bool = False  # says another number or name than a quote of another date (both are shown)

    @property
    def phrase(self) -> str | None:
        """The words of the quote that answer (`answer_start`-`answer_end`), or None when none is marked."""
        if self.answer_start is None or self.answer_end is None:
            return None
        return self.quote[self.answer_start - self.start : self.answer_end - self.start]

    @classmethod
    def of(cls, article: Article, start: int, end: int, score: float) -> Citation:
        """The one way a citation is made: the quote is cut from the article's text, metadata copied."""
        return cls(article.source, article.title, article.text[start:end], start, end, score,
                   article.date, article.outlet, article.url, article.author)


@dataclass(frozen=True)
class Answer:
    """The reply to a question: quotes only, or found=False with the reason for abstaining."""

    question: str
    found: bool
    text: str
    citations: tuple[Citation, ...]
    confidence: float
    reason: str
    standalone_query: str | None = None  # how a follow-up was read and searched; None: asked as it is

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "found": self.found,
            "answer": self.text,
            "citations": [asdict(c) for c in self.citations],
            "confidence": self.confidence,
            "reason": self.reason,
            "standalone_query": self.standalone_query,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The inverse of `to_dict` (saved conversations, a server's reply); keys it does not know are ignored,
        so what a newer version wrote still reads."""
        return cls(str(data["question"]), bool(data["found"]), str(data["answer"]),
                   tuple(_citation(c) for c in data.get("citations", ())), float(data["confidence"]),
                   str(data["reason"]), data.get("standalone_query"))


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _citation(data: dict[str, Any]) -> Citation:
    values = _known(Citation, data)
    values["also_in"] = tuple(Copy(**_known(Copy, c)) for c in values.get("also_in", ()))
    return Citation(**values)


@dataclass(frozen=True)
class IndexReport:
    """What opening or building an index did, for progress messages and tests."""

    articles: int
    chunks: int
    encoded_texts: int  # chunks and sentences embedded by this open (0: nothing changed)
    reused_articles: int
    skipped: tuple[str, ...]  # files not indexed, each with the reason
    rebuilt: bool
