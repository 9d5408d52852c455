"""Saved conversations: every turn (question, how it was read, answer, citations, filters, time) in SQLite.

The file is `config.default_history()` (the user's data folder, or $ASSISTANT_HISTORY). Each turn is
written in one transaction on a WAL journal, so a crash or a kill in the middle of a write leaves the
file readable with every turn committed before it. Answers are stored as `Answer.to_dict()` JSON, so
fields that other parts add to citations are kept and read back; questions, answers and quotes are
also in an FTS5 table for search.

The chat UI, the CLI, the HTTP and the MCP servers all write through `History`; deleting the file (or
`assistant history clear`) forgets everything.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import default_history
from .errors import HistoryError
from .types import Answer

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 5000  # another process writing the same file: wait this long for its lock
_WORD = re.compile(r"\w+", re.UNICODE)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    started REAL NOT NULL,
    updated REAL NOT NULL,
    title TEXT NOT NULL,
    corpus TEXT,
    front TEXT
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY,
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    asked REAL NOT NULL,
    question TEXT NOT NULL,
    standalone_query TEXT,
    found INTEGER NOT NULL,
    answer_json TEXT NOT NULL,
    filters_json TEXT NOT NULL DEFAULT '{}',
    UNIQUE (conversation, position)
);
CREATE INDEX IF NOT EXISTS conversations_by_time ON conversations (updated);
CREATE VIRTUAL TABLE IF NOT EXISTS turns_text USING fts5(
    question, answer, quotes, tokenize = 'unicode61 remove_diacritics 2'
);
"""


@dataclass(frozen=True)
class Conversation:
    """One saved conversation: its id, when it started and was last added to, its first question."""

    id: str
    started: float  # Unix time
    updated: float
    title: str
    turns: int
    corpus: str | None = None
    front: str | None = None  # chat, cli, http, mcp: where it was asked


@dataclass(frozen=True)
class SavedTurn:
    """One question of a conversation and its answer, as they were given."""

    conversation: str
    position: int  # 1, 2, ... within the conversation
    asked: float
    answer: Answer
    filters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    """A turn that matches a search, with the matching words marked in a snippet."""

    conversation: str
    position: int
    asked: float
    question: str
    snippet: str


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def fts_query(text: str) -> str:
    """Free text as an FTS5 query: every word must occur (quoted, so no word is taken as syntax)."""
    return " ".join(f'"{w}"' for w in _WORD.findall(text))


class History:
    """The saved conversations in one SQLite file; safe to share between threads and processes."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_history()
        self._ready = False
        self._lock = threading.Lock()

    # ---- the file -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection for one operation; with `write`, inside one IMMEDIATE transaction."""
        try:
            if write:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            elif not self.path.exists():
                raise FileNotFoundError(self.path)
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except FileNotFoundError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot open the history at {self.path}: {exc}") from exc
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")  # a deleted question is overwritten, not left in free pages
            self._prepare(conn)
            if write:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            else:
                yield conn
        except sqlite3.Error as exc:
            raise HistoryError(f"the history at {self.path} cannot be used ({exc}); "
                               f"delete the file to start afresh") from exc
        finally:
            conn.close()

    def _prepare(self, conn: sqlite3.Connection) -> None:
        """Create the tables on first use; refuse a file written by a newer version."""
        with self._lock:
            if self._ready:
                return
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise HistoryError(f"the history at {self.path} was written by a newer version of assistant "
                                   f"(schema {version}); upgrade to read it")
            if version < SCHEMA_VERSION:
                conn.execute("PRAGMA journal_mode = WAL")  # a crash mid-write never corrupts the file
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
                with contextlib.suppress(OSError):
                    self.path.chmod(0o600)  # questions can be private
            conn.execute("PRAGMA synchronous = NORMAL")  # in WAL mode: durable across a crash of the process
            self._ready = True

    # ---- writing ------------------------------------------------------------------------------------

    def add(self, conversation: str | None, answer: Answer, *, filters: Mapping[str, Any] | None = None,
            corpus: str | Path | None = None, front: str | None = None, asked: float | None = None) -> str:
        """Append one turn to `conversation` (a new one when None or not yet saved); its id."""
        conversation = conversation or new_id()
        asked = time.time() if asked is None else asked
        data = answer.to_dict()
        quotes = " ".join(c.quote for c in answer.citations)
        with self._connect(write=True) as conn:
            conn.execute(
                "INSERT INTO conversations (id, started, updated, title, corpus, front) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated",
                (conversation, asked, asked, answer.question, None if corpus is None else str(corpus), front),
            )
            position = conn.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM turns WHERE conversation = ?",
                                    (conversation,)).fetchone()[0]
            cursor = conn.execute(
                "INSERT INTO turns (conversation, position, asked, question, standalone_query, found, answer_json, "
                "filters_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation, position, asked, answer.question, answer.standalone_query, int(answer.found),
                 json.dumps(data, ensure_ascii=False), json.dumps(dict(filters or {}), ensure_ascii=False)),
            )
            conn.execute("INSERT INTO turns_text (rowid, question, answer, quotes) VALUES (?, ?, ?, ?)",
                         (cursor.lastrowid, answer.question, answer.text or answer.reason, quotes))
        return conversation

    def delete(self, conversation: str) -> None:
        """Forget one conversation and all its turns."""
        key = self.resolve(conversation)
        with self._connect(write=True) as conn:
            conn.execute("DELETE FROM turns_text WHERE rowid IN (SELECT id FROM turns WHERE conversation = ?)",
                         (key,))
            conn.execute("DELETE FROM turns WHERE conversation = ?", (key,))
            conn.execute("DELETE FROM conversations WHERE id = ?", (key,))
        self._scrub()

    def _scrub(self) -> None:
        """After a deletion: merge the search index (its old segments still hold the words) and copy the WAL
        into the file and empty it, so deleted text is gone from disk, not only from view."""
        with contextlib.suppress(FileNotFoundError), self._connect() as conn:
            conn.execute("INSERT INTO turns_text (turns_text) VALUES ('optimize')")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def clear(self) -> int:
        """Forget every conversation; how many there were."""
        try:
            with self._connect(write=True) as conn:
                count = int(conn.execute("SELECT COUNT(*) FROM conversations").fetchone()[0])
                conn.execute("DELETE FROM turns_text")
                conn.execute("DELETE FROM turns")
                conn.execute("DELETE FROM conversations")
        except FileNotFoundError:
            return 0
        self._scrub()
        with self._connect() as conn:
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    # ---- reading ------------------------------------------------------------------------------------

    def conversations(self, limit: int | None = None) -> list[Conversation]:
        """The saved conversations, most recently continued first."""
        sql = ("SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation = c.id) AS n FROM conversations c "
               "ORDER BY c.updated DESC, c.rowid DESC")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        try:
            with self._connect() as conn:
                return [_conversation(row) for row in conn.execute(sql)]
        except FileNotFoundError:
            return []

    def resolve(self, conversation: str) -> str:
        """The full id of `conversation`, which may be a unique prefix of it (as `history list` shows)."""
        prefix = conversation.strip().lower()
        if not prefix or not re.fullmatch(r"[0-9a-z_-]+", prefix):
            raise HistoryError(f"no saved conversation {conversation!r}")
        try:
            with self._connect() as conn:
                rows = conn.execute("SELECT id FROM conversations WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
                                    (prefix, prefix + "\U0010ffff")).fetchall()
        except FileNotFoundError:
            rows = []
        exact = [r["id"] for r in rows if r["id"] == prefix]
        if exact:
            return str(exact[0])
        if len(rows) > 1:
            raise HistoryError(f"{conversation!r} matches several conversations; give more of its id")
        if not rows:
            raise HistoryError(f"no saved conversation {conversation!r} (`assistant history list` shows them)")
        return str(rows[0]["id"])

    def conversation(self, conversation: str) -> Conversation:
        key = self.resolve(conversation)
        with self._connect() as conn:
            row = conn.execute("SELECT c.*, (SELECT COUNT(*) FROM turns t WHERE t.conversation = c.id) AS n "
                               "FROM conversations c WHERE id = ?", (key,)).fetchone()
        if row is None:
            raise HistoryError(f"no saved conversation {conversation!r}")
        return _conversation(row)

    def turns(self, conversation: str) -> list[SavedTurn]:
        """The turns of one conversation, in the order they were asked."""
        key = self.resolve(conversation)
        with self._connect() as conn:
            rows = conn.execute("SELECT * FROM turns WHERE conversation = ? ORDER BY position", (key,)).fetchall()
        return [SavedTurn(row["conversation"], row["position"], row["asked"],
                          Answer.from_dict(json.loads(row["answer_json"])), json.loads(row["filters_json"]))
                for row in rows]

    def search(self, text: str, limit: int = 50) -> list[Match]:
        """Turns whose question, answer or quotes hold every word of `text`, best matches first."""
        query = fts_query(text)
        if not query:
            return []
        try:
            with self._connect() as conn:
                rows = conn.execute(
                    "SELECT t.conversation, t.position, t.asked, t.question, "
                    "snippet(turns_text, -1, '[', ']', '…', 12) AS snippet FROM turns_text "
                    "JOIN turns t ON t.id = turns_text.rowid WHERE turns_text MATCH ? "
                    "ORDER BY rank, t.asked DESC LIMIT ?", (query, int(limit))).fetchall()
        except FileNotFoundError:
            return []
        return [Match(r["conversation"], r["position"], r["asked"], r["question"], r["snippet"]) for r in rows]

    def check(self) -> str:
        """SQLite's own integrity check of the file ("ok" when whole)."""
        with self._connect() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(row["id"], row["started"], row["updated"], row["title"], row["n"], row["corpus"],
                        row["front"])


# ---- Markdown -----------------------------------------------------------------------------------------

def when(timestamp: float) -> str:
    """A local date and time to the minute, as people read them."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def _describe_filters(filters: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {', '.join(map(str, v)) if isinstance(v, list | tuple) else v}"
                     for k, v in filters.items() if v not in (None, "", [], ()))


def to_markdown(conversation: Conversation, turns: Sequence[SavedTurn]) -> str:
    """One conversation as Markdown: every question, every quote verbatim with its citation (title,
    outlet, date, file and character span), or the reason there was no answer."""
    lines = [f"# {conversation.title}", "",
             f"Conversation `{conversation.id}`, started {when(conversation.started)}"
             + (f", on the articles in `{conversation.corpus}`" if conversation.corpus else "")
             + f". {len(turns)} question{'s' if len(turns) != 1 else ''}. Every answer is quoted word for word "
             "from the articles; each quote's source is the file and the character span it was cut from.", ""]
    for turn in turns:
        answer = turn.answer
        notes = [f"asked {when(turn.asked)}"]
        if answer.standalone_query:
            notes.append(f"read as “{answer.standalone_query}”")
        described = _describe_filters(turn.filters)
        if described:
            notes.append(f"filters: {described}")
        lines += [f"## {turn.position}. {answer.question}", "", f"*{'; '.join(notes)}*", ""]
        if not answer.found:
            lines += [f"**No answer in the articles:** {answer.reason.rstrip('.')}.", ""]
            continue
        for number, citation in enumerate(answer.citations, start=1):
            quoted = citation.quote.replace("\n", "\n> ")
            lines += [f"> “{quoted}” [{number}]", ">"]
        lines[-1] = ""
        for number, c in enumerate(answer.citations, start=1):
            where = ", ".join(x for x in (c.outlet, c.date) if x)
            lines.append(f"{number}. **{c.title}**{f' ({where})' if where else ''}, `{c.source}`, "
                         f"characters {c.start}–{c.end}{f', <{c.url}>' if c.url else ''}")
        lines += ["", f"Confidence {answer.confidence:.2f}.", ""]
    return "\n".join(lines).rstrip() + "\n"
