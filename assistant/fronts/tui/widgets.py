"""The chat's building blocks: the question box with history, one turn of the conversation, the reader.

Article and question text is untrusted: it is always wrapped in `Content(...)` (never parsed as markup)
and control characters are replaced first, so an article cannot restyle or corrupt the terminal.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from typing import ClassVar

from rich.cells import get_character_cell_size
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.events import Click
from textual.geometry import Offset, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip
from textual.widgets import Input, Static

from ...filters import Filter
from ...phrase import unstated
from ...types import Answer, Article, Citation
from ..labels import copies, published

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


def _quote_parts(citation: Citation) -> list[str | tuple[str, str]]:
    """The quote for the chat, the answer phrase in bold inside it (when one is marked)."""
    if citation.answer_start is None or citation.answer_end is None:
        return [display_line(citation.quote)]
    a, b = citation.answer_start - citation.start, citation.answer_end - citation.start
    quote = citation.quote
    return [display_line(quote[:a]), (display_line(quote[a:b]), "bold"), display_line(quote[b:])]


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


def _dates_note(answer: Answer) -> list[str]:
    """A line under the sources when quotes of different dates disagree (both are shown)."""
    numbers = [f"[{n}]" for n, c in enumerate(answer.citations, start=1) if c.disagrees]
    if len(numbers) < 2:
        return []
    return [f"{' and '.join(numbers)} are from articles of different dates and disagree; both are quoted."]


def _notes(answer: Answer) -> list[str]:
    """The lines under the sources: disagreeing dates, and a number asked for that no quote gives."""
    unsaid = unstated(answer)
    return _dates_note(answer) + ([unsaid[:1].upper() + unsaid[1:]] if unsaid else [])


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

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter,space", "open", "Read source")]

    class Opened(Message):
        """The user wants to read the article around this citation."""

        def __init__(self, citation: Citation) -> None:
            super().__init__()
            self.citation = citation

    def __init__(self, number: int, citation: Citation) -> None:
        where = published(citation.outlet, citation.date, " · ")
        parts: list[str | tuple[str, str]] = [(f"[{number}] ", MARKER), (display_line(citation.title), "bold")]
        if where:  # "The Daily Ledger · 2022-06-14"
            parts.append(("  " + display_line(where), "$text-primary"))
        if citation.newest:
            parts.append((" (newest)", "bold $text-success"))
        parts += ["  ", (display_line(citation.source), "$text-muted")]
        if citation.also_in:
            parts.append(("\n    also in: " + display_line(copies(citation.also_in)), "$text-muted"))
        label = Content.assemble(*parts)
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

    def __init__(self, question: str, waiting_for: str, filter: Filter | None = None) -> None:
        super().__init__(classes="turn")
        self.question = question
        self.filter = filter or Filter()  # what the question searched (the filter when it was asked)
        self.answer: Answer | None = None
        self.state = "pending"  # pending, answered, no-answer, error, cancelled
        self._waiting_for = waiting_for

    def compose(self) -> ComposeResult:
        parts: list[str | tuple[str, str]] = [("You  ", "bold $primary"), display_line(self.question)]
        if self.filter.active:  # what this question searched, even after the filter is changed
            parts.append((f"   ({display_line(self.filter.describe())})", "$text-muted"))
        yield Static(Content.assemble(*parts), classes="question")
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
            parts += ["“", *_quote_parts(citation), "”", (f" [{number}]", MARKER)]
        word = confidence_cue(answer.confidence)
        cue = Content.assemble((f"{word} confidence", "bold $text-success" if word == "high" else "bold $text-warning"),
                               (f" · {answer.confidence:.2f}", "$text-muted"))
        self._replace_reply(
            Vertical(
                Static(Content.assemble(*parts), classes="quote"),
                Static(Content("Sources"), classes="sources-label"),
                *(CitationLink(n, c) for n, c in enumerate(answer.citations, start=1)),
                *(Static(Content(display_line(note)), classes="dates-note") for note in _notes(answer)),
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


class ArticleView(ScrollView, can_focus=True):
    """A whole article, the cited span highlighted and scrolled into view when the reader opens.

    Drawn line by line (Textual's Line API): only the rows on screen are rendered, and wrapping is one
    regex pass over the text, so a 50 MB article opens in about a second where a widget per paragraph
    took minutes. Paragraphs are the article's non-blank lines, one blank row apart; rows of paragraphs
    that hold the quote carry a bar in the gutter."""

    ALLOW_SELECT = True
    COMPONENT_CLASSES: ClassVar[set[str]] = {"article-view--quote", "article-view--mark"}  # styled in app.tcss
    GUTTER = 2  # cells left of the text: the bar beside cited paragraphs, and a space

    def __init__(self, article: Article, span: tuple[int, int] | None = None,
                 phrase: tuple[int, int] | None = None) -> None:
        super().__init__(id="article")
        self.article = article
        self.span = span
        self.phrase = phrase  # the answer phrase inside the quote, drawn bold
        # Row r shows article.text[starts[r]:ends[r]]; a blank row between paragraphs has start == end.
        self._starts = array("q")
        self._ends = array("q")
        self._marked = (0, -1)  # first and last row of the paragraphs that hold the quote
        self._width = 0  # the text width the rows were wrapped to; 0: not yet laid out
        self._shown_quote = False

    # ---- layout -------------------------------------------------------------------------------------

    def on_resize(self) -> None:
        width = max(self.scrollable_content_region.width - self.GUTTER, 1)
        if width == self._width:
            return
        top = self._starts[min(self.scroll_offset.y, len(self._starts) - 1)] if self._starts and self._shown_quote \
            else None
        self._wrap(width)
        self.virtual_size = Size(0, len(self._starts))
        if top is None:  # first layout: bring the quote into view
            self.call_after_refresh(self._show_quote)
        else:  # a resize keeps the same text at the top
            self.scroll_to(y=self._row_of(top), animate=False)

    def _wrap(self, width: int) -> None:
        """Cut every paragraph into rows of at most `width` cells, breaking at spaces where possible."""
        starts, ends = array("q"), array("q")
        low, high = self.span if self.span is not None else (-1, -1)
        marked_first, marked_last = 0, -1
        words = re.compile(rf"(.{{1,{width}}})(?:\s+|$)|(.{{{width}}})")
        offset = 0
        for line in self.article.text.split("\n"):
            size = len(line)
            if line.strip():
                if starts:
                    starts.append(offset)
                    ends.append(offset)
                cited = offset < high and low < offset + size
                if cited and marked_last < 0:
                    marked_first = len(starts)
                if _MAYBE_WIDE.search(line) is not None:
                    rows: Iterable[tuple[int, int]] = _wrap_cells(display_same_length(line), width)
                elif size <= width:
                    rows = ((0, size),)
                else:
                    rows = (m.span(1) if m.lastindex == 1 else m.span(2) for m in words.finditer(line))
                for start, end in rows:
                    starts.append(offset + start)
                    ends.append(offset + end)
                if cited:
                    marked_last = len(starts) - 1
            offset += size + 1
        self._starts, self._ends, self._marked, self._width = starts, ends, (marked_first, marked_last), width

    def _row_of(self, offset: int) -> int:
        """The row that shows the character at `offset` (or the nearest one before it)."""
        return max(bisect_right(self._starts, offset) - 1, 0)

    def quote_rows(self) -> tuple[int, int] | None:
        """The first and last row of the quoted span, once laid out; None without a quote."""
        if self.span is None or not self._starts:
            return None
        return self._row_of(self.span[0]), self._row_of(max(self.span[1] - 1, self.span[0]))

    def _show_quote(self) -> None:
        rows = self.quote_rows()
        if rows is not None:
            first, last = rows
            height = self.scrollable_content_region.height
            self.scroll_to(y=max(first - max((height - (last - first + 1)) // 2, 0), 0), animate=False)
        self._shown_quote = True

    # ---- drawing ------------------------------------------------------------------------------------

    def row_content(self, row: int) -> Content:
        """The text of one row as drawn: control characters made safe, the quoted part highlighted."""
        start, end = self._starts[row], self._ends[row]
        content = Content(display_same_length(self.article.text[start:end]))
        if self.span is not None and start < self.span[1] and self.span[0] < end:
            quote = self.get_visual_style("article-view--quote")
            content = content.stylize(quote, max(self.span[0] - start, 0), min(self.span[1], end) - start)
        if self.phrase is not None and start < self.phrase[1] and self.phrase[0] < end:
            content = content.stylize("bold", max(self.phrase[0] - start, 0), min(self.phrase[1], end) - start)
        return content

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if row >= len(self._starts):
            return Strip.blank(width, base)
        content = self.row_content(row)
        selection = self.text_selection
        if selection is not None and (picked := selection.get_span(row)) is not None:
            low, high = picked
            content = content.stylize(self.screen.get_visual_style("screen--selection"), low,
                                      len(content) if high == -1 else high)
        gutter = Content("▌".ljust(self.GUTTER) if self._marked[0] <= row <= self._marked[1] else " " * self.GUTTER)
        gutter = gutter.stylize(self.get_visual_style("article-view--mark"))
        text = Strip(content.render_segments(self.visual_style), content.cell_length).apply_offsets(0, row)
        left = Strip(gutter.render_segments(self.visual_style), gutter.cell_length)
        return Strip.join([left, text]).crop_extend(0, width, base)

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The article text between the selection's ends, with its own line breaks (for copying)."""
        if not self._starts:
            return None
        start = 0 if selection.start is None else self._offset_at(selection.start)
        end = len(self.article.text) if selection.end is None else self._offset_at(selection.end)
        return display_same_length(self.article.text[start:end]), "\n"

    def _offset_at(self, point: Offset) -> int:
        row = min(max(point.y, 0), len(self._starts) - 1)
        return min(self._starts[row] + max(point.x, 0), self._ends[row])

    def highlighted_text(self) -> str:
        """The text drawn highlighted, with the article's own text between rows (what a reader sees marked)."""
        rows = self.quote_rows()
        if rows is None:
            return ""
        pieces: list[str] = []
        last_end: int | None = None
        quote = self.get_visual_style("article-view--quote")
        for row in range(rows[0], rows[1] + 1):
            content = self.row_content(row)
            for span in content.spans:
                if span.style != quote:
                    continue  # the phrase's bold lies inside the quote's span
                start = self._starts[row] + span.start
                if last_end is not None:
                    pieces.append(self.article.text[last_end:start])
                pieces.append(content.plain[span.start : span.end])
                last_end = self._starts[row] + span.end
        return "".join(pieces)


_MAYBE_WIDE = re.compile(r"[^\x00-\u10ff\u2000-\u206f\u20a0-\u20cf]")
"""Characters that may take two cells (CJK, emoji); below U+1100 and in these punctuation and currency
blocks every character takes at most one, so lines without them wrap by counting characters."""


def _wrap_cells(line: str, width: int) -> Iterator[tuple[int, int]]:
    """Word wrap by terminal cells, for lines with wide characters: exact, but a Python loop.

    `line` is the text as displayed (`display_same_length`), so every character is measured as drawn."""
    start, size = 0, len(line)
    while start < size:
        cells, end, space = 0, start, -1
        while end < size:
            cell = get_character_cell_size(line[end])
            if cells + cell > width:
                break
            if line[end].isspace():
                space = end
            cells += cell
            end += 1
        if end >= size:
            yield start, size
            return
        if line[end].isspace():
            cut = end
        elif space > start:
            cut = space
        else:  # one word wider than the view, or one character wider than `width`: cut it anyway
            cut = max(end, start + 1)
        yield start, cut
        start = cut
        while start < size and line[start].isspace():
            start += 1
