"""The real CLI on the news fixture corpus: filters, "[1] Title, Outlet, date" lines, copies and JSON fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import NEWS, assert_citation_contract

from assistant.fronts import cli
from assistant.index.encoder import SentenceEncoder


@pytest.fixture
def run(encoder: SentenceEncoder, news_index: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Any:
    """cli.main(command, --corpus news, --index news index, args) with the session's model."""
    monkeypatch.setattr("assistant.core.SentenceEncoder", lambda *args, **kwargs: encoder)

    def call(command: str, *args: str) -> tuple[int, str, str]:
        status = cli.main([command, "--corpus", str(NEWS), "--index", str(news_index), *args])
        out = capsys.readouterr()
        return status, out.out, out.err

    return call


def test_ask_prints_title_outlet_and_date(run: Any) -> None:
    status, out, err = run("ask", "-k", "2", "Who won the Democratic primary for mayor of Fenwick?")
    assert status == 0, err
    assert ("[1] Reyes wins Fenwick mayoral primary, The Daily Ledger, 2022-06-14 — "
            "pages/dailyledger-reyes-primary.html (chars ") in out
    assert "Best passages:" in out and "Reyes wins Fenwick mayoral primary, The Daily Ledger, 2022-06-14 — " in out


def test_ask_with_filters_says_what_it_searched(run: Any) -> None:
    status, out, _ = run("ask", "-k", "0", "--since", "2023-01", "Who is the mayor of Fenwick?")
    assert status == 0 and "Mayor Tomas Reyes" in out
    assert "[1] Mayor Reyes reopens rebuilt Millrace Bridge, Metro Dispatch, 2023-02-20 — " in out
    assert "Searched only the articles published since 2023-01-01." in out
    status, out, _ = run("ask", "-k", "0", "--until", "2021-12", "Who is the mayor of Fenwick?")
    assert status == 0 and "Mayor Ellen Park" in out
    status, out, _ = run("ask", "-k", "0", "--source", "cnn.com", "--source", "bbc.co.uk", "Who is the mayor?")
    assert status == 1
    assert out.startswith("No answer in the articles: no article is from cnn.com or bbc.co.uk (no outlet, site or "
                          "file matches; the outlets are Coastal Wire, ")


def test_ask_shows_copies_and_disagreeing_dates(run: Any) -> None:
    status, out, _ = run("ask", "-k", "0", "How many homes lost power in the coastal storm?")
    assert status == 0
    assert "[1] Coastal storm leaves 40,000 homes without power, Northbay Courier, 2022-06-15 — " in out
    assert "    also in: Valley Gazette, 2022-06-16 (pages/valleygazette-storm.html)" in out
    status, out, _ = run("ask", "-k", "0", "How many firefighters were injured in the Dunmore Street warehouse fire?")
    assert status == 0
    lines = out.splitlines()
    assert any(line.startswith("[") and ", Metro Dispatch, 2022-06-12 (newest) — feeds/metro-dispatch.atom#md-301"
               in line for line in lines), out
    assert any(", Harbor Times, 2022-06-10 — feeds/harbor-times.rss#ht-201" in line for line in lines), out
    assert "are from articles of different dates and disagree; both are quoted." in out
    assert lines[0] == "Answer: five [1]; Three [2]"  # each disagreeing quote's phrase, none picked silently


def test_ask_json_has_the_new_fields_and_keeps_the_old(run: Any) -> None:
    status, out, _ = run("ask", "--json", "--source", "Northbay Courier", "How many homes lost power in the storm?")
    assert status == 0
    data = json.loads(out)
    assert data["filter"] == {"since": None, "until": None, "sources": ["Northbay Courier"]}
    citation = data["citations"][0]
    assert {"source", "title", "quote", "start", "end", "score"} <= set(citation)
    assert citation["source"] == "pages/northbay-storm.html" and citation["outlet"] == "Northbay Courier"
    assert citation["date"] == "2022-06-15" and citation["author"] == "Priya Handley"
    assert citation["url"] == "https://www.northbaycourier.example/news/coastal-storm-power-outages"
    assert citation["also_in"] == [{"source": "pages/valleygazette-storm.html", "title": "Thousands in the dark "
                                    "after overnight storm", "outlet": "Valley Gazette", "date": "2022-06-16"}]
    assert citation["newest"] is False and citation["disagrees"] is False
    assert_citation_contract(data, NEWS)


def test_search_json_hits_carry_metadata_and_record_addresses(run: Any) -> None:
    status, out, _ = run("search", "--json", "-k", "3", "--source", "exports/*.jsonl", "new school superintendent")
    assert status == 0
    hits = json.loads(out)
    assert hits[0]["source"] == "exports/coastal-wire.jsonl#w-102"
    assert hits[0]["outlet"] == "Coastal Wire" and hits[0]["date"] == "2022-06-02"
    assert all(h["source"].startswith("exports/coastal-wire.jsonl#") for h in hits)
    assert {"dense_score", "bm25_score", "also_in", "url", "author"} <= set(hits[0])


def test_search_text_names_outlet_date_and_copies(run: Any) -> None:
    status, out, _ = run("search", "-k", "2", "storm power outages")
    assert status == 0
    assert "    Coastal storm leaves 40,000 homes without power, Northbay Courier, 2022-06-15" in out
    assert "    also in: Valley Gazette, 2022-06-16 (pages/valleygazette-storm.html)" in out
    status, out, _ = run("search", "--since", "2031-01-01", "storm")
    assert status == 0 and out.strip() == "No passage matches among the articles published since 2031-01-01."


def test_help_names_the_formats_and_the_filters() -> None:
    out = subprocess.run([sys.executable, "-m", "assistant", "ask", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for flag in ("--since DATE", "--until DATE", "--source NAME", ".html/.htm", ".jsonl", ".rss"):
        assert flag in out, flag


@pytest.mark.slow
def test_index_a_news_folder_from_scratch(encoder: SentenceEncoder, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`assistant index --corpus ~/news` then `ask`, as in the README (a fresh index, the real model)."""
    monkeypatch.setattr("assistant.core.SentenceEncoder", lambda *args, **kwargs: encoder)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cli.main(["index", "--corpus", str(NEWS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("14 articles, ") and "reused 0 unchanged articles" in out
    assert "1 story is in more than one copy (2 articles); each is shown once" in out
    assert cli.main(["ask", "--corpus", str(NEWS), "-k", "0", "--since", "2022-06-01", "--until", "2022-06-30",
                     "--source", "Harbor Times", "How much will ferry fares rise?"]) == 0
    out = capsys.readouterr().out
    assert "8 percent" in out and "Harbor Times, 2022-06-18" in out
