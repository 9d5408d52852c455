"""News formats on the fixture corpus (tests/data/news): what each reader keeps, drops and reads as metadata."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import NEWS

from assistant.chunking import chunk_article
from assistant.config import ChunkSettings
from assistant.ingest import corpus_files, read_corpus, read_file
from assistant.ingest.dates import DateError, normalise_date
from assistant.types import Article

# Text that is on the pages but is not the article: navigation, banners, related links, comments, footers.
FURNITURE = [
    "We use cookies", "Accept all cookies", "Subscribe for $1 a week", "Weather Desk", "Tide warnings in effect",
    "Related stories", "failed inspection", "harborfan77", "Finally someone who will fix that bridge",
    "Nobody in this town bothers", "Sad to see her go", "Share on Facebook", "Privacy policy", "All rights reserved",
    "Leave a Reply", "Your email address", "Post navigation", "Ferry winter schedule extended", "Recent Posts",
    "Lighthouse keepers' cottage", "Proudly powered by WordPress", "What's your reaction", "Click to share",
    "Today's e-paper", "Classifieds", "More from the Courier", "Bayview Road repaving", "12 Quay Street",
    "This website uses cookies", "Most read", "County fair returns", "alderdad", "Power still out on Creek Lane",
    "Photo: Ledger Staff", "Supporters cheer", "may not be published, broadcast",
]


@pytest.fixture(scope="module")
def corpus() -> dict[str, Article]:
    articles, skipped = read_corpus(NEWS)
    assert skipped == []
    return {a.source: a for a in articles}


def test_every_format_of_the_folder_is_read(corpus: dict[str, Article]) -> None:
    assert [p.relative_to(NEWS).as_posix() for p in corpus_files(NEWS)] == [
        "exports/coastal-wire.jsonl", "feeds/harbor-times.rss", "feeds/metro-dispatch.atom",
        "notes/council-briefing.md", "pages/dailyledger-park-budget.html", "pages/dailyledger-reyes-primary.html",
        "pages/northbay-storm.html", "pages/valleygazette-storm.html",
    ]  # the README has no article suffix
    assert sorted(corpus) == [
        "exports/coastal-wire.jsonl#w-101", "exports/coastal-wire.jsonl#w-102", "exports/coastal-wire.jsonl#w-103",
        "exports/coastal-wire.jsonl#w-104", "feeds/harbor-times.rss#ht-201", "feeds/harbor-times.rss#ht-202",
        "feeds/harbor-times.rss#ht-203", "feeds/metro-dispatch.atom#md-301", "feeds/metro-dispatch.atom#md-302",
        "notes/council-briefing.md", "pages/dailyledger-park-budget.html", "pages/dailyledger-reyes-primary.html",
        "pages/northbay-storm.html", "pages/valleygazette-storm.html",
    ]


def test_no_navigation_comment_or_banner_text_is_ever_indexed(corpus: dict[str, Article]) -> None:
    for article in corpus.values():
        body = "\n".join(article.text[s:e] for s, e in article.body)
        chunks = " ".join(c.text for c in chunk_article(article, ChunkSettings(), 0))
        for phrase in FURNITURE:
            assert phrase.lower() not in body.lower(), (article.source, phrase)
            assert phrase.lower() not in chunks.lower(), (article.source, phrase)


def test_page_text_and_metadata(corpus: dict[str, Article]) -> None:
    page = corpus["pages/dailyledger-reyes-primary.html"]
    assert page.title == "Reyes wins Fenwick mayoral primary"
    assert (page.date, page.outlet, page.author) == ("2022-06-14", "The Daily Ledger", "Mara Quinlan")
    assert page.url == "https://dailyledger.example/politics/2022/06/14/reyes-wins-primary"
    body = [page.text[s:e] for s, e in page.body]
    assert body[0].startswith("Tomas Reyes won the Democratic primary for mayor of Fenwick on Tuesday")
    assert body[-1].startswith("In the general election on November 8")
    assert len(body) == 5  # the five paragraphs of the story, nothing else
    assert all("By Mara Quinlan" not in line for line in body)  # the byline is metadata
    budget = corpus["pages/dailyledger-park-budget.html"]
    assert (budget.date, budget.outlet, budget.author) == ("2021-03-09", "The Daily Ledger", "Owen Trask")
    assert budget.title == "Mayor Park proposes $48 million harbor budget"  # entity &#8211; and site name gone
    # A page whose meta names no date but whose markup has it as <meta name="date">.
    assert corpus["pages/northbay-storm.html"].date == "2022-06-15"
    assert corpus["pages/northbay-storm.html"].outlet == "Northbay Courier"


def test_feed_entries_are_articles_with_content_or_summary(corpus: dict[str, Article]) -> None:
    fire = corpus["feeds/harbor-times.rss#ht-201"]
    assert (fire.title, fire.outlet, fire.author) == ("Fire guts Dunmore Street warehouse", "Harbor Times",
                                                      "Nell Abernathy")
    assert fire.date == "2022-06-10T21:40:00-04:00"  # as the feed wrote it, in its own time zone
    assert fire.url == "https://harbortimes.example/2022/06/10/dunmore-street-fire"
    # content:encoded is used, not the one-line description
    assert "Three firefighters were injured" in fire.text and "destroyed a vacant warehouse" not in fire.text
    assert "<p>" not in fire.text
    fares = corpus["feeds/harbor-times.rss#ht-202"]  # a summary only, in HTML
    assert [fares.text[s:e] for s, e in fares.body] == [
        "Round-trip fares on the Fenwick ferry will rise by 8 percent on July 1, the harbor commission decided "
        "on Saturday. A round trip for a car and driver will cost $27.",
        "Commuter passes are not affected until January.",
    ]
    bridge = corpus["feeds/metro-dispatch.atom#md-302"]  # Atom, summary of type html
    assert (bridge.outlet, bridge.author, bridge.date) == ("Metro Dispatch", "Jonah Pell", "2023-02-20T09:00:00-05:00")
    assert bridge.text.startswith("Fenwick Mayor Tomas Reyes cut the ribbon")


def test_records_read_fields_under_their_export_names(corpus: dict[str, Article]) -> None:
    first = corpus["exports/coastal-wire.jsonl#w-101"]
    assert first.title == "Port authority approves ferry terminal expansion"
    assert first.outlet == "Coastal Wire"  # a NewsAPI-style {"id": ..., "name": ...} source
    assert first.author == "Ines Marlowe"  # a list of authors
    assert first.date == "2022-05-30T14:00:00+00:00"
    assert first.text.startswith("The Marlow Port Authority on Monday approved")
    assert corpus["exports/coastal-wire.jsonl#w-104"].date is None  # no date field: undated, no warning


def test_front_matter_is_metadata_and_offsets_stay_those_of_the_file(corpus: dict[str, Article]) -> None:
    note = corpus["notes/council-briefing.md"]
    raw = (NEWS / "notes" / "council-briefing.md").read_bytes().decode("utf-8")
    assert note.text == raw  # .md: the file as it is on disk
    assert (note.title, note.date, note.outlet, note.author) == (
        "Council briefing: harbor mooring fees", "2022-06-08", "Fenwick Civic Notes", "Dee Castellano")
    assert note.url == "https://civicnotes.example/2022/06/08/mooring-fees"
    body = [note.text[s:e] for s, e in note.body]
    assert body[0].startswith("The Fenwick city council voted 5 to 2")
    assert not any(line.startswith(("title:", "date:", "source:", "---", "#")) for line in body)
    assert note.body[0][0] > raw.index("\n---\n")  # nothing of the block is body


def test_front_matter_in_a_txt_file_and_a_broken_block(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("---\ntitle: Quay reopens\ndate: 14 June 2022\nsource: Quay News\n---\n"
                                    "The quay reopened on Tuesday after repairs.\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("---\ntitle: [unclosed\n---\nTitle of b\nBody of b, kept as text.\n",
                                    encoding="utf-8")
    (tmp_path / "c.md").write_text("---\n\nA rule, then text, not front matter.\n", encoding="utf-8")
    warnings: list[str] = []
    [a] = read_file(tmp_path, tmp_path / "a.txt", warnings)
    assert (a.title, a.date, a.outlet) == ("Quay reopens", "2022-06-14", "Quay News")
    assert [a.text[s:e] for s, e in a.body] == ["The quay reopened on Tuesday after repairs."]
    [b] = read_file(tmp_path, tmp_path / "b.txt", warnings)
    assert b.title == "Title of b" and [b.text[s:e] for s, e in b.body] == ["Body of b, kept as text."]
    assert warnings == ["b.txt: its front matter is not valid YAML (line 2); its fields are ignored"]
    [c] = read_file(tmp_path, tmp_path / "c.md", warnings)
    assert c.title == "---" and "A rule, then text" in c.text[c.body[0][0]:c.body[0][1]]


def test_txt_without_front_matter_reads_as_before(tmp_path: Path) -> None:
    """The seeds' path: the first line is the title, the file is the text, no metadata."""
    (tmp_path / "plain.txt").write_text("A title\n\nFirst paragraph here.\nRead More\n", encoding="utf-8")
    [article] = read_file(tmp_path, tmp_path / "plain.txt")
    assert (article.title, article.date, article.outlet, article.url, article.author) == ("A title", None, None,
                                                                                          None, None)
    assert [article.text[s:e] for s, e in article.body] == ["First paragraph here."]


@pytest.mark.parametrize(("value", "expected"), [
    ("2022-06-14", "2022-06-14"),
    ("2022-06-14T09:30:00-04:00", "2022-06-14T09:30:00-04:00"),
    ("2022-06-14T13:30:00Z", "2022-06-14T13:30:00+00:00"),
    ("Tue, 14 Jun 2022 09:30:00 -0400", "2022-06-14T09:30:00-04:00"),
    ("June 14, 2022", "2022-06-14"),
    ("14 June 2022 9:30", "2022-06-14T09:30:00"),
    (dt.date(2022, 6, 14), "2022-06-14"),
    (1655213400, "2022-06-14T13:30:00+00:00"),
    (1655213400000, "2022-06-14T13:30:00+00:00"),
    ("", None),
    (None, None),
])
def test_dates_are_normalised(value: object, expected: str | None) -> None:
    assert normalise_date(value) == expected


@pytest.mark.parametrize(("value", "why"), [
    ("2999-01-01", "in the future"),
    ((dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).date().isoformat(), "in the future"),
    ("yesterday", "is not a date"),
    ("June 2022", "has no day"),
    ("14 June", "has no year"),
    ("2022-13-01", "is not a date"),
    ("x" * 300, "is not a date"),
    (True, "is not a date"),
    (["2022-06-14"], "is not a date"),
])
def test_bad_dates_are_refused_saying_why(value: object, why: str) -> None:
    with pytest.raises(DateError, match=re.escape(why)):
        normalise_date(value)
