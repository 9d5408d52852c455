"""Pinned screens of the chat UI (pytest-textual-snapshot). Regenerate with `pytest --snapshot-update`
after a deliberate change of looks or of the answers, and look at the SVGs in tests/__snapshots__/."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from assistant import Assistant
from assistant.fronts.tui.app import AssistantApp
from assistant.fronts.tui.widgets import QuestionInput, Turn

RUSSIA = "How much has Russia committed to train and equip the Tajik army?"

pytestmark = pytest.mark.slow

SnapCompare = Callable[..., bool]


async def _settle(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the app"
        await pilot.pause(0.05)
    for box in pilot.app.query(Input):  # the cursor blinks every 0.5 s: the picture must not depend on when
        box.cursor_blink = False
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def _loaded(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, AssistantApp)
    app.query_one(QuestionInput).cursor_blink = False  # else the pinned screen depends on when it is taken
    await _settle(pilot, lambda: app.state == "ready")


async def _answered(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, AssistantApp)
    await _loaded(pilot)
    await pilot.press(*RUSSIA, "enter")
    await _settle(pilot, lambda: any(t.state == "answered" for t in app.query(Turn)))


async def _reader(pilot: Pilot[Any]) -> None:
    await _answered(pilot)
    await pilot.press("ctrl+o")
    await _settle(pilot, lambda: type(pilot.app.screen).__name__ == "ReaderScreen")


def test_main_screen_80x24(snap_compare: SnapCompare, assistant: Assistant) -> None:
    assert snap_compare(AssistantApp(assistant), terminal_size=(80, 24), run_before=_loaded)


def test_answered_question(snap_compare: SnapCompare, assistant: Assistant) -> None:
    assert snap_compare(AssistantApp(assistant), terminal_size=(100, 30), run_before=_answered)


def test_answered_question_light_theme(snap_compare: SnapCompare, assistant: Assistant) -> None:
    async def light(pilot: Pilot[Any]) -> None:
        await _answered(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()

    assert snap_compare(AssistantApp(assistant), terminal_size=(80, 24), run_before=light)


def test_reader(snap_compare: SnapCompare, assistant: Assistant) -> None:
    assert snap_compare(AssistantApp(assistant), terminal_size=(100, 30), run_before=_reader)
