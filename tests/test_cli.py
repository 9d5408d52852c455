"""The real command line: in-process through cli.main (model loaded once) and as a real subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS, SHIPPED_INDEX, assert_citation_contract

from assistant.fronts import cli


def test_help_is_instant_and_imports_no_torch() -> None:
    code = ("import sys; from assistant.fronts.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'textual') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "ask" in out and "search" in out and "index" in out
    assert "HEAVY []" in out


@pytest.mark.parametrize("options", [[], ["-v"], ["--corpus", "ARTICLES"], ["--index", "INDEX"],
                                     ["--corpus", "ARTICLES", "--index", "INDEX", "-v"]])
def test_no_command_opens_the_chat_with_the_options(options: list[str], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`assistant --corpus DIR` is the chat on DIR, not "invalid choice"; its index is DIR's own."""
    from assistant.config import default_index
    from assistant.fronts.tui.app import AssistantApp

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    opened: list[AssistantApp] = []
    monkeypatch.setattr(AssistantApp, "run", lambda app, *args, **kwargs: opened.append(app))
    paths = {"ARTICLES": str(tmp_path / "articles"), "INDEX": str(tmp_path / "index")}
    assert cli.main([paths.get(option, option) for option in options]) == 0
    [app] = opened
    corpus = tmp_path / "articles" if "--corpus" in options else SEEDS
    assert app.assistant.corpus == corpus
    assert app.assistant.index_dir == (tmp_path / "index" if "--index" in options else default_index(corpus))


def test_the_chat_and_mcp_take_the_backend_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """`assistant chat --milvus-uri URI` opens the chat on that backend (nothing is contacted until it loads)."""
    from assistant.fronts.tui.app import AssistantApp

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    opened: list[AssistantApp] = []
    monkeypatch.setattr(AssistantApp, "run", lambda app, *args, **kwargs: opened.append(app))
    assert cli.main(["chat", "--milvus-uri", "http://127.0.0.1:19530", "--milvus-collection", "news"]) == 0
    [app] = opened
    backend = app.assistant.settings.backend
    assert (backend.kind, backend.milvus_uri, backend.milvus_collection) == ("milvus", "http://127.0.0.1:19530", "news")
    with pytest.raises(SystemExit):
        cli.main(["mcp", "--help"])
    assert "--milvus-uri" in capsys.readouterr().out


def test_a_word_that_is_no_command_is_still_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serach", "Tajik army"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["ask", "search", "index", "chat"])
def test_each_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--corpus" in out and "--index" in out


def test_ask_json_in_a_real_process(seeds_index: Path) -> None:
    """`python -m assistant ask --json` as a script would call it: the JSON contract, exit 0."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "--json", "--corpus", str(SEEDS), "--index", str(seeds_index),
         "How much has Russia committed to train and equip the Tajik army?"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["found"] is True and "$1.2 billion" in data["answer"]
    assert data["citations"][0]["source"] == "004_eef8e3a72f05d887.txt"
    assert data["citations"][0]["title"] == "Russia Disengaging With U.S On Afghanistan"
    assert_citation_contract(data, SEEDS)
    assert "Traceback" not in proc.stderr


def test_ask_text_prints_quote_and_source(run: Any, seeds_index: Path) -> None:
    status, out, _ = run("ask", "--index", str(seeds_index), "Who is the Afghan foreign minister?")
    assert status == 0
    assert "Amir Khan Muttaqi" in out
    title = "Russia Hosts Taliban at Regional Threat Talks and Affirms Support for Kabul"
    assert f"[1] {title} — 003_235230f9dad3526e.txt" in out


def test_out_of_corpus_says_no_answer_and_exits_1(run: Any, seeds_index: Path) -> None:
    status, out, _ = run("ask", "--index", str(seeds_index), "How many moons does Jupiter have?")
    assert status == 1
    assert out.startswith("No answer in the articles")
    status, out, _ = run("ask", "--json", "--index", str(seeds_index), "How many moons does Jupiter have?")
    assert status == 1 and json.loads(out)["found"] is False


def test_ask_json_keeps_injected_escapes_off_the_terminal(run: Any, seeds_index: Path) -> None:
    question = "\x1b[31mWho is the Afghan \x9b2Jforeign minister?\x1b]0;owned\x07"
    status, out, _ = run("ask", "--json", "--index", str(seeds_index), question)
    assert status == 0
    assert not any((ord(ch) < 32 and ch != "\n") or 0x7F <= ord(ch) < 0xA0 for ch in out)  # escaped, never raw
    data = json.loads(out)
    assert data["question"] == question  # the user's words, intact once decoded
    assert "Amir Khan Muttaqi" in data["answer"]


def test_search_json_shows_both_components(run: Any, seeds_index: Path) -> None:
    status, out, _ = run("search", "--json", "-k", "4", "--index", str(seeds_index), "Tajik army exercises")
    assert status == 0
    hits = json.loads(out)
    assert len(hits) == 4
    assert {"source", "title", "text", "start", "end", "score", "dense_score", "bm25_score"} <= set(hits[0])
    assert hits[0]["source"] == "004_eef8e3a72f05d887.txt"


def test_search_text_lists_scores(run: Any, seeds_index: Path) -> None:
    status, out, _ = run("search", "-k", "2", "--index", str(seeds_index), "Tajik army exercises")
    assert status == 0 and "cosine" in out and "bm25" in out and " 2. " in out


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_exit_2_without_traceback(run: Any, question: str) -> None:
    status, out, err = run("ask", question)
    assert status == 2 and "empty" in err and "Traceback" not in err and out == ""


def test_missing_corpus_is_a_clear_error(run: Any, tmp_path: Path) -> None:
    status, _, err = run("ask", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "i"), "Who?")
    assert status == 2 and "corpus folder not found" in err


def test_empty_corpus_is_a_clear_error(run: Any, tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    status, _, err = run("index", "--corpus", str(tmp_path / "articles"), "--index", str(tmp_path / "i"))
    assert status == 2 and "no readable" in err


def test_non_utf8_article_is_skipped_and_the_rest_indexed(run: Any, tmp_path: Path) -> None:
    corpus = tmp_path / "articles"
    corpus.mkdir()
    shutil.copy(SEEDS / "004_eef8e3a72f05d887.txt", corpus)
    (corpus / "latin1.txt").write_bytes("Café société\n\nUn article en français, déjà vu.\n".encode("latin-1"))
    index = tmp_path / "index"
    status, out, err = run("index", "--corpus", str(corpus), "--index", str(index))
    assert status == 0
    assert "latin1.txt" in err and "UTF-8" in err
    assert out.startswith("1 articles")
    status, out, _ = run("ask", "--corpus", str(corpus), "--index", str(index),
                         "How much has Russia committed to train and equip the Tajik army?")
    assert status == 0 and "$1.2 billion" in out


def test_missing_model_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_MODEL", str(tmp_path / "no-model"))
    status = cli.main(["ask", "--index", str(tmp_path / "i"), "Who is the Afghan foreign minister?"])
    err = capsys.readouterr().err
    assert status == 2 and "embedding model not found" in err and "ASSISTANT_MODEL" in err


def test_index_reports_reuse(run: Any, seeds_index: Path) -> None:
    status, out, _ = run("index", "--index", str(seeds_index))
    assert status == 0 and "5 articles" in out and "embedded 0 new texts" in out


def test_own_corpus_gets_its_own_index_in_the_cache(run: Any, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --index, a folder of one's own is indexed under $XDG_CACHE_HOME/assistant/indexes/,
    found there again next time, and the shipped embeddings/ are left alone."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    corpus = tmp_path / "articles"
    corpus.mkdir()
    shutil.copy(SEEDS / "004_eef8e3a72f05d887.txt", corpus)
    shipped = {path.name: path.stat().st_mtime_ns for path in SHIPPED_INDEX.iterdir()}
    status, out, _ = run("index", "--corpus", str(corpus))
    assert status == 0 and out.startswith("1 articles")
    [index] = (cache / "assistant" / "indexes").iterdir()
    assert index.name.startswith("articles-") and str(index) in out
    status, out, _ = run("index", "--corpus", str(corpus))
    assert status == 0 and str(index) in out and "embedded 0 new texts, reused 1" in out
    assert {path.name: path.stat().st_mtime_ns for path in SHIPPED_INDEX.iterdir()} == shipped
