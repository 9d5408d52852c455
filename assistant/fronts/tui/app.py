"""The chat app: ask questions, read quoted answers, open the cited articles.

The window draws at once; the index and the model load in a background thread. Questions typed before
that finishes wait in a queue and are answered in order. Answering runs in a thread worker too, so
Escape can cancel it (the late result is thrown away) and the UI never freezes. Every answered turn is
saved to the history (when there is one); the command palette (Ctrl+P) reopens, searches and exports
saved conversations.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ...config import DEFAULT_CORPUS, UI_SWITCH_INTERVAL_S, Settings, default_index
from ...conversation import Session
from ...core import Assistant
from ...errors import AssistantError, FilterError, HistoryError, IndexLockedError, IndexStoreError
from ...filters import Filter, parse_filter
from ...history import Conversation, History, SavedTurn, new_id, to_markdown
from ...types import Answer, Article, Citation, IndexReport
from ..labels import copies, published
from .filters import FilterBar, FilterScreen
from .history_screens import ExportScreen, PastScreen, SearchScreen
from .widgets import ArticleView, ChatLog, CitationLink, QuestionInput, Turn, display_line, plain_answer

KEYS = (
    ("Enter", "ask the question"),
    ("Up / Down", "recall earlier questions"),
    ("Shift+Tab, Enter", "go to the latest source and open it (or click it)"),
    ("Ctrl+O", "open the first source of the last answer"),
    ("F2", "browse all articles"),
    ("F3 / F4", "search only some dates or outlets / clear that filter"),
    ("Escape", "cancel the running question / go back"),
    ("Ctrl+L", "clear the chat and start a new conversation"),
    ("Ctrl+Y", "copy the last answer with its sources"),
    ("Ctrl+T", "switch between dark and light theme"),
    ("Ctrl+P", "commands: new conversation, past conversations, search them, export, theme, keys"),
    ("F1 or ?", "show these keys"),
    ("Ctrl+Q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    """The keys, in one box over the chat."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark,q", "app.pop_screen", "Close", show=True),
    ]

    def compose(self) -> ComposeResult:
        width = max(len(key) for key, _ in KEYS) + 2
        lines = Content("\n").join(
            Content.assemble((key.ljust(width), "bold $accent"), what) for key, what in KEYS
        )
        with Vertical(id="help"):
            yield Static(Content("Keys"), id="help-title")
            yield Static(lines)
            yield Static(Content("Answers are quoted word for word from the articles; [n] marks the source."),
                         id="help-note")


class ReaderScreen(Screen[None]):
    """One whole article, with the quoted span highlighted, so every answer can be checked."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, article: Article, citation: Citation | None = None) -> None:
        super().__init__()
        self.article = article
        self.citation = citation

    def compose(self) -> ComposeResult:
        where = display_line(self.article.source)
        if self.citation is not None:
            where += f"  ·  quote at characters {self.citation.start}–{self.citation.end}"
        yield Header()
        yield Static(Content(display_line(self.article.title)), id="reader-title")
        about = [published(self.article.outlet, self.article.date, " · "), self.article.author or "",
                 self.article.url or ""]
        if any(about):  # a plain .txt article has none: its header stays as it was
            yield Static(Content(display_line("  ·  ".join(a for a in about if a))), id="reader-meta")
        if self.citation is not None and self.citation.also_in:
            yield Static(Content(display_line(f"Also in: {copies(self.citation.also_in)}")), id="reader-copies")
        yield Static(Content(where), id="reader-source")
        span = (self.citation.start, self.citation.end) if self.citation is not None else None
        c = self.citation
        phrase = (c.answer_start, c.answer_end) if c is not None and c.answer_start is not None \
            and c.answer_end is not None else None
        yield ArticleView(self.article, span, phrase)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = display_line(self.article.source)
        self.query_one(ArticleView).focus()


class ArticlesScreen(Screen[None]):
    """Every indexed article by title; pick one to read it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "app.pop_screen", "Back")]

    def __init__(self, articles: list[Article]) -> None:
        super().__init__()
        self.articles = articles

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Content(f"{len(self.articles)} articles · Enter or click to read one"), id="articles-note")
        yield OptionList(
            *(
                Option(Content.assemble((display_line(a.title), "bold"), "\n",
                                        (display_line(" · ".join(x for x in (published(a.outlet, a.date), a.source)
                                                                  if x)), "$text-muted")), id=str(n))
                for n, a in enumerate(self.articles)
            ),
            id="articles",
        )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Articles"
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _open(self, event: OptionList.OptionSelected) -> None:
        self.app.push_screen(ReaderScreen(self.articles[event.option_index]))


class AssistantApp(App[None]):
    """Chat with the articles: every answer is quoted from them and can be opened in the reader."""

    CSS_PATH = "app.tcss"
    TITLE = "Assistant"
    AUTO_FOCUS = "#question"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Keys"),
        Binding("question_mark", "help", "Keys", show=False),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+l", "clear", "Clear"),
        Binding("ctrl+y", "copy", "Copy"),
        Binding("ctrl+o", "open_source", "Source"),
        Binding("f2", "articles", "Articles"),
        Binding("f3", "set_filter", "Filter"),
        Binding("f4", "clear_filter", "Clear filter"),
        Binding("ctrl+t", "toggle_theme", "Theme"),
    ]

    def __init__(
        self,
        assistant: Assistant | None = None,
        *,
        corpus: Path | None = None,
        index: Path | None = None,
        history: History | None = None,
        quit_at_once: bool = False,
        on_quit: Callable[[int], None] | None = None,
        filter: Filter | None = None,
        settings: Settings | None = None,
    ) -> None:
        super().__init__()
        self.quit_at_once = quit_at_once  # set by run(): Ctrl+Q ends the process itself (see action_quit)
        self.on_quit = on_quit  # told the exit status once the terminal is restored (quick_exit.run_in_child)
        self.filter = filter or Filter()  # every question is asked under it; the filter bar shows it
        self.assistant = assistant if assistant is not None else Assistant(corpus=corpus, index=index,
                                                                           settings=settings)
        self.session: Session = self.assistant.session()
        self.history = history  # None: nothing is saved (--no-history)
        self.conversation_id = new_id()  # saved with its first answered turn
        self._threads = 0  # thread workers still computing (loading, answering): the exit does not wait for them
        self._threads_lock = threading.Lock()
        self.state = "loading"  # loading, ready, failed
        self.report: IndexReport | None = None
        self._waiting: deque[Turn] = deque()
        self._current: Turn | None = None
        self._metadata: bool | None = None  # whether the articles have dates or outlets, once loaded
        self._filter_bar = FilterBar(id="filter-bar")  # kept: the filter may change while the reader is open

    # ---- layout -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with ChatLog(id="chat"):
            yield Static(self._welcome(), id="welcome")
        yield self._filter_bar
        yield Static(Content("Loading the articles and the model…"), id="status", classes="loading")
        yield QuestionInput(placeholder="Ask a question about the articles, then press Enter", id="question")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = display_line(self.assistant.corpus.name)
        self._filter_bar.show_filter(self.filter)
        self._load()

    def _welcome(self) -> Content:
        count = f"the {self.report.articles} articles" if self.report else "the articles"
        return Content.assemble(
            ("Ask about ", "$text-muted"), (f"{count} in {display_line(self.assistant.corpus.name)}/", "bold"),
            ("\nEvery answer is quoted word for word from them, with its source; when they hold no answer, "
             "you are told so.\nF2 lists the articles; " + ("F3 searches only some dates or outlets; "
                                                            if self._has_metadata() else "")
             + "F1 shows the keys.", "$text-muted"),
        )

    def _has_metadata(self) -> bool:
        """Do the articles carry dates or outlets (so filtering by them means something)?"""
        if self._metadata is None and self.state == "ready":
            self._metadata = any(a.date or a.outlet for a in self.assistant.articles())
        return bool(self._metadata)

    def _status(self, text: str, kind: str) -> None:
        """Show one status line; error text carries paths and messages from outside, so it is made safe here."""
        status = self.query_one("#status", Static)
        status.update(Content(display_line(text)))
        status.set_classes(kind)

    # ---- loading ------------------------------------------------------------------------------------

    @property
    def threads_running(self) -> int:
        """Thread workers still computing (the load, a question): `run()` does not wait for them at exit."""
        return self._threads

    @contextlib.contextmanager
    def _computing(self) -> Any:
        with self._threads_lock:
            self._threads += 1
        try:
            yield
        finally:
            with self._threads_lock:
                self._threads -= 1

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        """Open the index and load the model off the UI thread; the window is already drawn."""
        with self._computing():
            try:
                report = self.assistant.open()
                # The model itself loads on the first encode; pay for it now, not on the first question.
                self.assistant.search("warm up", k=1)
            except Exception as exc:  # any failure is shown, never a traceback
                self._from_thread(self._load_failed, exc)
            else:
                self._from_thread(self._loaded, report)

    def _from_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        """Hand a worker's result to the UI thread, unless the worker was cancelled or the app closed."""
        if get_current_worker().is_cancelled:
            return
        with contextlib.suppress(RuntimeError):  # the app has already exited
            self.call_from_thread(callback, *args)

    def _loaded(self, report: IndexReport) -> None:
        self.state = "ready"
        self.report = report
        self.query_one("#welcome", Static).update(self._welcome())
        self.refresh_bindings()
        self._status_ready()
        for warning in report.skipped:
            self.notify(display_line(warning), title="Skipped a file", severity="warning")
        self.refresh_bindings()
        self._pump()

    def _load_failed(self, exc: Exception) -> None:
        self.state = "failed"
        message = self._explain(exc)
        self._status(f"Cannot open the articles: {message}", "error")
        while self._waiting:
            self._waiting.popleft().show_error(message)
        self.refresh_bindings()

    def _explain(self, exc: Exception) -> str:
        """A loading failure in words, with the command that fixes it where there is one."""
        command = ["assistant", "index"]
        if self.assistant.corpus != DEFAULT_CORPUS:
            command += ["--corpus", str(self.assistant.corpus)]
        if self.assistant.index_dir != default_index(self.assistant.corpus):
            command += ["--index", str(self.assistant.index_dir)]
        fix = f"run `{shlex.join(command)}`, then ask again."
        if isinstance(exc, IndexLockedError):
            return f"{exc}. Wait until it finishes, then ask again."
        if isinstance(exc, IndexStoreError):
            return f"{exc}. To rebuild the index, {fix}"
        if isinstance(exc, AssistantError):
            return str(exc)
        return f"the index could not be read ({type(exc).__name__}: {exc}). To rebuild it, {fix}"

    # ---- asking -------------------------------------------------------------------------------------

    @on(Input.Submitted, "#question")
    def _submitted(self, event: Input.Submitted) -> None:
        question = event.value
        if not question.strip():
            return
        box = self.query_one(QuestionInput)
        box.remember(question)
        box.value = ""
        self.query_one("#welcome").display = False
        waiting = "Waiting for the model to load…" if self.state == "loading" else "Searching the articles…"
        turn = Turn(question, waiting, self.filter)
        chat = self.query_one(ChatLog)
        chat.mount(turn)
        chat.follow()
        self._waiting.append(turn)
        self.refresh_bindings()
        if self.state == "failed":  # the user may have fixed the index meanwhile: try again
            self.state = "loading"
            self._status("Loading the articles and the model…", "loading")
            self._load()
        self._pump()

    def _pump(self) -> None:
        """Start the next queued question when the assistant is ready and nothing else runs."""
        if self.state != "ready" or self._current is not None or not self._waiting:
            return
        turn = self._waiting.popleft()
        turn.set_waiting("Searching the articles…")
        self._current = turn
        self._status("Answering… (Escape cancels)", "busy")
        self._ask(turn, self.session, self.conversation_id)

    @work(thread=True, exclusive=True, group="ask")
    def _ask(self, turn: Turn, session: Session, conversation: str) -> None:
        """Answer in a thread, and save the turn; a question that raises becomes an error in the chat, never
        a crash, and a history that cannot be written is said once the answer is shown."""
        worker = get_current_worker()
        with self._computing():
            try:
                answer = session.ask(turn.question, **turn.filter.arguments())
            except AssistantError as exc:
                self._from_thread(self._failed, turn, str(exc))
            except Exception as exc:
                self._from_thread(self._failed, turn, f"something went wrong ({type(exc).__name__}: {exc})")
            else:
                if worker.is_cancelled:  # cancelled: the conversation should not remember it either
                    session.forget(answer)
                    return
                unsaved = self._save(conversation, answer, turn.filter)
                self._from_thread(self._answered, turn, answer, unsaved)

    def _save(self, conversation: str, answer: Answer, flt: Filter) -> str | None:
        """Record one turn (in the worker's thread: the file may be slow or locked); why it failed, or None."""
        if self.history is None:
            return None
        try:
            self.history.add(conversation, answer, filters=flt.arguments(),
                             corpus=str(self.assistant.corpus.resolve()), front="chat")
        except HistoryError as exc:
            return str(exc)
        return None

    def _answered(self, turn: Turn, answer: Answer, unsaved: str | None = None) -> None:
        if turn is not self._current:
            return
        turn.show_answer(answer)
        show_reading(turn, answer)
        if unsaved:
            self.notify(display_line(unsaved), title="Not saved to the history", severity="warning")
        self._finished()

    def _failed(self, turn: Turn, message: str) -> None:
        if turn is not self._current:
            return
        turn.show_error(message)
        self._finished()

    def _finished(self) -> None:
        self._current = None
        self.refresh_bindings()
        self._status_ready()
        self._pump()

    def _status_ready(self) -> None:
        if self.report is not None:
            skipped = f" · {len(self.report.skipped)} files skipped" if self.report.skipped else ""
            self._status(f"Ready · {self.report.articles} articles{skipped}", "ready")

    # ---- actions ------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Chat actions only on the chat screen and only when they would do something, so the footer lists
        only keys that work where the focus is."""
        on_chat = self.screen is self.screen_stack[0]
        if action == "cancel":  # listed only while there is something to cancel
            return on_chat and (self._current is not None or bool(self._waiting))
        if action == "clear":
            return on_chat and bool(self.query(Turn))
        if action == "copy":
            return on_chat and self._last_answer() is not None
        if action == "open_source":
            last = self._last_answer()
            return on_chat and last is not None and bool(last.citations)
        if action == "articles":
            return self.state == "ready"
        if action == "set_filter":  # in the footer once the articles have dates or outlets to filter by
            return on_chat and (self.filter.active or self._has_metadata())
        if action == "clear_filter":
            return on_chat and self.filter.active
        return True

    def action_cancel(self) -> None:
        """Cancel the running question and any waiting ones; their late results are discarded."""
        self.workers.cancel_group(self, "ask")
        cancelled = [self._current] if self._current is not None else []
        cancelled += list(self._waiting)
        self._waiting.clear()
        self._current = None
        for turn in cancelled:
            turn.show_cancelled()
        self.refresh_bindings()
        if self.state == "ready":
            self._status_ready()
        self.notify("Cancelled", timeout=2)

    async def action_clear(self) -> None:
        """A fresh conversation: the chat and the session's memory of earlier turns both go (what was saved
        stays in the history, to reopen)."""
        await self._reset()
        self.query_one("#welcome").display = True
        self.query_one(QuestionInput).focus()

    async def _reset(self, session: Session | None = None, conversation: str | None = None) -> None:
        """Stop what runs, empty the chat, and continue with `session` (default: a new, empty one)."""
        self.workers.cancel_group(self, "ask")
        self._waiting.clear()
        self._current = None
        self.session.clear()
        self.session = session if session is not None else self.assistant.session()
        self.conversation_id = conversation or new_id()
        await self.query(Turn).remove()
        self.refresh_bindings()
        if self.state == "ready":
            self._status_ready()

    # ---- saved conversations ------------------------------------------------------------------------

    def _to_chat(self) -> None:
        """Close the screens over the chat (a palette command may come from the reader)."""
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def _need_history(self) -> History | None:
        if self.history is None:
            self.notify("The history is off (--no-history): nothing is saved.", severity="warning")
        return self.history

    def action_past(self) -> None:
        """List the saved conversations; the one picked is reopened."""
        history = self._need_history()
        if history is not None:
            self._to_chat()
            self.push_screen(PastScreen(history), self._picked)

    def action_search_past(self) -> None:
        history = self._need_history()
        if history is not None:
            self._to_chat()
            self.push_screen(SearchScreen(history), self._picked)

    def _picked(self, conversation: str | None) -> None:
        if conversation is not None:
            self.call_later(self.open_conversation, conversation)

    async def open_conversation(self, conversation: str) -> None:
        """Show a saved conversation in the chat; follow-ups continue from its last turn."""
        if self.history is None:
            return
        try:
            saved = self.history.turns(conversation)
            key = self.history.resolve(conversation)
        except HistoryError as exc:
            self.notify(display_line(str(exc)), severity="error")
            return
        self._to_chat()
        await self._reset(self.assistant.session([t.answer for t in saved]), key)
        self.query_one("#welcome").display = not saved
        chat = self.query_one(ChatLog)
        box = self.query_one(QuestionInput)
        for item in saved:
            turn = Turn(item.answer.question, "")
            await chat.mount(turn)
            turn.show_answer(item.answer)
            show_reading(turn, item.answer)
            box.remember(item.answer.question)
        chat.follow()
        self.refresh_bindings()
        box.focus()
        self.notify(f"Reopened a conversation of {len(saved)} questions; follow-ups continue from it.")

    def _exportable(self) -> tuple[Conversation, list[SavedTurn]] | None:
        """The conversation on screen with its turns: from the history when saved, else as answered here."""
        if self.history is not None:
            with contextlib.suppress(HistoryError):
                saved = self.history.turns(self.conversation_id)
                if saved:
                    return self.history.conversation(self.conversation_id), saved
        answers = list(self.session.turns)
        if not answers:
            return None
        now = time.time()
        corpus = str(self.assistant.corpus.resolve())
        return (Conversation(self.conversation_id, now, now, answers[0].question, len(answers), corpus, "chat"),
                [SavedTurn(self.conversation_id, n, now, a) for n, a in enumerate(answers, start=1)])

    def action_export(self) -> None:
        """Write the conversation to a Markdown file (the path is asked, with a default in this folder)."""
        self._to_chat()
        found = self._exportable()
        if found is None:
            self.notify("Nothing to export yet: ask a question first.", severity="warning")
            return
        conversation, turns = found

        def write(path: Path | None) -> None:
            if path is None:
                return
            try:
                path.write_text(to_markdown(conversation, turns), encoding="utf-8")
            except OSError as exc:
                self.notify(f"Cannot write {display_line(str(path))}: {exc.strerror or exc}", severity="error")
                return
            self.notify(f"Exported {len(turns)} questions to {display_line(str(path))}")

        self.push_screen(ExportScreen(Path.cwd() / f"assistant-conversation-{conversation.id}.md"), write)

    async def action_new_conversation(self) -> None:
        self._to_chat()
        await self.action_clear()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette (Ctrl+P): the chat's own commands, then Textual's (theme, quit, ...)."""
        yield SystemCommand("New conversation", "Clear the chat and start afresh (the last one stays saved)",
                            self.action_new_conversation)
        yield SystemCommand("Open a past conversation", "Reopen a saved conversation and continue it",
                            self.action_past)
        yield SystemCommand("Search past conversations", "Find saved questions, answers and quotes",
                            self.action_search_past)
        yield SystemCommand("Export this conversation", "Write it to Markdown with every quote and citation",
                            self.action_export)
        yield SystemCommand("Browse the articles", "List every indexed article and read one", self.action_articles)
        yield SystemCommand("Set a filter", "Search only articles of some dates or outlets (F3)",
                            self.action_set_filter)
        if self.filter.active:
            yield SystemCommand("Clear the filter", f"Search all articles, not only {self.filter.describe()} (F4)",
                                self.action_clear_filter)
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        yield SystemCommand("Keys", "Show the keys of the chat", self.action_help)

    def _last_answer(self) -> Answer | None:
        answers = [t.answer for t in self.query(Turn) if t.answer is not None]
        return answers[-1] if answers else None

    def action_copy(self) -> None:
        answer = self._last_answer()
        if answer is None:
            self.notify("No answer to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(plain_answer(answer))
        self.notify("Copied the last answer and its sources.")

    def action_open_source(self) -> None:
        answer = self._last_answer()
        if answer is None or not answer.citations:
            self.notify("The last answer has no source to open.", severity="warning")
            return
        self._read(answer.citations[0])

    @on(CitationLink.Opened)
    def _citation_opened(self, event: CitationLink.Opened) -> None:
        self._read(event.citation)

    def _read(self, citation: Citation) -> None:
        try:
            article = self.assistant.article(citation.source)
        except KeyError:
            self.notify(f"{display_line(citation.source)} is no longer in the index.", severity="error")
            return
        self.push_screen(ReaderScreen(article, citation))

    def action_articles(self) -> None:
        if self.state != "ready":
            self.notify("The articles are still loading." if self.state == "loading"
                        else "The articles could not be opened.", severity="warning")
            return
        self.push_screen(ArticlesScreen(self.assistant.articles()))

    async def action_quit(self) -> None:
        """Quit now. With `quit_at_once` (a real terminal, from `run()`), the terminal is restored and the
        process ends here: Textual's orderly exit queues behind everything else the event loop has to do, and
        while the model loads or answers in a thread on a busy machine that took seconds. Nothing is lost:
        every saved turn was committed when it was answered."""
        if self.quit_at_once and self._driver is not None:
            # The driver's input thread polls every 0.1 s (much longer on a loaded machine); restoring the
            # terminal need not wait for it to notice, it ends with the process.
            self._driver._key_thread = None  # type: ignore[attr-defined]
            self._driver.stop_application_mode()
            self._driver.close()
            sys.stdout.flush()
            sys.stderr.flush()
            if self.on_quit is not None:
                self.on_quit(self.return_code or 0)
            os._exit(self.return_code or 0)
        self.exit()

    def action_set_filter(self) -> None:
        """Open the filter dialog; what it returns becomes the filter of the next questions."""
        def chosen(flt: Filter | None) -> None:
            if flt is not None:
                self.apply_filter(flt)

        self.push_screen(FilterScreen(self.filter), chosen)

    def action_clear_filter(self) -> None:
        """Search all articles again."""
        self.apply_filter(Filter())

    def apply_filter(self, flt: Filter | None = None, *, since: str | None = None, until: str | None = None,
                     sources: str | list[str] | None = None) -> bool:
        """Set the filter (a Filter, or its parts as typed); False, with a notice, if a date is not one."""
        if flt is None:
            try:
                flt = parse_filter(since, until, sources)
            except FilterError as exc:
                self.notify(display_line(str(exc)), title="Filter not changed", severity="error")
                return False
        self.filter = flt
        self._filter_bar.show_filter(flt)
        self.refresh_bindings()
        self.notify(f"Searching {display_line(flt.describe())}" if flt.active else "Searching all articles",
                    timeout=3)
        return True

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"


def show_reading(turn: Turn, answer: Answer) -> None:
    """Under a follow-up, small and muted: the standalone question it was read as (what was searched)."""
    if answer.standalone_query and not turn.query(".read-as"):
        line = Content.assemble(("read as: ", "$text-muted"), (display_line(answer.standalone_query), "$text-muted"))
        turn.mount(Static(line, classes="read-as"), after=turn.query_one(".question"))


def run(corpus: Path, index: Path | None = None, history: bool = True, detach: bool = False,
        filter: Filter | None = None, settings: Settings | None = None) -> int:
    """Entry point of `assistant` / `assistant chat`: run the app until the user quits.

    `index` None: the corpus's own index (`config.default_index`), so the shipped one is never overwritten.
    On quit the process ends at once: a question still being answered, or the model still loading, is not
    waited for (its thread cannot be interrupted, and the interpreter would join it); every saved turn is
    already committed, so nothing is lost. `detach` (the `assistant` program in a terminal): the app runs
    in a forked child and the shell gets its prompt back before the model's memory is freed
    (`quick_exit`). `filter`: the filter questions start under (`assistant --since 2022-06`). `settings`:
    those of `--backend milvus` (None: the defaults)."""
    if detach:
        from .quick_exit import run_in_child

        return run_in_child(lambda done: _run(corpus, index, history, done, filter, settings))
    return _run(corpus, index, history, None, filter, settings)


def _run(corpus: Path, index: Path | None, history: bool, done: Callable[[int], None] | None,
         filter: Filter | None = None, settings: Settings | None = None) -> int:
    sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
    app = AssistantApp(corpus=corpus, index=index, history=History() if history else None, quit_at_once=True,
                       on_quit=done, filter=filter, settings=settings)
    loop = asyncio.new_event_loop()
    app.run(loop=loop)
    code = app.return_code or 0
    if app.threads_running:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    loop.close()
    return code
