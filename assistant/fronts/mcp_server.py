"""`assistant mcp`: the assistant as a Model Context Protocol server over stdio (the official `mcp` SDK).

Tools, each returning the same JSON as the HTTP API:

    ask(question, conversation?)         the answer (`Answer.to_dict()`) and its conversation id
    search(question, k?)                 {"question", "hits": [`Hit.to_dict()`]}
    read_article(source, start?, end?)   the article's text and metadata (and text[start:end] as "excerpt")

stdout carries the protocol only: logs go to stderr. The index and the model load in a background
thread from the start; a tool called before that finishes waits for it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AssistantError
from .conversations import Conversations, answer_json

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from ..config import Settings
    from ..core import Assistant
    from ..history import History

log = logging.getLogger("assistant")
LOAD_WAIT_S = 600.0  # a tool gives up waiting for the index and model after this

INSTRUCTIONS = """Answers questions about a collection of news articles with sentences quoted word for word
from them. Every citation has the article's `source`, the `quote`, and its character span `start`/`end`
in the article's text: `read_article(source)["text"][start:end] == quote`. When the articles do not hold
the answer, `found` is false and `reason` says why; do not answer from elsewhere then. Pass the
`conversation` id back to `ask` for follow-up questions ("What about China?")."""


class _Loader:
    """Opens the assistant once, in the background; tools wait on it."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.done = threading.Event()
        self.error: Exception | None = None
        threading.Thread(target=self._load, name="assistant-load", daemon=True).start()

    def _load(self) -> None:
        try:
            self.assistant.open()
            self.assistant.search("warm up", k=1)
        except Exception as exc:
            log.error("cannot open the articles: %s", exc)
            self.error = exc
        finally:
            self.done.set()

    def ready(self) -> Assistant:
        if not self.done.wait(LOAD_WAIT_S):
            raise AssistantError("the index and the model are still loading; try again shortly")
        if self.error is not None:
            raise AssistantError(f"the articles could not be opened: {self.error}")
        return self.assistant


@contextlib.contextmanager
def _told() -> Iterator[None]:
    """An error the user can act on reaches the client with its message (the SDK hides other errors' text)."""
    from mcp.server.mcpserver.exceptions import ToolError

    try:
        yield
    except AssistantError as exc:
        raise ToolError(str(exc)) from exc


def build(assistant: Assistant, history: History | None = None) -> MCPServer[Any]:
    """The MCP server with its three tools; loading starts now."""
    from mcp.server.mcpserver import MCPServer

    from ..filters import parse_filter

    loader = _Loader(assistant)
    conversations = Conversations(assistant, history, front="mcp")
    server: MCPServer[Any] = MCPServer("assistant", instructions=INSTRUCTIONS, log_level="WARNING")

    @server.tool(title="Ask the articles")
    def ask(question: str, conversation: str | None = None, since: str | None = None, until: str | None = None,
            sources: list[str] | None = None) -> dict[str, Any]:
        """Answer a question with sentences quoted verbatim from the news articles, each with its citation
        (source file, title, character span, date, outlet), or found=false with the reason when they hold
        no answer. Give `conversation` (the id an earlier answer returned) to ask a follow-up. `since` and
        `until` (YYYY-MM-DD, YYYY-MM or YYYY) and `sources` (outlets, sites or file globs) search only
        those articles."""
        with _told():
            loader.ready()
            flt = parse_filter(since, until, sources)
            key, answer = conversations.ask(question, conversation, flt.arguments())
        return answer_json(answer, key, flt)

    @server.tool(title="Search the articles")
    def search(question: str, k: int = 5, since: str | None = None, until: str | None = None,
               sources: list[str] | None = None) -> dict[str, Any]:
        """The k passages of the articles that best match the question, with the fused score and its
        dense (cosine) and BM25 parts. For finding material; `ask` picks and quotes the answer. The
        filters are those of `ask`."""
        with _told():
            if not 1 <= k <= 100:
                raise AssistantError("k must be between 1 and 100")
            filters = parse_filter(since, until, sources).arguments()
            hits = loader.ready().search(question, k=k, **filters)
        return {"question": question, "hits": [h.to_dict() for h in hits]}

    @server.tool(title="Read an article")
    def read_article(source: str, start: int | None = None, end: int | None = None) -> dict[str, Any]:
        """One article's whole text and metadata, to check a citation: text[start:end] is its quote.
        With start and end, "excerpt" is that span of the text."""
        with _told():
            ready = loader.ready()
            try:
                article = ready.article(source)
            except KeyError:
                raise AssistantError(f"no article {source!r} in the index (search or ask name them)") from None
            data = asdict(article)
            if start is not None or end is not None:
                low, high = start or 0, len(article.text) if end is None else end
                if not 0 <= low <= high <= len(article.text):
                    raise AssistantError(f"start and end must satisfy 0 <= start <= end <= {len(article.text)}")
                data["excerpt"] = article.text[low:high]
        return data

    return server


def run(corpus: Path, index: Path | None, history: History | None, settings: Settings | None = None) -> int:
    """Serve MCP on stdin/stdout until the client closes it (`settings`: those of `--backend milvus`)."""
    from ..core import Assistant

    build(Assistant(corpus=corpus, index=index, settings=settings), history).run("stdio")
    return 0
