"""Many conversations at once, for fronts that serve several clients (HTTP, MCP, one-shot CLI asks).

A conversation is an id and an `Assistant.session()`; a follow-up names the id. Ids not in memory are
reopened from the history, so a follow-up still works after a restart. Every turn is recorded in the
history unless there is none (`--no-history`). Nothing about answering lives here: the session asks.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import HistoryError
from ..filters import Filter
from ..history import History, new_id
from ..types import Answer

if TYPE_CHECKING:
    from ..conversation import Session
    from ..core import Assistant

log = logging.getLogger("assistant")


def answer_json(answer: Answer, conversation: str | None, flt: Filter) -> dict[str, Any]:
    """An answer as every front prints or returns it (`ask --json`, `POST /ask`, the MCP `ask` tool):
    `Answer.to_dict()`, the conversation id when one is kept, and the filter only when one was set."""
    return (answer.to_dict() | ({"conversation": conversation} if conversation is not None else {})
            | ({"filter": flt.to_dict()} if flt.active else {}))


class UnknownConversation(HistoryError):
    """A follow-up names a conversation that is neither in memory nor in the history."""


class _Open:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.lock = threading.Lock()  # one turn at a time: a follow-up must see the turn before it


class Conversations:
    """Follow-up state by conversation id, least recently used dropped past `keep` (the history keeps all)."""

    def __init__(self, assistant: Assistant, history: History | None, front: str, keep: int = 1000) -> None:
        self.assistant = assistant
        self.history = history
        self.front = front
        self.keep = max(keep, 1)
        self._open: OrderedDict[str, _Open] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, conversation: str | None) -> tuple[str, _Open]:
        with self._lock:
            if conversation is None:
                key = new_id()
                found = self._open[key] = _Open(self.assistant.session())
            elif conversation in self._open:
                key, found = conversation, self._open[conversation]
            else:
                key, found = self._reopen(conversation)
            self._open.move_to_end(key)
            while len(self._open) > self.keep:
                self._open.popitem(last=False)
            return key, found

    def _reopen(self, conversation: str) -> tuple[str, _Open]:
        unknown = f"no conversation {conversation!r} to follow up (ask without one to start a new one)"
        if self.history is None:
            raise UnknownConversation(unknown)
        try:
            key = self.history.resolve(conversation)
        except HistoryError as exc:
            raise UnknownConversation(unknown) from exc
        if key in self._open:
            return key, self._open[key]
        turns = [t.answer for t in self.history.turns(key)]
        found = self._open[key] = _Open(self.assistant.session(turns))
        return key, found

    def ask(self, question: str, conversation: str | None = None,
            filters: Mapping[str, Any] | None = None) -> tuple[str, Answer]:
        """Answer `question` in `conversation` (a new one when None); the conversation's id and the answer.

        A turn the history cannot record is still answered (and logged): losing the answer would be worse."""
        key, opened = self._get(conversation)
        with opened.lock:
            answer = opened.session.ask(question, **(filters or {}))
            if self.history is not None:
                try:
                    self.history.add(key, answer, filters=filters, corpus=_corpus(self.assistant.corpus),
                                     front=self.front)
                except HistoryError as exc:
                    log.warning("the answer was not saved: %s", exc)
        return key, answer


def _corpus(path: Path) -> str:
    return str(path.resolve())
