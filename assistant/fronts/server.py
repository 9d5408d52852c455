"""`assistant serve`: the assistant over HTTP (FastAPI on uvicorn), loaded once and answering many times.

    POST /ask               {"question": "...", "conversation": "ID"}  the answer (`Answer.to_dict()`) and
                                                                       its "conversation", for follow-ups
    POST /search            {"question": "...", "k": 10}               {"question", "hits": [`Hit.to_dict()`]}
    GET  /articles                                                     {"articles": [source, title, metadata]}
    GET  /articles/{source}                                            one article: text, body spans, metadata
    GET  /health                                                       {"status": "loading" | "ready" | "failed"}
    GET  /docs                                                         OpenAPI documentation

Errors are JSON, `{"error": {"status": 400, "message": "..."}}`, with that HTTP status: 400 a bad question or
body, 404 an unknown article, conversation or route, 413 a body over the size limit, 503 while the index
and model load or when the queue is full (with Retry-After), 504 past the per-request timeout.

The index and the model load in a background thread once the server listens, so /health answers at
once. Questions are answered by a fixed pool of worker threads fed from a bounded queue: a burst waits
its turn, a flood is refused, and no request gets a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from ..config import ServeSettings
from ..errors import AssistantError, QuestionError
from ..filters import Filter, parse_filter
from .conversations import Conversations, UnknownConversation, answer_json

if TYPE_CHECKING:
    from ..core import Assistant
    from ..history import History

log = logging.getLogger("assistant")
T = TypeVar("T")
RETRY_AFTER_S = 2  # what a client told to come back (loading, queue full) is told to wait
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ApiError(Exception):
    """An error answer: HTTP status, message, and extra headers (Retry-After)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status, headers=headers)


# ---- request bodies -----------------------------------------------------------------------------------

class Filtered(BaseModel):
    """The filters of `assistant ask --since/--until/--source`, applied before ranking."""

    since: str | None = Field(None, description="only articles published on or after this day (YYYY-MM-DD, "
                                                "YYYY-MM or YYYY); undated articles are left out",
                              examples=["2022-06-01"])
    until: str | None = Field(None, description="only articles published on or before this day (YYYY-MM: to "
                                                "the month's end)")
    sources: list[str] | None = Field(None, description="only articles from these outlets, sites or file globs",
                                      examples=[["cnn.com"]])

    def filter(self) -> Filter:
        """The filter as typed; a bad date raises FilterError (a 400)."""
        return parse_filter(self.since, self.until, self.sources)


class AskBody(Filtered):
    """A question; `conversation` (an id a previous answer returned) makes it a follow-up."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(description="the question, in words", examples=["Who is the Afghan foreign minister?"])
    conversation: str | None = Field(None, description="continue this conversation (its id from an earlier "
                                                       "answer); without it a new conversation starts")


class SearchBody(Filtered):
    """A query for the retriever: the best passages and their scores, no answer selection."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(description="what to look for", examples=["Taliban mining contracts"])
    k: int = Field(10, ge=1, le=100, description="how many passages")


# ---- the work -----------------------------------------------------------------------------------------

class Service:
    """What the routes share: the assistant (loading in the background), the worker pool and its queue,
    and the conversations."""

    def __init__(self, assistant: Assistant, settings: ServeSettings | None = None,
                 history: History | None = None) -> None:
        self.assistant = assistant
        self.settings = settings or ServeSettings()
        self.conversations = Conversations(assistant, history, front="http", keep=self.settings.conversations)
        self.state = "loading"  # loading, ready, failed
        self.error: str | None = None
        self._state_lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=max(self.settings.workers, 1),
                                        thread_name_prefix="assistant-worker")
        self._taken = 0  # requests running or waiting in the pool
        self._taken_lock = threading.Lock()

    # loading

    def start(self) -> None:
        """Open the index and load the model in a daemon thread (again, after a failure)."""
        with self._state_lock:
            if self._loader is not None and self._loader.is_alive():
                return
            self.state, self.error = "loading", None
            self._loader = threading.Thread(target=self._load, name="assistant-load", daemon=True)
            self._loader.start()

    def _load(self) -> None:
        try:
            self.assistant.open()
            self.assistant.search("warm up", k=1)  # the model loads on its first encode: pay for it now
        except Exception as exc:  # shown by /health and every request, never a traceback
            log.error("cannot open the articles: %s", exc)
            with self._state_lock:
                self.state, self.error = "failed", f"{type(exc).__name__}: {exc}" \
                    if not isinstance(exc, AssistantError) else str(exc)
        else:
            with self._state_lock:
                self.state = "ready"

    def wait_ready(self) -> None:
        """Refuse while loading (503), or when loading failed (503 again, and loading is retried)."""
        if self.state == "ready":
            return
        if self.state == "failed":
            message = f"the articles could not be opened: {self.error}; trying again"
            self.start()
            raise ApiError(503, message, {"Retry-After": str(RETRY_AFTER_S)})
        raise ApiError(503, "the index and the model are still loading; try again shortly",
                       {"Retry-After": str(RETRY_AFTER_S)})

    # the queue

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """Run `work` on the pool, refusing (503) when workers and queue are full, and giving up (504) after
        the timeout. A request that times out while waiting never runs; a running one finishes unseen."""
        capacity = max(self.settings.workers, 1) + max(self.settings.queue, 0)
        with self._taken_lock:
            if self._taken >= capacity:
                raise ApiError(503, f"the server is busy ({capacity} questions running or waiting); try again "
                                    "shortly", {"Retry-After": str(RETRY_AFTER_S)})
            self._taken += 1
        try:
            future = self._pool.submit(work, *args)
        except BaseException:
            self._release()
            raise
        future.add_done_callback(lambda _: self._release())
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.settings.timeout_s)
        except TimeoutError:
            raise ApiError(504, f"no answer within {self.settings.timeout_s:g} s; the server may be overloaded") \
                from None
        except (AssistantError, ApiError):
            raise
        except Exception as exc:  # a bug: a JSON 500 here keeps the connection (a re-raised one drops it)
            log.exception("internal error answering a request")
            raise ApiError(500, f"internal error ({type(exc).__name__}); see the server's log") from exc

    def _release(self) -> None:
        with self._taken_lock:
            self._taken -= 1

    @property
    def busy(self) -> int:
        """Requests running or waiting now."""
        return self._taken

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# ---- the request size limit ---------------------------------------------------------------------------

class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413: by Content-Length before reading, else while the
    body streams in (it is read here, at most `limit` bytes, and handed on whole)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await error_response(400, "Content-Length is not a number")(scope, receive, send)
                return
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(413, f"the request body is over the limit of {self.limit} bytes")(scope, receive, send)


# ---- the app ------------------------------------------------------------------------------------------

def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return "the request body is not valid JSON"
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        problems.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "bad request body: " + "; ".join(problems)


def create_app(service: Service) -> FastAPI:
    """The FastAPI app over one `Service` (which the caller keeps, to inspect or close)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.start()
        yield
        service.close()

    app = FastAPI(
        title="assistant",
        summary="Questions about a folder of news articles, answered with verbatim quotes and their citations.",
        description="Every answer is made of sentences quoted word for word from the articles; each citation's "
                    "`quote` is exactly `text[start:end]` of the article that `GET /articles/{source}` returns. "
                    "When the articles hold no answer, `found` is false and `reason` says why.",
        version="1",
        lifespan=lifespan,
    )

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _bad_body(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(400, _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    @app.exception_handler(QuestionError)
    async def _bad_question(_: Request, exc: QuestionError) -> JSONResponse:
        return error_response(400, str(exc))

    @app.exception_handler(UnknownConversation)
    async def _unknown_conversation(_: Request, exc: UnknownConversation) -> JSONResponse:
        return error_response(404, str(exc))

    @app.exception_handler(AssistantError)
    async def _assistant_error(_: Request, exc: AssistantError) -> JSONResponse:
        return error_response(500, str(exc))

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:  # a bug: still JSON, and logged
        log.exception("internal error answering a request")
        return error_response(500, f"internal error ({type(exc).__name__}); see the server's log")

    @app.post("/ask", summary="Answer a question with quotes from the articles")
    async def ask(body: AskBody) -> dict[str, Any]:
        """The answer (`found`, `answer`, `citations`, `confidence`, `reason`, `standalone_query`) and the
        `conversation` id; send it back with the next question to ask a follow-up ("What about China?")."""
        service.wait_ready()
        flt = body.filter()
        key, answer = await service.run(service.conversations.ask, body.question, body.conversation,
                                        flt.arguments())
        return answer_json(answer, key, flt)

    @app.post("/search", summary="The best-matching passages and their scores")
    async def search(body: SearchBody) -> dict[str, Any]:
        service.wait_ready()
        hits = await service.run(partial(service.assistant.search, body.question, body.k,
                                         **body.filter().arguments()))
        return {"question": body.question, "hits": [h.to_dict() for h in hits]}

    @app.get("/articles", summary="Every indexed article (without its text)")
    async def articles() -> dict[str, Any]:
        service.wait_ready()
        return {"articles": [{k: v for k, v in asdict(a).items() if k not in ("text", "body")}
                             | {"characters": len(a.text)} for a in service.assistant.articles()]}

    @app.get("/articles/{source:path}", summary="One article: its text and metadata, to check a quote")
    async def article(source: str) -> dict[str, Any]:
        """`text[start:end]` is a citation's `quote`; `body` lists the spans kept as article text."""
        service.wait_ready()
        try:
            found = service.assistant.article(source)
        except KeyError:
            raise ApiError(404, f"no article {source!r} in the index (GET /articles lists them)") from None
        return asdict(found)

    @app.get("/health", summary="Whether the server can answer yet")
    async def health() -> JSONResponse:
        """200 once ready; 503 while loading or after loading failed (see `error`)."""
        body: dict[str, Any] = {"status": service.state, "corpus": str(service.assistant.corpus),
                                "busy": service.busy}
        if service.state == "ready":
            report = service.assistant.open()
            body |= {"articles": report.articles, "chunks": report.chunks}
        if service.error:
            body["error"] = service.error
        return JSONResponse(body, status_code=200 if service.state == "ready" else 503)

    app.add_middleware(BodyLimit, limit=service.settings.max_body_bytes)  # type: ignore[arg-type]
    return app


# ---- running ------------------------------------------------------------------------------------------

def listen(host: str, port: int) -> socket.socket:
    """A bound, listening socket (port 0: any free port), so the address is known before uvicorn starts."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def server(service: Service, sock: socket.socket) -> Any:
    """A uvicorn server for the app, not yet running (`.run(sockets=[sock])`, `.should_exit = True`)."""
    import uvicorn

    config = uvicorn.Config(create_app(service), log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5)
    return uvicorn.Server(config)


def serve(assistant: Assistant, settings: ServeSettings, history: History | None,
          announce: Callable[[str], None]) -> int:
    """Run until interrupted: listen, tell `announce` the URL, load in the background, answer."""
    try:
        sock = listen(settings.host, settings.port)
    except OSError as exc:
        raise AssistantError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}") from exc
    service = Service(assistant, settings, history)
    announce(url_of(sock))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn stops on Ctrl+C, then raises it again
        server(service, sock).run(sockets=[sock])
    return 0
