"""Conversations: reading a follow-up question in the light of the turn before it.

A follow-up is rewritten into a question that stands on its own, and only for the retriever and the
answer selection; the user's words are what the Answer records. Two kinds are recognised:

- an ellipsis, "What about China?", "And Pakistan?" or "Pakistan?": too short to ask anything by itself
  ("Who is Arkady Dubnov?" is not: it asks who he is), it asks the previous question again of another
  subject, so the previous question is searched with its own names swapped for the new ones ("How much
  has committed to train and equip the army? China"), and only passages that mention the new subject can
  answer it;
- a reference, "What did he say about the Americans?": a pronoun points back, so the names of the
  previous question and of its answer's first quote are added to the search, where "he" may be found
  ("its" in "Does Moscow keep its base there?" belongs to Moscow; "there" still points back).

Anything else is a new question and is asked as it is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .filters import DateLike
from .index.lexical import STOP_WORDS, tokenize
from .types import Answer

if TYPE_CHECKING:
    from .core import Assistant

_ELLIPSIS = re.compile(r"^(and|but|also|what about|how about|and what about|then)\b", re.IGNORECASE)
_REFERENCE = re.compile(r"\b(he|she|it|they|them|his|her|hers|its|their|theirs|him|there)\b", re.IGNORECASE)
# A possessive after a name in the same question belongs to that name ("Does Moscow keep its biggest base
# in Tajikistan?"), as a possessive usually belongs to its clause's subject; "What did Lavrov say about it?"
# still points back.
_POSSESSIVE = frozenset({"his", "her", "its", "their"})
_WORD = re.compile(r"[\w’'-]+")
# "Who is Arkady Dubnov?" is a question by itself, though its only words are a name: a question word with
# more after it asks something ("Why?" or "Pakistan?" alone do not)
_ASKS = re.compile(r"^\s*(who|whom|whose|what|which|where|when|why|how)\s+\w", re.IGNORECASE)
MIN_STANDALONE_TERMS = 3  # fewer content words than this cannot ask anything by themselves


def names(text: str) -> list[str]:
    """Capitalised words that are not function words ("What", "And"): the names a text mentions."""
    return [w for w in _WORD.findall(text) if w[0].isupper() and w.lower() not in STOP_WORDS]


@dataclass(frozen=True)
class Reading:
    """How a question is searched: the text for retrieval, and whether the last quotes are left out."""

    query: str
    follow_up: bool
    skip_quoted: bool  # a follow-up asks for something new: repeating the last quote is no answer
    focus: tuple[str, ...] = ()  # names an answer's passage must mention (an ellipsis's new subject)


def read(question: str, previous: Answer | None) -> Reading:
    """The question as it is searched, given the previous turn (None at the start of a conversation)."""
    if previous is None:
        return Reading(question, False, False)
    terms = tokenize(question)
    new_names = names(question)
    if _points_back(question):
        context = names(previous.question)
        if previous.citations:
            context += names(previous.citations[0].quote)
        extra = [n for n in dict.fromkeys(context) if n not in new_names]
        return Reading(f"{question} {' '.join(extra)}".strip(), True, True)
    if len(terms) < MIN_STANDALONE_TERMS and (_ELLIPSIS.search(question) or (
            len(terms) <= len(new_names) and not _ASKS.search(question))):
        if new_names:
            old = set(names(previous.question))
            kept = [w for w in previous.question.split() if w.strip("?.,!;:\"'“”‘’()") not in old]
            return Reading(" ".join([*kept, *new_names]), True, True, tuple(new_names))
        return Reading(f"{previous.question} {question}", True, True)
    return Reading(question, False, False)


def _points_back(question: str) -> bool:
    """Does a pronoun of the question refer to something outside it (see _POSSESSIVE)? The first word is
    capitalised as a sentence's first word, so it is no name here ("Explain its role")."""
    return any(m.group(1).lower() not in _POSSESSIVE or not names(" ".join(_WORD.findall(question[: m.start()])[1:]))
               for m in _REFERENCE.finditer(question))


class Session:
    """One conversation: remembers its turns, so "What about China?" is read in context. Thread-safe."""

    def __init__(self, assistant: Assistant, turns: Sequence[Answer] = ()) -> None:
        self.assistant = assistant
        self._turns: list[Answer] = list(turns)
        self._lock = threading.Lock()

    @property
    def turns(self) -> Sequence[Answer]:
        """The answered turns so far, oldest first (a snapshot)."""
        with self._lock:
            return tuple(self._turns)

    def ask(self, question: str, *, since: DateLike = None, until: DateLike = None,
            sources: str | Iterable[str] | None = None) -> Answer:
        """Ask in the context of the earlier turns, inside a filter if one is given (see `Assistant.ask`).

        Without a filter the call is `ask(question, context=...)` exactly, as before filters existed."""
        filters: dict[str, Any] = {name: value for name, value in (("since", since), ("until", until),
                                                                     ("sources", sources)) if value}
        answer = self.assistant.ask(question, context=self.turns, **filters)
        with self._lock:
            self._turns.append(answer)
        return answer

    def forget(self, answer: Answer) -> None:
        """Drop a turn (a question the user cancelled: the conversation should not build on it)."""
        with self._lock:
            self._turns = [t for t in self._turns if t is not answer]

    def clear(self) -> None:
        with self._lock:
            self._turns.clear()
