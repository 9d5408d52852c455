"""The chat's saved conversations, command palette and footer, driven under Textual's Pilot with the real
model: turns are saved, a past conversation is reopened after a restart and continued, searched, exported."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui import RUSSIA, RUSSIA_SOURCE, SIZE, ask, ready, shown, turns, wait_until
from textual.command import CommandInput, CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from assistant import Assistant
from assistant.fronts.tui.app import AssistantApp, ReaderScreen
from assistant.fronts.tui.history_screens import ExportScreen, PastScreen, SearchScreen
from assistant.fronts.tui.widgets import CitationLink, QuestionInput, Turn
from assistant.history import History

pytestmark = pytest.mark.slow

FOLLOW_UP = "What about China?"


async def palette(pilot: Pilot[None], command: str) -> None:
    """Open the command palette (Ctrl+P), type `command`, and run the first match."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
    app.screen.query_one(CommandInput).value = command
    await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0)
    await pilot.press("enter")
    await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette))


def actions(app: AssistantApp) -> set[str]:
    """The actions of the bindings the footer can show now (those check_action does not hide)."""
    return {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show}


async def test_turns_are_saved_and_a_past_conversation_continues(assistant: Assistant, tmp_path: Path) -> None:
    history = History(tmp_path / "h.sqlite3")
    app = AssistantApp(assistant, history=history)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await ask(pilot, RUSSIA)
        follow = await ask(pilot, FOLLOW_UP)
        reading = shown(follow.query_one(".read-as", Static))  # how the follow-up was read, under it
        assert follow.answer is not None and follow.answer.standalone_query
        assert reading == f"read as: {follow.answer.standalone_query}" and "China" in reading
        assert not turns(app)[0].query(".read-as")  # a question asked as it is has none
        key = app.conversation_id
    saved = history.turns(key)
    assert [t.answer.question for t in saved] == [RUSSIA, FOLLOW_UP]
    assert history.conversation(key).front == "chat"

    again = AssistantApp(assistant, history=History(tmp_path / "h.sqlite3"))  # as after a restart
    async with again.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await palette(pilot, "open a past")
        await wait_until(pilot, lambda: isinstance(again.screen, PastScreen))
        assert again.screen.query_one(OptionList).option_count == 1
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(turns(again)) == 2 and again.screen is again.screen_stack[0])
        assert [t.answer for t in turns(again)] == [t.answer for t in saved]
        assert "$1.2 billion" in shown(turns(again)[0].query_one(".quote", Static))
        assert turns(again)[1].query(".read-as")
        assert again.conversation_id == key and list(again.session.turns) == [t.answer for t in saved]
        more = await ask(pilot, "And Pakistan?")  # continues from the reopened turns
        assert more.answer == assistant.ask("And Pakistan?", context=[t.answer for t in saved])
        await pilot.press("up")
        assert again.query_one(QuestionInput).value == "And Pakistan?"
    assert [t.answer.question for t in history.turns(key)] == [RUSSIA, FOLLOW_UP, "And Pakistan?"]


async def test_search_past_then_export_to_markdown(assistant: Assistant, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the export's default folder
    history = History(tmp_path / "h.sqlite3")
    app = AssistantApp(assistant, history=history)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        first = (await ask(pilot, RUSSIA)).answer
        assert first is not None
        key = app.conversation_id
        await palette(pilot, "new conversation")
        await wait_until(pilot, lambda: not turns(app))
        assert app.conversation_id != key
        await ask(pilot, "Who is the Afghan foreign minister?")

        await palette(pilot, "search past")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen))
        await pilot.press(*"billion Tajik")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await wait_until(pilot, lambda: screen.query_one(OptionList).option_count == 1)
        assert screen.matches[0].conversation == key
        await pilot.press("enter", "enter")  # to the results, then open the match
        await wait_until(pilot, lambda: app.conversation_id == key and len(turns(app)) == 1)

        await palette(pilot, "export")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportScreen))
        target = tmp_path / f"assistant-conversation-{key}.md"
        assert app.screen.query_one(Input).value == str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: target.exists())
    text = target.read_text(encoding="utf-8")
    citation = first.citations[0]
    assert text.startswith(f"# {RUSSIA}\n")
    assert f"> “{citation.quote}” [1]" in text
    assert f"**{citation.title}**, `{RUSSIA_SOURCE}`, characters {citation.start}–{citation.end}" in text


async def test_palette_has_the_chat_commands(assistant: Assistant) -> None:
    app = AssistantApp(assistant)  # no history: the commands say so instead of failing
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        commands = app.screen.query_one(CommandList)
        await wait_until(pilot, lambda: commands.option_count >= 8)
        titles = {str(commands.get_option_at_index(n).prompt).split("\n")[0] for n in range(commands.option_count)}
        for title in ("New conversation", "Open a past conversation", "Search past conversations",
                      "Export this conversation", "Theme", "Keys", "Quit"):
            assert any(t.startswith(title) for t in titles), (title, titles)
        await pilot.press("escape")
        await palette(pilot, "open a past")
        assert app.screen is app.screen_stack[0]  # no history screen opened...
        await palette(pilot, "keys")
        await wait_until(pilot, lambda: app.screen is not app.screen_stack[0])  # ...and Keys shows ours
        await pilot.press("escape")
        await palette(pilot, "export")
        assert not isinstance(app.screen, ExportScreen)  # nothing asked yet: nothing to export


async def test_footer_lists_only_keys_that_work(assistant: Assistant) -> None:
    app = AssistantApp(assistant)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        empty = actions(app)
        assert {"quit", "help", "articles", "toggle_theme"} <= empty
        assert not {"copy", "open_source", "clear", "cancel"} & empty  # nothing to copy, open or clear yet
        await ask(pilot, RUSSIA)
        assert {"copy", "open_source", "clear"} <= actions(app)
        assert "open" not in actions(app)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, CitationLink)
        assert "open" in actions(app)  # Enter reads the focused source
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReaderScreen))
        assert not {"copy", "open_source", "clear"} & actions(app)  # chat keys do nothing in the reader
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: not app.query(Turn))
        assert not {"copy", "open_source", "clear"} & actions(app)
