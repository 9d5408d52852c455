"""Screens over the saved conversations: pick one to reopen, search them all, export one to Markdown.

Each screen only shows and picks; the app reopens or writes (it owns the chat and the session).
Saved text is untrusted like article text: always `Content(...)` after `display_line`.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from ...errors import HistoryError
from ...history import Conversation, History, Match, when
from .widgets import display_line


def _conversation_option(c: Conversation) -> Option:
    count = f"{c.turns} question{'s' if c.turns != 1 else ''}"
    return Option(Content.assemble((display_line(c.title), "bold"), "\n",
                                   (f"{when(c.updated)} · {count} · {c.id}", "$text-muted")), id=c.id)


class PastScreen(Screen[str | None]):
    """The saved conversations, latest first; Enter reopens one (its id is the result)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Back"),
        Binding("delete", "delete", "Delete"),
    ]

    def __init__(self, history: History) -> None:
        super().__init__()
        self.history = history
        self.conversations: list[Conversation] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="past-note")
        yield OptionList(id="past")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Past conversations"
        self._fill()
        self.query_one(OptionList).focus()

    def _fill(self) -> None:
        note = self.query_one("#past-note", Static)
        options = self.query_one(OptionList)
        options.clear_options()
        try:
            self.conversations = self.history.conversations()
        except HistoryError as exc:
            note.update(Content(display_line(str(exc))))
            return
        options.add_options([_conversation_option(c) for c in self.conversations])
        if self.conversations:
            options.highlighted = 0
        note.update(Content(f"{len(self.conversations)} saved conversations · Enter reopens one, Delete forgets it"
                            if self.conversations else "No saved conversations yet."))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "delete":
            return bool(self.conversations)
        return True

    @on(OptionList.OptionSelected, "#past")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def action_delete(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None:
            return
        picked = self.conversations[options.highlighted]
        try:
            self.history.delete(picked.id)
        except HistoryError as exc:
            self.notify(display_line(str(exc)), severity="error")
            return
        self.notify(f"Deleted “{display_line(picked.title)[:60]}”")
        self._fill()
        self.refresh_bindings()


class SearchScreen(Screen[str | None]):
    """Search every saved question, answer and quote (SQLite FTS5); Enter opens the conversation."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Back")]

    def __init__(self, history: History, text: str = "") -> None:
        super().__init__()
        self.history = history
        self.text = text
        self.matches: list[Match] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(self.text, placeholder="Words to find in past questions, answers and quotes", id="search-past")
        yield Static(id="search-note")
        yield OptionList(id="matches")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Search past conversations"
        self.query_one(Input).focus()
        if self.text:
            self.search(self.text)

    @on(Input.Changed, "#search-past")
    def _changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted, "#search-past")
    def _submitted(self) -> None:
        if self.matches:
            self.query_one(OptionList).focus()

    def search(self, text: str) -> None:
        """Show the turns that hold every word of `text` (FTS on a local file: milliseconds)."""
        note = self.query_one("#search-note", Static)
        options = self.query_one(OptionList)
        options.clear_options()
        self.matches = []
        if not text.strip():
            note.update(Content("Type to search; Enter goes to the results, Enter on one opens it."))
            return
        try:
            self.matches = self.history.search(text)
        except HistoryError as exc:
            note.update(Content(display_line(str(exc))))
            return
        options.add_options([
            Option(Content.assemble((display_line(m.question), "bold"), "\n",
                                    (display_line(" ".join(m.snippet.split())), "$text-muted"), "\n",
                                    (f"{when(m.asked)} · {m.conversation} #{m.position}", "$text-muted")))
            for m in self.matches
        ])
        if self.matches:
            options.highlighted = 0
        note.update(Content(f"{len(self.matches)} matching turns" if self.matches else "Nothing saved matches."))

    @on(OptionList.OptionSelected, "#matches")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.matches[event.option_index].conversation)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ExportScreen(ModalScreen[Path | None]):
    """Where to write the conversation as Markdown; Enter writes (the path is the result)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, default: Path) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="export"):
            yield Static(Content("Export this conversation to Markdown"), id="export-title")
            yield Input(str(self.default), id="export-path")
            yield Static(Content("Every quote with its citation (title, outlet, date, file, span). "
                                 "Enter writes the file, Escape cancels."), id="export-note")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted, "#export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(Path(event.value.strip()).expanduser())

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
