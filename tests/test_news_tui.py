"""The chat UI on the news fixture corpus: outlets and dates on sources and in the reader, filters set and cleared."""

from __future__ import annotations

import pytest
from test_tui import SIZE, ask, opened_reader, ready, shown, wait_until
from test_tui_history import palette
from textual.widgets import Input, Static

from assistant import Assistant
from assistant.filters import Filter
from assistant.fronts.tui.app import AssistantApp, ReaderScreen
from assistant.fronts.tui.filters import FilterBar, FilterScreen
from assistant.fronts.tui.widgets import CitationLink

pytestmark = pytest.mark.slow

MAYOR = "Who is the mayor of Fenwick?"


async def test_sources_show_outlet_date_and_copies_and_the_reader_its_metadata(news: Assistant) -> None:
    app = AssistantApp(news)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        turn = await ask(pilot, "How many homes lost power in the coastal storm?")
        [link] = turn.query(CitationLink)
        label = shown(link)
        assert "Coastal storm leaves 40,000 homes without power  Northbay Courier · 2022-06-15" in label
        assert "also in: Valley Gazette, 2022-06-16 (pages/valleygazette-storm.html)" in label
        link.focus()
        await pilot.press("enter")
        view = await opened_reader(pilot)
        screen = app.screen
        assert isinstance(screen, ReaderScreen)
        meta = shown(screen.query_one("#reader-meta", Static))
        assert meta == ("Northbay Courier · 2022-06-15  ·  Priya Handley  ·  "
                        "https://www.northbaycourier.example/news/coastal-storm-power-outages")
        assert "Also in: Valley Gazette, 2022-06-16" in shown(screen.query_one("#reader-copies", Static))
        assert view.highlighted_text() == link.citation.quote
        assert news.article(link.citation.source).text[link.citation.start:link.citation.end] == link.citation.quote


async def test_the_newest_of_disagreeing_sources_is_marked(news: Assistant) -> None:
    app = AssistantApp(news)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        turn = await ask(pilot, "How many firefighters were injured in the Dunmore Street warehouse fire?")
        labels = [shown(link) for link in turn.query(CitationLink)]
        assert any("Metro Dispatch · 2022-06-12 (newest)" in label for label in labels), labels
        assert any("Harbor Times · 2022-06-10" in label and "newest" not in label for label in labels), labels
        note = shown(turn.query_one(".dates-note", Static))
        assert note.endswith("are from articles of different dates and disagree; both are quoted.")


async def test_a_filter_is_set_from_the_dialog_always_shown_and_cleared(news: Assistant) -> None:
    app = AssistantApp(news)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        bar = app.query_one(FilterBar)
        assert not bar.display and app.check_action("set_filter", ()) and not app.check_action("clear_filter", ())
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterScreen))
        await pilot.press(*"2023-01", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, FilterScreen))
        assert app.filter == Filter(since="2023-01-01")
        assert bar.display and "Filter published since 2023-01-01" in shown(bar)
        app.query_one("#question", Input).focus()
        later = await ask(pilot, MAYOR)
        assert later.answer is not None and "Mayor Tomas Reyes" in later.answer.text
        assert {c.source for c in later.answer.citations} == {"feeds/metro-dispatch.atom#md-302"}
        assert "(published since 2023-01-01)" in shown(later.query_one(".question", Static))
        # the same question, other period: another answer
        assert app.apply_filter(until="2021-12")
        earlier = await ask(pilot, MAYOR)
        assert earlier.answer is not None and "Mayor Ellen Park" in earlier.answer.text
        assert "Filter published until 2021-12-31" in shown(bar)
        await pilot.press("f4")
        assert app.filter == Filter() and not bar.display and not app.check_action("clear_filter", ())
        unfiltered = await ask(pilot, "How many homes lost power in the coastal storm?")
        assert unfiltered.answer is not None and unfiltered.answer.found
        assert "(published" not in shown(unfiltered.query_one(".question", Static))


async def test_a_bad_date_in_the_dialog_is_said_and_nothing_changes(news: Assistant) -> None:
    app = AssistantApp(news, filter=Filter(sources=("Harbor Times",)))
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "Filter from Harbor Times" in shown(app.query_one(FilterBar))  # set on start (`assistant --source`)
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterScreen))
        dialog = app.screen
        assert dialog.query_one("#filter-sources", Input).value == "Harbor Times"
        await pilot.press(*"2022-13-01", "enter")
        await pilot.pause()
        assert isinstance(app.screen, FilterScreen)
        assert "since '2022-13-01' is not a date" in shown(dialog.query_one("#filter-error", Static))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FilterScreen))
        assert app.filter == Filter(sources=("Harbor Times",))
        assert not app.apply_filter(since="2022-07", until="2022-06")  # from code: refused, with a notice
        assert app.filter == Filter(sources=("Harbor Times",))
        app.apply_filter(Filter(sources=("cnn.com",)))
        none = await ask(pilot, MAYOR)
        assert none.state == "no-answer" and none.answer is not None
        assert none.answer.reason.startswith("no article is from cnn.com")


async def test_the_filter_is_set_and_cleared_from_the_command_palette(news: Assistant) -> None:
    app = AssistantApp(news)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await palette(pilot, "set a filter")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterScreen))
        app.screen.query_one("#filter-sources", Input).value = "Metro Dispatch"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, FilterScreen))
        assert app.filter == Filter(sources=("Metro Dispatch",))
        assert "Filter from Metro Dispatch" in shown(app.query_one(FilterBar))
        await palette(pilot, "clear the filter")
        assert app.filter == Filter() and not app.query_one(FilterBar).display
