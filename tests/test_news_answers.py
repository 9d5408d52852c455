"""Questions over the news fixture corpus with the real model: metadata, filters, copies and dates in answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import NEWS, assert_citation_contract
from test_news_ingest import FURNITURE

from assistant import Assistant
from assistant.answer import Question, candidates
from assistant.errors import FilterError
from assistant.index.encoder import SentenceEncoder

PRIMARY = "Who won the Democratic primary for mayor of Fenwick?"
MAYOR = "Who is the mayor of Fenwick?"
STORM = "How many homes lost power in the coastal storm?"
FIRE = "How many firefighters were injured in the Dunmore Street warehouse fire?"


def test_an_answer_from_a_web_page_carries_its_metadata(news: Assistant) -> None:
    answer = news.ask(PRIMARY)
    assert answer.found and "Tomas Reyes won the Democratic primary" in answer.text
    top = answer.citations[0]
    assert top.source == "pages/dailyledger-reyes-primary.html"
    assert (top.date, top.outlet, top.author) == ("2022-06-14", "The Daily Ledger", "Mara Quinlan")
    assert top.url == "https://dailyledger.example/politics/2022/06/14/reyes-wins-primary"
    assert_citation_contract(answer.to_dict(), news)
    assert_citation_contract(answer.to_dict(), NEWS)  # the same text when the page is read again from disk


def test_nothing_of_the_page_furniture_is_in_the_index_or_quoted(news: Assistant) -> None:
    chunks = news.loaded.retriever.chunks  # type: ignore[attr-defined]
    indexed = " ".join(c.text for c in chunks).lower()
    for phrase in FURNITURE:
        assert phrase.lower() not in indexed, phrase
    for question in ("What did harborfan77 say about the bridge?", "Which cookies does the site use?",
                     "Who commented that nobody votes any more?"):
        answer = news.ask(question)
        assert all(phrase.lower() not in answer.text.lower() for phrase in FURNITURE), answer.text


@pytest.mark.parametrize(("question", "source", "expected"), [
    ("Who is the new superintendent of Fenwick schools?", "exports/coastal-wire.jsonl#w-102", "Lena Okafor"),
    ("How much will ferry fares rise in July?", "feeds/harbor-times.rss#ht-202", "8 percent"),
    ("How much are harbor mooring fees rising?", "notes/council-briefing.md", "$40"),
    ("How much did the rebuilt Millrace Bridge cost?", "feeds/metro-dispatch.atom#md-302", "$9.2 million"),
])
def test_every_format_answers_and_quotes_its_own_text(news: Assistant, question: str, source: str,
                                                      expected: str) -> None:
    answer = news.ask(question)
    assert answer.found and expected in answer.text, (answer.text, answer.reason)
    assert answer.citations[0].source == source
    assert_citation_contract(answer.to_dict(), news)
    assert_citation_contract(answer.to_dict(), NEWS)


def test_filters_change_the_answer(news: Assistant) -> None:
    later = news.ask(MAYOR, since="2023-01")
    assert later.found and "Mayor Tomas Reyes" in later.text
    assert {c.source for c in later.citations} == {"feeds/metro-dispatch.atom#md-302"}
    earlier = news.ask(MAYOR, until="2021-12")
    assert earlier.found and "Mayor Ellen Park" in earlier.text
    assert {c.source for c in earlier.citations} == {"pages/dailyledger-park-budget.html"}
    by_outlet = news.ask("How much did the ferry terminal expansion cost?", sources=["Coastal Wire"])
    assert by_outlet.found and "$12.5 million" in by_outlet.text
    for answer in (later, earlier, by_outlet):
        assert_citation_contract(answer.to_dict(), news)


def test_search_ranks_only_inside_the_filter(news: Assistant) -> None:
    hits = news.search("fire injured firefighters", k=10, sources="metrodispatch.example")
    assert hits and {h.chunk.source.split("#")[0] for h in hits} == {"feeds/metro-dispatch.atom"}
    assert hits[0].chunk.source == "feeds/metro-dispatch.atom#md-301"
    june = news.search("ferry", k=50, since="2022-06", until="2022-06")
    assert june and all(h.date and h.date.startswith("2022-06") for h in june)
    everything = news.search("ferry", k=50)
    assert {h.chunk.source for h in june} < {h.chunk.source for h in everything}


def test_a_filter_no_article_matches_abstains_saying_why(news: Assistant) -> None:
    answer = news.ask(MAYOR, sources="cnn.com")
    assert not answer.found and answer.citations == ()
    assert answer.reason.startswith("no article is from cnn.com (no outlet, site or file matches; the outlets are ")
    undated = news.ask("When did the lighthouse museum reopen?", since="2022-01-01",
                       sources="exports/coastal-wire.jsonl#w-104")
    assert not undated.found
    assert undated.reason == ("no article is published since 2022-01-01, from exports/coastal-wire.jsonl#w-104; "
                              "1 of the 14 articles has no date, and an article without a date is outside any "
                              "date filter")
    assert news.ask("When did the lighthouse museum reopen?", sources="exports/coastal-wire.jsonl#w-104").found
    assert news.search("lighthouse", since="2030-01-01") == []
    with pytest.raises(FilterError):
        news.ask(MAYOR, since="2022-07", until="2022-06")


def test_a_syndicated_story_is_shown_once_with_its_copies(news: Assistant) -> None:
    answer = news.ask(STORM)
    assert answer.found and "40,000 homes" in answer.text
    assert {c.source for c in answer.citations} == {"pages/northbay-storm.html"}  # the earliest copy
    [copy] = answer.citations[0].also_in
    assert (copy.source, copy.outlet, copy.date) == ("pages/valleygazette-storm.html", "Valley Gazette", "2022-06-16")
    hits = news.search("storm power outages homes", k=10)
    sources = [h.chunk.source for h in hits]
    assert "pages/valleygazette-storm.html" not in sources and "pages/northbay-storm.html" in sources
    assert all(h.also_in for h in hits if h.chunk.source == "pages/northbay-storm.html")
    # asked of the later copy's outlet, that copy is shown, and lists the first
    gazette = news.ask(STORM, sources="Valley Gazette")
    assert gazette.found and {c.source for c in gazette.citations} == {"pages/valleygazette-storm.html"}
    assert [c.source for c in gazette.citations[0].also_in] == ["pages/northbay-storm.html"]
    data = answer.to_dict()["citations"][0]
    assert list(data["also_in"]) == [{"source": "pages/valleygazette-storm.html", "outlet": "Valley Gazette",
                                      "title": "Thousands in the dark after overnight storm", "date": "2022-06-16"}]


# A story of this project's own, long enough for several chunks, and a later re-post that adds a paragraph.
_BRIDGE = (
    "The Tolland river bridge closed to all traffic on Monday after inspectors found cracks in two of its steel "
    "girders. The county roads office said the crossing would stay shut while engineers assess the damage. "
    "Drivers heading north were sent along the Mill Lane detour, which adds about twelve minutes to the trip. "
    "The bridge, built in 1958, carries roughly nine thousand vehicles a day between Tolland and Carver. "
    "Local shop owners on Front Street said the closure had already cut the number of customers at lunchtime. "
    "School buses will use the detour for the rest of the week, the district said in a letter to parents. "
    "Inspectors had last examined the girders eighteen months ago and found only surface rust at that time. "
    "The county board plans to hold a public meeting about the bridge at the library on Thursday evening. "
    "Emergency crews placed concrete barriers at both ends of the span on Monday afternoon. "
    "Cyclists and pedestrians are also barred from the crossing until further notice, officials said. "
)
_UPDATE = (
    "On Wednesday the county board approved an emergency repair contract worth $3.4 million with Granite Span "
    "Builders. Work on the replacement girders is due to start next month and should take about ten weeks. "
    "The board chair said the county would seek state highway funds to cover most of the repair bill."
)


def test_a_copy_is_searched_for_the_paragraph_only_it_has(tmp_path: Path, encoder: SentenceEncoder) -> None:
    """A re-post is a copy of the story (shown once, the earliest), but the paragraph it adds is searched:
    a question only it answers is answered from it, with the first copy listed; the passages both share are
    still ranked once, from the first."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    front = "---\ntitle: {title}\ndate: {date}\nsource: {outlet}\n---\n"
    (corpus / "first.md").write_text(front.format(title="Tolland bridge closed after inspectors find cracks",
                                                  date="2024-03-04", outlet="Tolland Herald") + _BRIDGE + "\n")
    (corpus / "repost.md").write_text(front.format(title="Cracked Tolland bridge to get emergency repairs",
                                                   date="2024-03-06", outlet="Carver Courier")
                                      + _BRIDGE + "\n\n" + _UPDATE + "\n")
    news = Assistant(corpus=corpus, index=tmp_path / "index", encoder=encoder)
    news.open()
    assert news.loaded.collection.groups() == [("first.md", "repost.md")]
    contract = news.ask("How much is the emergency repair contract for the bridge worth?")
    assert contract.found and "$3.4 million" in contract.text
    assert {c.source for c in contract.citations} == {"repost.md"}
    assert [c.source for c in contract.citations[0].also_in] == ["first.md"]
    detour = news.ask("Which detour are drivers heading north sent along?")
    assert detour.found and "Mill Lane" in detour.text and {c.source for c in detour.citations} == {"first.md"}
    # the re-post's own chunk also holds shared sentences (before its added paragraph): each is quoted once
    own = {int(r) for r in news.loaded.collection.own_rows()["repost.md"]}
    held = [h.chunk for h in news.search("Who is barred from the crossing until further notice?", k=10)
            if h.chunk.id in own]
    assert held and "Cyclists and pedestrians" in held[0].text
    barred = news.ask("Who is barred from the crossing until further notice?")
    assert barred.found and barred.text.count("Cyclists and pedestrians are also barred") == 1
    question = "Who is barred from the crossing until further notice?"
    vector, tokens = news._query(question)
    hits = news.loaded.retriever.search(vector, tokens, 5, allowed=news.loaded.collection.allowed())
    assert {"first.md", "repost.md"} <= {h.chunk.source for h in hits if "Cyclists" in h.chunk.text}
    rows = candidates(Question(question, tokens, vector, news.loaded.evidence), hits, news.settings.answer)
    quoted = [news.loaded.articles[r.source].text[r.start : r.end] for r in rows]
    assert sum("Cyclists and pedestrians" in q for q in quoted) == 1  # both copies hold it: one candidate
    hits = news.search("bridge girders cracks inspectors detour", k=10)
    added = [sentence.strip() for sentence in _UPDATE.split(". ")]
    assert any(h.chunk.source == "first.md" for h in hits)
    assert all(any(a in h.chunk.text for a in added) for h in hits if h.chunk.source == "repost.md")


def test_quotes_of_different_dates_that_disagree_are_both_shown_newest_marked(news: Assistant) -> None:
    answer = news.ask(FIRE)
    assert answer.found
    by_source = {c.source: c for c in answer.citations}
    first, update = by_source["feeds/harbor-times.rss#ht-201"], by_source["feeds/metro-dispatch.atom#md-301"]
    assert first.quote.startswith("Three firefighters were injured")
    assert "five firefighters were injured" in update.quote
    assert first.disagrees and update.disagrees
    assert update.newest and not first.newest
    assert "two quoted articles disagree: Harbor Times (2022-06-10) and Metro Dispatch (2022-06-12, the newest)" \
        in answer.reason
    assert_citation_contract(answer.to_dict(), news)
    # Inside one outlet there is nothing to disagree with.
    alone = news.ask(FIRE, sources="Harbor Times")
    assert alone.found and not any(c.disagrees or c.newest for c in alone.citations)


def test_the_seed_path_has_no_metadata_and_no_copies(assistant: Assistant) -> None:
    answer = assistant.ask("Who is the Afghan foreign minister?")
    assert answer.found
    for citation in answer.citations:
        assert (citation.date, citation.outlet, citation.url, citation.also_in) == (None, None, None, ())
        assert not citation.newest and not citation.disagrees
    assert assistant.loaded.collection.allowed() is None  # no copies, no filter: every row, as before
