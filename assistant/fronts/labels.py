"""How every front end names where and when an article appeared: "The Daily Ledger, 2022-06-14".

Only the day of a date is shown (the full timestamp is in JSON); the parts an article lacks are left out,
so a plain .txt article reads as its title alone, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..types import Copy


def day(date: str | None) -> str | None:
    """The YYYY-MM-DD part of an ISO 8601 date."""
    return date[:10] if date else None


def published(outlet: str | None, date: str | None, separator: str = ", ") -> str:
    """"Outlet, 2022-06-14", or whichever of the two is known, or ""."""
    return separator.join(part for part in (outlet, day(date)) if part)


def copies(also_in: Sequence[Copy]) -> str:
    """The other copies of a story, for one line: "Valley Gazette, 2022-06-16 (pages/valley.html); …"."""
    return "; ".join(f"{published(c.outlet, c.date) or c.title} ({c.source})" for c in also_in)
