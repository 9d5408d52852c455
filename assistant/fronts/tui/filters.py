"""Filters in the chat: a dialog to set one, and a bar that shows the active one above the question box.

The app owns the filter (`AssistantApp.filter`) and its actions (`action_set_filter` opens this dialog,
`action_clear_filter` drops it, `apply_filter` sets one from code, e.g. a command palette entry); every
question is asked under it, and the bar says which it is for as long as it is set.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...errors import FilterError
from ...filters import Filter, parse_filter
from .widgets import display_line


class FilterBar(Static):
    """One line above the question box, shown while a filter is active."""

    def show_filter(self, flt: Filter) -> None:
        self.display = flt.active
        if flt.active:
            self.update(Content.assemble(("Filter ", "bold"), display_line(flt.describe()),
                                         ("  ·  F3 change  ·  F4 clear", "$text-muted")))


class FilterScreen(ModalScreen[Filter | None]):
    """Set the period and the outlets; Enter applies, Escape leaves the filter as it was."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: Filter) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="filter-dialog"):
            yield Static(Content("Search only some articles"), id="filter-title")
            yield Label("Published since (YYYY-MM-DD, YYYY-MM or YYYY)")
            yield Input(self.current.since or "", placeholder="e.g. 2022-06-01", id="filter-since")
            yield Label("Published until")
            yield Input(self.current.until or "", placeholder="e.g. 2022-06", id="filter-until")
            yield Label("Outlets, sites or files, separated by commas")
            yield Input(", ".join(self.current.sources), placeholder="e.g. Harbor Times, cnn.com, feeds/*.xml",
                        id="filter-sources")
            yield Static("", id="filter-error")
            yield Static(Content("Articles without a date are left out of any date filter."), id="filter-note")
            with Horizontal(id="filter-buttons"):
                yield Button("Apply", variant="primary", id="filter-apply")
                yield Button("Clear", id="filter-clear")
                yield Button("Cancel", id="filter-cancel")

    def on_mount(self) -> None:
        self.query_one("#filter-since", Input).focus()

    def read(self) -> Filter:
        """The filter typed in; raises FilterError for a date that is not one."""
        sources = [s for s in self.query_one("#filter-sources", Input).value.split(",") if s.strip()]
        return parse_filter(self.query_one("#filter-since", Input).value,
                            self.query_one("#filter-until", Input).value, sources)

    @on(Input.Submitted)
    @on(Button.Pressed, "#filter-apply")
    def _apply(self) -> None:
        try:
            flt = self.read()
        except FilterError as exc:
            self.query_one("#filter-error", Static).update(Content(display_line(str(exc))))
            return
        self.dismiss(flt)

    @on(Button.Pressed, "#filter-clear")
    def _clear(self) -> None:
        self.dismiss(Filter())

    @on(Button.Pressed, "#filter-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
