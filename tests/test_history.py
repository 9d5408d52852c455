"""Saved conversations: written, reopened after a restart, searched, exported, deleted; a kill during a
write leaves the file readable; the CLI's `history` commands on real answers from the real model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS

from assistant import Answer, Assistant, Citation
from assistant.errors import HistoryError
from assistant.fronts.conversations import Conversations, UnknownConversation
from assistant.history import History, fts_query, to_markdown
from assistant.index.encoder import SentenceEncoder
from assistant.types import Copy

RUSSIA = "How much has Russia committed to train and equip the Tajik army?"
FOLLOW_UP = "What about China?"


def a_citation(quote: str = "It committed $1.2 billion.", **extra: Any) -> Citation:
    return Citation("sub/a.txt", "A title", quote, 10, 10 + len(quote), 0.9, **extra)


def test_answers_round_trip_with_every_citation_field(tmp_path: Path) -> None:
    """What is read back equals what was saved, including fields other parts add to citations."""
    history = History(tmp_path / "h.sqlite3")
    citation = a_citation(date="2024-05-01", outlet="Reuters", url="https://example.org/a", author="A. Writer",
                          also_in=(Copy("b.txt", "Copy title", "AP", "2024-05-02"),), answer_start=23,
                          answer_end=35)
    first = Answer("How much?", True, citation.quote, (citation,), 0.9, "quoted from 1 article(s)")
    second = Answer("And China?", False, "", (), 0.1, "no sentence clearly answers this",
                    standalone_query="How much? China")
    key = history.add(None, first, corpus="/articles", front="cli", filters={"sources": ["Reuters"]})
    assert history.add(key, second) == key
    turns = History(tmp_path / "h.sqlite3").turns(key)  # a new instance: as after a restart
    assert [t.answer for t in turns] == [first, second]
    assert [t.position for t in turns] == [1, 2]
    assert turns[0].filters == {"sources": ["Reuters"]} and turns[1].filters == {}
    [conversation] = history.conversations()
    assert (conversation.id, conversation.title, conversation.turns) == (key, "How much?", 2)
    assert (conversation.corpus, conversation.front) == ("/articles", "cli")


def test_a_newer_answer_field_is_ignored_when_read() -> None:
    data = Answer("Q?", True, "x", (a_citation(),), 0.5, "r").to_dict()
    data["future_field"] = 1
    data["citations"][0]["future_field"] = 2
    assert Answer.from_dict(data) == Answer("Q?", True, "x", (a_citation(),), 0.5, "r")


def test_search_finds_questions_answers_and_quotes(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    one = history.add(None, Answer("Who leads Tajikistan?", True, "Emomali Rahmon leads it.",
                                   (a_citation(quote="Emomali Rahmon leads it."),), 0.8, "r"))
    two = history.add(None, Answer("Where are the mines?", True, "The copper mines are at Mes Aynak.",
                                   (a_citation(quote="The copper mines are at Mes Aynak."),), 0.8, "r"))
    assert [m.conversation for m in history.search("Rahmon")] == [one]
    assert [m.conversation for m in history.search("copper mines")] == [two]
    assert [m.conversation for m in history.search("tajikistan")] == [one]  # case and question text
    assert history.search("copper Rahmon") == []  # every word must occur
    assert "[Rahmon]" in history.search("rahmon")[0].snippet
    # FTS syntax in what a user types is taken as words, never as a query error
    assert history.search('mines" OR (NEAR') == []
    assert history.search("***") == [] and fts_query("***") == ""


def test_ids_resolve_by_unique_prefix(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    key = history.add(None, Answer("Q?", False, "", (), 0.0, "r"))
    assert history.resolve(key[:5]) == key
    with pytest.raises(HistoryError, match="no saved conversation"):
        history.resolve("zzzz")
    with pytest.raises(HistoryError):
        history.resolve("'; DROP TABLE turns; --")
    assert history.turns(key)


def test_delete_and_clear_forget_text_and_search(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    history = History(path)
    keep = history.add(None, Answer("Keep this question?", False, "", (), 0.0, "r"))
    gone = history.add(None, Answer("Forget the zebra question?", False, "", (), 0.0, "r"))
    history.delete(gone)
    assert [c.id for c in history.conversations()] == [keep]
    assert history.search("zebra") == []
    with pytest.raises(HistoryError):
        history.turns(gone)
    assert history.clear() == 1
    assert history.conversations() == [] and history.search("keep") == []
    assert b"zebra" not in path.read_bytes() and b"Keep this" not in path.read_bytes()


def test_export_has_every_quote_and_its_citation(tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    cited = a_citation(date="2024-05-01", outlet="Reuters")
    other = Citation("b.txt", "B title", "A second quote\nover two lines.", 5, 36, 0.7)
    key = history.add(None, Answer("How much?", True, f"{cited.quote} {other.quote}", (cited, other), 0.9, "r"))
    history.add(key, Answer("And China?", False, "", (), 0.1, "no sentence answers this.",
                            standalone_query="How much? China"))
    text = to_markdown(history.conversation(key), history.turns(key))
    assert text.startswith("# How much?\n")
    assert f"> “{cited.quote}” [1]" in text
    assert "> “A second quote\n> over two lines.” [2]" in text
    assert "1. **A title** (Reuters, 2024-05-01), `sub/a.txt`, characters 10–36" in text
    assert "2. **B title**, `b.txt`, characters 5–36" in text
    assert "read as “How much? China”" in text
    assert "**No answer in the articles:** no sentence answers this." in text


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    history = History(path)
    with pytest.raises(HistoryError, match="delete the file"):
        history.add(None, Answer("Q?", False, "", (), 0.0, "r"))
    with pytest.raises(HistoryError):
        history.conversations()


def test_a_missing_file_reads_as_empty_and_is_not_created(tmp_path: Path) -> None:
    history = History(tmp_path / "none" / "h.sqlite3")
    assert history.conversations() == [] and history.search("anything") == []
    assert not (tmp_path / "none").exists()


WRITER = """
import sys, time
from assistant.history import History
from assistant.types import Answer, Citation
history = History(sys.argv[1])
key = None
n = 0
while True:
    n += 1
    quote = f"Quote number {n} " + "with many words " * 200
    answer = Answer(f"Question {n}?", True, quote, (Citation("a.txt", "T", quote, 0, len(quote), 0.5),), 0.5, "r")
    key = history.add(key, answer)
    print(n, flush=True)
"""


@pytest.mark.slow
def test_a_kill_during_writes_leaves_every_committed_turn(tmp_path: Path) -> None:
    """SIGKILL a process that writes turns as fast as it can: the file passes SQLite's integrity check, and
    every turn reads back whole and in order, at least as many as the writer had reported committed."""
    path = tmp_path / "h.sqlite3"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        committed = 0
        deadline = time.monotonic() + 60
        while committed < 40 and time.monotonic() < deadline:
            committed = int(proc.stdout.readline())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert committed >= 40
    history = History(path)
    assert history.check() == "ok"
    [conversation] = history.conversations()
    turns = history.turns(conversation.id)
    assert len(turns) >= committed
    assert [t.position for t in turns] == list(range(1, len(turns) + 1))
    for turn in turns:
        assert turn.answer.question == f"Question {turn.position}?"
        assert turn.answer.citations[0].quote == turn.answer.text
    assert history.search(f"Question {len(turns)}")
    history.add(conversation.id, Answer("After the kill?", False, "", (), 0.0, "r"))  # and it takes more
    assert history.turns(conversation.id)[-1].position == len(turns) + 1


# ---- with the real model --------------------------------------------------------------------------------

def test_a_conversation_continues_after_a_restart(encoder: SentenceEncoder, seeds_index: Path,
                                                  tmp_path: Path) -> None:
    """A follow-up asked in a conversation reopened from the history (a new process, a new assistant) is
    read exactly as it would have been in the first one."""
    path = tmp_path / "h.sqlite3"
    first = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder)
    key, answer = Conversations(first, History(path), front="http").ask(RUSSIA)
    assert answer.found
    again = Conversations(Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder), History(path), front="http")
    same_key, follow_up = again.ask(FOLLOW_UP, key)
    assert same_key == key
    assert follow_up == first.ask(FOLLOW_UP, context=[answer])
    assert follow_up.standalone_query is not None and "China" in follow_up.standalone_query
    saved = History(path).turns(key)
    assert [t.answer for t in saved] == [answer, follow_up]
    with pytest.raises(UnknownConversation):
        again.ask(FOLLOW_UP, "nosuchid")
    with pytest.raises(UnknownConversation):
        Conversations(first, None, front="http").ask(FOLLOW_UP, key)




def test_history_commands(run: Any, seeds_index: Path, private_history: Path, tmp_path: Path) -> None:
    """ask saves, --conversation follows up, and history list/show/search/export/delete/clear read it."""
    status, out, _ = run("ask", "--json", "--index", str(seeds_index), RUSSIA)
    assert status == 0
    key = json.loads(out)["conversation"]
    status, out, _ = run("ask", "--json", "--index", str(seeds_index), "--conversation", key[:6], FOLLOW_UP)
    follow_up = json.loads(out)
    assert follow_up["conversation"] == key and "China" in follow_up["standalone_query"]
    status, out, _ = run("ask", "--json", "--no-history", "--index", str(seeds_index),
                         "Who is the Afghan foreign minister?")
    assert status == 0 and "conversation" not in json.loads(out)

    assert run("history", "path")[1].strip() == str(private_history)
    status, out, _ = run("history")
    assert status == 0 and key in out and "2 questions" in out and RUSSIA[:60] in out
    status, out, _ = run("history", "list", "--json")
    assert [c["id"] for c in json.loads(out)] == [key]  # the --no-history question was not saved

    status, out, _ = run("history", "show", key, "--json")
    shown = json.loads(out)
    assert [t["question"] for t in shown["turns"]] == [RUSSIA, FOLLOW_UP]
    assert "$1.2 billion" in shown["turns"][0]["answer"]
    status, out, _ = run("history", "show", key[:4])
    assert status == 0 and "$1.2 billion" in out and "004_eef8e3a72f05d887.txt" in out

    status, out, _ = run("history", "search", "billion")
    assert status == 0 and key in out and "[billion]" in out
    assert run("history", "search", "zebra")[0] == 1

    target = tmp_path / "out.md"
    status, _, err = run("history", "export", key, "-o", str(target))
    text = target.read_text(encoding="utf-8")
    assert status == 0 and str(target) in err
    citation = shown["turns"][0]["citations"][0]
    source_text = (SEEDS / citation["source"]).read_text(encoding="utf-8")
    assert source_text[citation["start"]:citation["end"]] == citation["quote"]
    assert f"“{citation['quote']}” [1]" in text
    assert f"`{citation['source']}`, characters {citation['start']}–{citation['end']}" in text

    status, _, err = run("history", "show", "nosuch")
    assert status == 2 and "no saved conversation" in err
    status, _, err = run("history", "clear")  # not a terminal: refuses without --yes
    assert status == 2 and "--yes" in err
    assert run("history", "delete", key)[0] == 0
    assert json.loads(run("history", "list", "--json")[1]) == []
    assert run("history", "clear", "--yes")[0] == 0
