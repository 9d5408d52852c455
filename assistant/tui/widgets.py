"""The chat's building blocks: the question box with history, one turn of the conversation, the reader.

Article and question text is untrusted: it is always wrapped in `Content(...)` (never parsed as markup)
and control characters are replaced first, so an article cannot restyle or corrupt the terminal.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.events import Click
from textual.message import Message
from textual.widgets import Input, Static

from ..types import Answer, Article, Citation

HIGHLIGHT = "bold on $warning 40%"  # the quoted span in the reader; theme-aware, so light and dark work
MARKER = "bold $accent"
_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unsafe(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc" or ch in _BIDI


def display_line(text: str) -> str:
    """One line fit for the chat: escape sequences dropped, line breaks and tabs made spaces,
    other control characters shown as U+FFFD."""
    text = _ESCAPE.sub("", text)
    return "".join(" " if ch in "\t\r\n" else "\ufffd" if _unsafe(ch) else ch for ch in text)


def display_same_length(text: str) -> str:
    """Like `display_line` but keeps line breaks and every offset, so `[start:end]` still marks the quote."""
    return "".join(ch if ch == "\n" else " " if ch in "\t\r" else "\ufffd" if _unsafe(ch) else ch for ch in text)


def confidence_cue(confidence: float) -> str:
    """A word for the confidence, so it reads at a glance (and without colours)."""
    if confidence >= 0.8:
        return "high"
    if confidence >= 0.5:
        return "medium"
    return "low"


def plain_answer(answer: Answer) -> str:
    """The answer as plain text for the clipboard: quotes with markers, then the sources."""
    if not answer.found:
        return f"Q: {answer.question}\nNo answer in the articles: {answer.reason}."
    quotes = " ".join(f"“{c.quote}” [{n}]" for n, c in enumerate(answer.citations, start=1))
    sources = "\n".join(
        f"[{n}] {c.title} — {c.source} (chars {c.start}-{c.end})" for n, c in enumerate(answer.citations, start=1)
    )
    return f"Q: {answer.question}\n{quotes}\n\n{sources}"


class QuestionInput(Input):
    """The question box; Up and Down walk through earlier questions like a shell history."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Earlier question", show=False),
        Binding("down", "history(1)", "Later question", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.history: list[str] = []
        self._position: int | None = None  # index into history while browsing it, else None
        self._draft = ""

    def remember(self, question: str) -> None:
        """Add a question to the history (no repeats in a row) and stop browsing."""
        if not self.history or self.history[-1] != question:
            self.history.append(question)
        self._position = None

    def action_history(self, step: int) -> None:
        """Show an earlier (step -1) or later (step 1) question; past the newest, the unsent draft."""
        if not self.history:
            return
        if self._position is None:
            if step > 0:
                return
            self._draft = self.value
            position = len(self.history) - 1
        else:
            position = self._position + step
        if position < 0:
            return
        if position >= len(self.history):
            self._position = None
            self.value = self._draft
        else:
            self._position = position
            self.value = self.history[position]
        self.cursor_position = len(self.value)


class ChatLog(VerticalScroll):
    """The conversation; anchored to the bottom so new answers show, until the user scrolls up."""

    def on_mount(self) -> None:
        self.anchor()

    def follow(self) -> None:
        """Jump back to the newest turn (after the user asks something) and keep following."""
        self.anchor()


class CitationLink(Static, can_focus=True):
    """One source of an answer: Tab to it and press Enter, or click it, to read the article."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter,space", "open", "Read source", show=False)]

    class Opened(Message):
        """The user wants to read the article around this citation."""

        def __init__(self, citation: Citation) -> None:
            super().__init__()
            self.citation = citation

    def __init__(self, number: int, citation: Citation) -> None:
        label = Content.assemble(
            (f"[{number}] ", MARKER),
            (display_line(citation.title), "bold"),
            "  ",
            (display_line(citation.source), "$text-muted"),
        )
        super().__init__(label, classes="citation")
        self.number = number
        self.citation = citation
        self.tooltip = "Enter or click: read the article with the quote highlighted"

    def action_open(self) -> None:
        self.post_message(self.Opened(self.citation))

    def on_click(self, event: Click) -> None:
        event.stop()
        self.action_open()


class Turn(Vertical):
    """One question and, once it is known, its answer (or why there is none)."""

    def __init__(self, question: str, waiting_for: str) -> None:
        super().__init__(classes="turn")
        self.question = question
        self.answer: Answer | None = None
        self.state = "pending"  # pending, answered, no-answer, error, cancelled
        self._waiting_for = waiting_for

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble(("You  ", "bold $primary"), display_line(self.question)), classes="question")
        yield Static(Content(self._waiting_for), classes="reply pending")

    def _replace_reply(self, *widgets: Static | Vertical) -> None:
        for old in self.query(".reply"):
            old.remove()
        self.mount(*widgets)

    def set_waiting(self, text: str) -> None:
        """Say what the question is waiting for (the model, or the search)."""
        for pending in self.query(".pending").results(Static):
            pending.update(Content(text))

    def show_answer(self, answer: Answer) -> None:
        """Quotes with their markers, the sources, the confidence; or the plain "no answer" note."""
        self.answer = answer
        if not answer.found:
            self.state = "no-answer"
            note = Content.assemble(
                ("No answer in the articles", "bold"), "\n", (display_line(answer.reason), "$text-muted")
            )
            self._replace_reply(Static(note, classes="reply no-answer"))
            return
        self.state = "answered"
        parts: list[str | tuple[str, str]] = []
        for number, citation in enumerate(answer.citations, start=1):
            if number > 1:
                parts.append(" ")
            parts += [f"“{display_line(citation.quote)}”", (f" [{number}]", MARKER)]
        word = confidence_cue(answer.confidence)
        cue = Content.assemble((f"{word} confidence", "bold $text-success" if word == "high" else "bold $text-warning"),
                               (f" · {answer.confidence:.2f}", "$text-muted"))
        self._replace_reply(
            Vertical(
                Static(Content.assemble(*parts), classes="quote"),
                Static(Content("Sources"), classes="sources-label"),
                *(CitationLink(n, c) for n, c in enumerate(answer.citations, start=1)),
                Static(cue, classes="confidence"),
                classes="reply answer",
            )
        )

    def show_error(self, message: str) -> None:
        """An error inside this question: said plainly, and the chat keeps working."""
        self.state = "error"
        text = Content.assemble(("Error: ", "bold"), display_line(message))
        self._replace_reply(Static(text, classes="reply error"))

    def show_cancelled(self) -> None:
        self.state = "cancelled"
        self._replace_reply(Static(Content("Cancelled."), classes="reply cancelled"))


class Paragraph(Static):
    """One line of an article in the reader; knows its offsets so the quoted span can be marked."""

    def __init__(self, text: str, start: int, span: tuple[int, int] | None) -> None:
        content = Content(display_same_length(text))
        self.start = start
        self.cited = False
        if span is not None:
            low, high = max(span[0] - start, 0), min(span[1] - start, len(text))
            if low < high:
                content = content.stylize(HIGHLIGHT, low, high)
                self.cited = True
        super().__init__(content, classes="paragraph -cited" if self.cited else "paragraph")
        self.shown = content

    def highlighted(self) -> str:
        """The text this paragraph shows highlighted (what the user sees marked)."""
        return "".join(self.shown.plain[s.start : s.end] for s in self.shown.spans if s.style == HIGHLIGHT)


class ArticleView(VerticalScroll):
    """A whole article, the cited span highlighted and scrolled into view when the reader opens."""

    def __init__(self, article: Article, span: tuple[int, int] | None = None) -> None:
        super().__init__(id="article")
        self.article = article
        self.span = span

    def compose(self) -> ComposeResult:
        offset = 0
        for line in self.article.text.split("\n"):
            if line.strip():
                yield Paragraph(line, offset, self.span)
            offset += len(line) + 1

    def on_mount(self) -> None:
        self.call_after_refresh(self._show_span)

    def _show_span(self) -> None:
        cited = [p for p in self.query(Paragraph) if p.cited]
        if cited:
            self.scroll_to_widget(cited[0], animate=False, center=True)

    def highlighted_text(self) -> str:
        """All highlighted text, paragraphs joined by the line breaks between them in the article."""
        cited = [p for p in self.query(Paragraph) if p.cited]
        if not cited:
            return ""
        pieces = [cited[0].highlighted()]
        for before, after in pairwise(cited):
            pieces.append(self.article.text[before.start + len(before.shown.plain) : after.start])
            pieces.append(after.highlighted())
        return "".join(pieces)
