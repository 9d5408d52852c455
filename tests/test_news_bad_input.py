"""Bad news input: each case is indexed as well as it can be, or skipped with a warning naming the file (and
the line or entry), never a crash; bad filters are a clear error (exit 2 from the CLI)."""

from __future__ import annotations

import base64
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import NEWS, SEEDS, FakeEncoder

from assistant import Assistant, Settings
from assistant.errors import FilterError
from assistant.filters import parse_filter
from assistant.index.build import open_index
from assistant.ingest import read_corpus, read_file

PAGE = (NEWS / "pages" / "dailyledger-reyes-primary.html").read_text(encoding="utf-8")
FIRST = "Tomas Reyes won the Democratic primary for mayor of Fenwick on Tuesday"
LAST = "who owns a car dealership on Route 9 and ran unopposed in his party's primary."


def folder(tmp_path: Path, files: dict[str, bytes | str]) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    for name, data in files.items():
        path = corpus / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return corpus


def read(tmp_path: Path, name: str, data: bytes | str) -> tuple[list[Any], list[str]]:
    """The articles of one file and the warnings reading it gave."""
    corpus = folder(tmp_path, {name: data})
    warnings: list[str] = []
    return read_file(corpus, corpus / name, warnings), warnings


def record(**fields: object) -> str:
    return json.dumps(fields)


# ---- web pages ------------------------------------------------------------------------------------------------

def test_malformed_html_is_still_read(tmp_path: Path) -> None:
    broken = ("<html><head><title>Quay repairs begin | Fenwick Post</title><body><div class=story>"
              "<h1>Quay repairs begin"
              "<p>Work crews began repairing the north quay in Fenwick on Monday, <b>six weeks <i>later</b> than "
              "planned,</i> the harbor master said.<p>The repairs will close berths four to nine until August, "
              "and fishing boats will tie up at the ferry pier instead.</span></div></td><p>Costs are put at "
              "$1.1 million.</table>")
    [article], warnings = read(tmp_path, "broken.html", broken)
    body = [article.text[s:e] for s, e in article.body]
    assert body[0].startswith("Work crews began repairing the north quay in Fenwick on Monday, six weeks later")
    assert any("berths four to nine" in line for line in body)
    assert warnings == []


@pytest.mark.parametrize("page", [
    "<html><head><title>Fenwick Post</title></head><body><nav><ul>"
    + "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(40)) + "</ul></nav>"
    "<footer>© 2022 Fenwick Post. All rights reserved.</footer></body></html>",
    "<html><body><div class='menu'>" + "".join(f"<div><a href='/{i}'>Local news, page {i}</a></div>" for i in range(30))
    + "</div><div class='cookie'>We use cookies to improve your experience.</div></body></html>",
    "<html><head><title>Empty</title></head><body></body></html>",
    "<html><body><nav><a href='/'>Home</a> <a href='/news'>Latest news</a></nav></body></html>",
], ids=["nav list", "menu of links", "no body", "two links"])
def test_a_page_that_is_only_navigation_is_skipped_naming_it(tmp_path: Path, page: str) -> None:
    corpus = folder(tmp_path, {"menu.html": page, "ok.txt": "Ok\nThe quay reopened on Tuesday.\n"})
    articles, skipped = read_corpus(corpus)
    assert [a.source for a in articles] == ["ok.txt"]
    assert skipped == ["menu.html: skipped, no article text in the page (only navigation, links or page furniture)"]


@pytest.mark.parametrize(("declaration", "encoding", "text"), [
    ('<meta charset="windows-1252">', "cp1252", "“Café au lait,” said Zoë Brontë — €2 a cup."),
    ('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">', "latin-1",
     "Café owner Zoë Brontë said the crème brûlée stall would reopen on Friday."),
    ('<meta charset="shift_jis">', "shift_jis", "港の市場は金曜日に再開すると店主の佐藤さんが語った。"),
], ids=["windows-1252", "iso-8859-1", "shift_jis"])
def test_a_page_in_the_encoding_its_meta_declares(tmp_path: Path, declaration: str, encoding: str, text: str) -> None:
    page = PAGE.replace('<meta charset="utf-8">', declaration).replace("“", '"').replace("”", '"').replace("·", "-")
    page = page.replace("<p>Tomas Reyes won", f"<p>{text} Tomas Reyes won")
    [article], _ = read(tmp_path, "page.html", page.replace("©", "(c)").encode(encoding))
    assert article.text[article.body[0][0] : article.body[0][1]].startswith(f"{text} Tomas Reyes won")
    assert article.date == "2022-06-14"


def test_a_20_mb_saved_page_with_inline_images_and_scripts_reads_its_article(tmp_path: Path) -> None:
    """"Save page, complete": images inlined as data: URIs, scripts and SVG icons in the page."""
    image = base64.b64encode(random.Random(7).randbytes(11_000_000)).decode()
    heavy = (f'<img src="data:image/jpeg;base64,{image}">' + "<script>" + "var t=[1,2,3];" * 200_000 + "</script>"
             + "<svg>" + "<path d='M0 0L1 1'/>" * 100_000 + "</svg>")
    page = PAGE.replace("<figure>", f"<figure>{heavy}")
    assert len(page) > 19_000_000
    started = time.monotonic()
    [article], _ = read(tmp_path, "complete.html", page)
    assert time.monotonic() - started < 60
    body = [article.text[s:e] for s, e in article.body]
    assert body[0].startswith(FIRST) and body[-1].endswith(LAST) and len(body) == 5
    assert "base64" not in article.text and "var t" not in article.text


@pytest.mark.slow
def test_a_20_mb_page_of_text_is_read_in_bounded_time(tmp_path: Path) -> None:
    words = (SEEDS / sorted(p.name for p in SEEDS.iterdir())[0]).read_text(encoding="utf-8").split()
    rnd = random.Random(3)
    paragraphs = [f"Paragraph {n}: " + " ".join(rnd.choice(words) for _ in range(60)) + "." for n in range(48_000)]
    page = PAGE.replace("</article>", "".join(f"<p>{p}</p>\n" for p in paragraphs) + "</article>")
    assert len(page) > 19_000_000
    started = time.monotonic()
    [article], _ = read(tmp_path, "long.html", page)
    took = time.monotonic() - started
    assert took < 150, took
    body = [article.text[s:e] for s, e in article.body]
    assert body[0].startswith(FIRST) and body[-1] == paragraphs[-1] and len(body) == 5 + len(paragraphs)


def test_binary_and_empty_files_of_each_format_are_skipped(tmp_path: Path) -> None:
    corpus = folder(tmp_path, {"a.html": b"", "b.htm": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300),
                               "c.jsonl": b"\n\n", "d.xml": b"  ", "ok.txt": "Ok\nThe quay reopened on Tuesday.\n"})
    _, skipped = read_corpus(corpus)
    assert skipped == ["a.html: skipped, empty file", "b.htm: skipped, binary file (contains NUL bytes)",
                       "c.jsonl: skipped, empty file", "d.xml: skipped, empty file"]


# ---- records ----------------------------------------------------------------------------------------------------

def test_a_broken_line_in_the_middle_of_an_export_is_named_and_the_rest_indexed(tmp_path: Path) -> None:
    lines = [record(id="r1", title="Quay opens", text="The quay opened on Monday."),
             record(id="r2", title="Ferry late", text="The ferry ran an hour late on Tuesday."),
             '{"id": "r3", "title": "Cut off", "text": "This line was cut off in the midd',
             "[1, 2, 3]",
             record(id="r5", headline="No text", body_html="<p>x</p>"),
             record(id="r6", title="Fish market", text="The fish market moved to Pier 4 on Friday.")]
    corpus = folder(tmp_path, {"export.jsonl": "\n".join(lines) + "\n"})
    stored, articles, report = open_index(corpus, tmp_path / "index", Settings(), FakeEncoder())
    assert sorted(articles) == ["export.jsonl#r1", "export.jsonl#r2", "export.jsonl#r6"]
    assert list(report.skipped) == [
        "export.jsonl line 3: skipped, it is not valid JSON (Unterminated string starting at column 42)",
        "export.jsonl line 4: skipped, it is a JSON array, not an object with a `text` field",
        "export.jsonl line 5: skipped, it has no `text` field with the article (its fields: id, headline, body_html)",
    ]
    assert {c.source for c in stored.chunks} == set(articles)


def test_an_empty_text_field_is_called_empty_not_missing(tmp_path: Path) -> None:
    lines = [record(title="Quay opens", text="The quay opened on Monday."), record(title="Blank", body="  "),
             record(title="Nothing", content=None)]
    articles, warnings = read(tmp_path, "export.jsonl", "\n".join(lines))
    assert [a.title for a in articles] == ["Quay opens"]
    assert warnings == ["export.jsonl line 2: skipped, it has an empty `body` field",
                        "export.jsonl line 3: skipped, it has an empty `content` field"]


def test_an_export_of_an_unknown_layout_says_what_is_missing_where(tmp_path: Path) -> None:
    lines = [record(headline="Quay opens", story="The quay opened."), record(headline="Ferry", story="Late.")]
    corpus = folder(tmp_path, {"dump.jsonl": "\n".join(lines), "ok.txt": "Ok\nThe quay reopened on Tuesday.\n"})
    _, skipped = read_corpus(corpus)
    assert skipped == ["dump.jsonl: skipped, line 1 has no `text` field with the article (its fields: headline, "
                       "story); each line must be a JSON object with a `text` field"]


def test_the_same_record_id_twice_keeps_both_under_distinct_addresses(tmp_path: Path) -> None:
    lines = [record(id="a1", text="First story with id a1."), record(id="a2", text="Another story."),
             record(id="a1", text="A different story that reuses id a1.")]
    articles, warnings = read(tmp_path, "dup.jsonl", "\n".join(lines))
    assert [a.source for a in articles] == ["dup.jsonl#a1", "dup.jsonl#a2", "dup.jsonl#a1@line3"]
    assert warnings == ["dup.jsonl line 3: id 'a1' is also used at line 1; this one is dup.jsonl#a1@line3"]
    # without ids, the line number is the address
    articles, _ = read(tmp_path, "plain.jsonl", "\n" + record(text="No id here.") + "\n")
    assert [a.source for a in articles] == ["plain.jsonl#2"]


def test_text_that_is_not_unicode_text_is_made_safe(tmp_path: Path) -> None:
    """A lone surrogate (valid JSON, invalid text) would break saving the index: it becomes U+FFFD."""
    line = '{"id": "s", "title": "Odd \\ud800 title", "text": "Broken \\udc80 character in the middle."}'
    corpus = folder(tmp_path, {"odd.jsonl": line})
    stored, articles, _ = open_index(corpus, tmp_path / "index", Settings(), FakeEncoder())
    article = articles["odd.jsonl#s"]
    assert article.text == "Broken \ufffd character in the middle." and "\ud800" not in article.title
    assert stored.chunks[0].text == article.text


# ---- feeds ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "reason"), [
    ("this is not XML at all,\njust some text in a file named like a feed", "not an RSS or Atom feed (XML error:"),
    ("<html><body><p>A web page saved as .xml</p></body></html>", "not an RSS or Atom feed"),
    ('<?xml version="1.0"?><urlset><url><loc>https://x.example/</loc></url></urlset>', "not an RSS or Atom feed"),
    ('<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title></channel></rss>', "a feed without entries"),
], ids=["text", "html", "sitemap", "no entries"])
def test_a_feed_that_is_not_one_is_skipped_saying_why(tmp_path: Path, data: str, reason: str) -> None:
    corpus = folder(tmp_path, {"feed.xml": data, "ok.txt": "Ok\nThe quay reopened on Tuesday.\n"})
    articles, skipped = read_corpus(corpus)
    assert [a.source for a in articles] == ["ok.txt"]
    assert len(skipped) == 1 and skipped[0].startswith(f"feed.xml: skipped, {reason}"), skipped


def test_a_feed_broken_after_its_first_entries_keeps_them_with_a_warning(tmp_path: Path) -> None:
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Quay News</title>'
            "<item><title>One</title><guid>q1</guid><description>The quay opened on Monday.</description></item>"
            "<item><title>Two</title><guid>q1</guid><description>The ferry ran late on Tuesday.</description></item>"
            "<item><title>Three & four</title><description>Cut off here")
    articles, warnings = read(tmp_path, "quay.rss", feed)
    assert [a.source for a in articles][:2] == ["quay.rss#q1", "quay.rss#q1@entry2"]
    assert articles[0].outlet == "Quay News"
    assert warnings[0].startswith("quay.rss: the feed is not well-formed XML (XML error:")
    assert "quay.rss entry 2: id 'q1' is also used at entry 1; this one is quay.rss#q1@entry2" in warnings


def test_a_feed_entry_without_a_story_logs_nothing_from_the_extractor(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """trafilatura logs "discarding data: None" for an HTML fragment with no story; a feed read before any page
    (which quietens it too) must not print that line beside the assistant's own warning."""
    import logging

    monkeypatch.setattr(logging.getLogger("trafilatura"), "level", logging.NOTSET)  # as in a fresh process
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Quay News</title>'
            "<item><title>One</title><description>&lt;p&gt;The quay opened on Monday after a year of repairs, the "
            "harbour office said.&lt;/p&gt;</description></item>"
            "<item><title>Two</title><description>&lt;p&gt;&lt;/p&gt;</description></item></channel></rss>")
    with caplog.at_level(logging.WARNING):
        articles, _ = read(tmp_path, "quay.xml", feed)
    assert [a.title for a in articles] == ["One"]
    assert not [r for r in caplog.records if r.name.startswith(("trafilatura", "htmldate"))], caplog.text


# ---- dates --------------------------------------------------------------------------------------------------------

def test_dates_in_the_future_or_unparseable_are_kept_as_null_with_a_warning(tmp_path: Path) -> None:
    future_page = PAGE.replace("2022-06-14T22:45:00-04:00", "2999-06-14T22:45:00-04:00").replace(
        "/2022/06/14/", "/")
    corpus = folder(tmp_path, {
        "future.html": future_page,
        "export.jsonl": "\n".join([record(id="x", text="Story x.", date="soon"),
                                   record(id="y", text="Story y.", date="2999-01-01"),
                                   record(id="z", text="Story z.", date="2022-06-01")]),
        "feed.rss": '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</title>'
                    "<guid>a</guid><pubDate>the day after tomorrow</pubDate><description>Story a.</description>"
                    "</item></channel></rss>",
        "note.md": "---\ntitle: Note\ndate: 3000-01-01\n---\nThe note's only line.\n",
    })
    articles, skipped = read_corpus(corpus)
    dates = {a.source: a.date for a in articles}
    assert dates == {"export.jsonl#x": None, "export.jsonl#y": None, "export.jsonl#z": "2022-06-01",
                     "feed.rss#a": None, "future.html": None, "note.md": None}
    assert skipped == [
        "export.jsonl line 1: date 'soon' is not a date; kept without a date",
        "export.jsonl line 2: date '2999-01-01' is in the future; kept without a date",
        "feed.rss entry 1: date 'the day after tomorrow' is not a date; kept without a date",
        "future.html: date '2999-06-14' is in the future; kept without a date",
        "note.md: date datetime.date(3000, 1, 1) is in the future; kept without a date",
    ]


# ---- filters ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("since", "until", "message"), [
    ("2022-07-01", "2022-06-30", "since 2022-07-01 is after until 2022-06-30"),
    ("2022-07", "2022-06", "since 2022-07-01 is after until 2022-06-30"),
    ("2022-13-01", None, "since '2022-13-01' is not a date (month must be in 1..12)"),
    (None, "2022-02-30", "until '2022-02-30' is not a date (day is out of range for month)"),
    ("yesterday", None, "since 'yesterday' is not a date; use YYYY-MM-DD, YYYY-MM or YYYY"),
    (None, "14/06/2022", "until '14/06/2022' is not a date"),
])
def test_bad_filters_are_a_clear_error(since: str | None, until: str | None, message: str) -> None:
    with pytest.raises(FilterError) as raised:
        parse_filter(since, until)
    assert str(raised.value).startswith(message)




@pytest.mark.parametrize("command", ["ask", "search"])
@pytest.mark.parametrize(("flags", "message"), [
    (["--since", "2022-07-01", "--until", "2022-06-30"], "since 2022-07-01 is after until 2022-06-30"),
    (["--since", "2022-13-01"], "since '2022-13-01' is not a date"),
    (["--until", "June"], "until 'June' is not a date"),
])
def test_cli_bad_filter_exits_2_before_loading_anything(run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        command: str, flags: list[str], message: str) -> None:
    opened: list[object] = []
    monkeypatch.setattr(Assistant, "open", lambda self, *a, **k: opened.append(self))
    status, out, err = run(command, "--corpus", str(NEWS), "--index", str(tmp_path / "index"), *flags, "Who won?")
    assert status == 2 and out == "" and opened == []
    assert err.startswith(f"assistant: error: {message}") and "Traceback" not in err


def test_cli_bad_filter_for_the_chat_exits_2(run: Any) -> None:
    status, _, err = run("--since", "not-a-date")
    assert status == 2 and "since 'not-a-date' is not a date" in err


def test_cli_warns_about_a_broken_export_line_and_still_answers(run: Any, tmp_path: Path) -> None:
    lines = [record(id="r1", title="Quay reopens", outlet="Quay News", date="2022-06-07",
                    text="The north quay in Fenwick reopened on Tuesday after six weeks of repairs costing "
                         "$1.1 million, the harbor master said."),
             "{not json",
             record(id="r3", title="Ferry timetable", text="The summer ferry timetable starts on June 20.")]
    corpus = folder(tmp_path, {"export.jsonl": "\n".join(lines)})
    status, out, err = run("ask", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "-k", "0",
                           "How much did the quay repairs cost?")
    assert status == 0, (out, err)
    assert "assistant: warning: export.jsonl line 2: skipped, it is not valid JSON" in err
    assert "$1.1 million" in out
    assert "[1] Quay reopens, Quay News, 2022-06-07 — export.jsonl#r1 (chars" in out
