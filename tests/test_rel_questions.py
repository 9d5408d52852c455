"""Bad questions through Assistant.ask and the CLI's text output, and many threads asking at once.

The real model answers here: what matters is what a user would read."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS, assert_citation_contract

from assistant import Assistant, QuestionError
from assistant.fronts import cli
from assistant.index.encoder import SentenceEncoder

CLEAN = "Who is the Afghan foreign minister?"
EMPTY = {"empty": "", "whitespace": " \t\n  ", "only control characters": "\x00\x01\x7f\x1b[2J\u200b"}
ODD = {
    "single character": "a",
    "10,000 characters": ("How much has Russia committed to train and equip the Tajik army? " * 200)[:10_000],
    "only punctuation": "?!...;:—()",
    "only stop words": "what is the of and to it",
    "emoji": "🙂🚀🔥?",
    "right-to-left": "من هو وزير الخارجية الأفغاني؟",
    "mixed scripts": "Who is the Afghan وزير foreign 外交部长 minister?",
    "control characters and NUL": "Who\x00 is the\x07 Afghan\x08 foreign minister?\x1f",
    "ANSI escape": f"\x1b[31m{CLEAN}\x1b[0m\x1b]0;pwned\x07\x9b2J",
}
# Nothing a terminal would act on: no C0/C1 control characters besides newline.
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


@pytest.mark.parametrize("question", EMPTY.values(), ids=list(EMPTY))
def test_empty_question_is_a_clear_error(assistant: Assistant, question: str) -> None:
    with pytest.raises(QuestionError, match="empty"):
        assistant.ask(question)


@pytest.mark.parametrize("question", ODD.values(), ids=list(ODD))
def test_odd_question_answers_or_abstains(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert_citation_contract(answer.to_dict(), SEEDS)
    assert answer.found or answer.reason


@pytest.mark.parametrize("question", [ODD["ANSI escape"], ODD["control characters and NUL"]], ids=["ansi", "nul"])
def test_control_characters_do_not_change_the_answer(assistant: Assistant, question: str) -> None:
    dirty, clean = assistant.ask(question), assistant.ask(CLEAN)
    assert dirty.found and [(c.source, c.start, c.end) for c in dirty.citations] == [
        (c.source, c.start, c.end) for c in clean.citations
    ]


@pytest.fixture
def run_cli(
    encoder: SentenceEncoder, seeds_index: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    """`assistant ask QUESTION` in-process with the already loaded model: (exit status, stdout, stderr)."""
    monkeypatch.setattr("assistant.core.SentenceEncoder", lambda *args, **kwargs: encoder)

    def run(*args: str) -> tuple[int, str, str]:
        status = cli.main(["ask", "--corpus", str(SEEDS), "--index", str(seeds_index), *args])
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


@pytest.mark.parametrize("question", EMPTY.values(), ids=list(EMPTY))
def test_cli_empty_question_exits_2(run_cli: Any, question: str) -> None:
    status, out, err = run_cli(question)
    assert status == 2 and out == "" and "question is empty" in err


@pytest.mark.parametrize("question", ODD.values(), ids=list(ODD))
def test_cli_odd_question_never_crashes_nor_reaches_the_terminal_raw(run_cli: Any, question: str) -> None:
    status, out, err = run_cli(question)
    assert status in (0, 1), err
    assert out.strip() and "Traceback" not in err
    assert not RAW_CONTROL.search(out + err), repr(out + err)


@pytest.mark.slow
def test_cli_process_keeps_escape_sequences_off_the_terminal(seeds_index: Path, tmp_path: Path) -> None:
    """The real entry point, bytes as a terminal would get them: an injected ESC never comes out raw."""
    index = tmp_path / "index"
    shutil.copytree(seeds_index, index)
    cmd = [sys.executable, "-m", "assistant", "ask", "--corpus", str(SEEDS), "--index", str(index)]
    done = subprocess.run([*cmd, ODD["ANSI escape"]], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout + done.stderr and b"\xc2\x9b" not in done.stdout
    assert b"Afghan" in done.stdout
    empty = subprocess.run([*cmd, "  "], capture_output=True, timeout=300)
    assert empty.returncode == 2 and b"question is empty" in empty.stderr


QUESTIONS = [
    CLEAN,
    "How much has Russia committed to train and equip the Tajik army?",
    "Taliban mining contracts with Chinese companies",
    "What did the Taliban say about women?",
    "Who won the 1998 football world cup?",
    ODD["ANSI escape"],
    ODD["only stop words"],
    ODD["mixed scripts"],
]


@pytest.mark.slow
def test_many_threads_get_the_same_answers_as_one_at_a_time(encoder: SentenceEncoder, seeds_index: Path) -> None:
    """A cold assistant hit by 8 threads at once opens its index once and answers each as alone."""
    sequential = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder)
    expected = {q: sequential.ask(q) for q in QUESTIONS}
    shared = Assistant(corpus=SEEDS, index=seeds_index, encoder=encoder)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda q: (q, shared.ask(q)), QUESTIONS * 4))
    assert shared.open().encoded_texts == 0
    for question, answer in answers:
        want = expected[question]
        assert (answer.found, answer.text, answer.citations) == (want.found, want.text, want.citations)
        assert answer.confidence == pytest.approx(want.confidence, abs=1e-3)
