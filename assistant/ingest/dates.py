"""Publication dates as ISO 8601 text, from whatever a page, record, feed or front matter gives.

A date only (`2022-06-14`) when no time is known, else the local time with its offset as given
(`2022-06-14T09:00:00-04:00`): the date part is what filters compare, so an article is on the day its
outlet printed, not the day in UTC. A value that is not a date, or lies in the future, is not guessed:
it becomes None and the reader says why (`DateError`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time

from ..config import FUTURE_DATE_DAYS

_EPOCH_MS = 10**11  # a number above this is a Unix time in milliseconds, not seconds
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_CHARS = 100  # longer text is a sentence, not a date


class DateError(ValueError):
    """A date field that holds no usable date; str() says what was found and why it is not kept."""


def normalise_date(value: object, today: dt.date | None = None, future_days: int = FUTURE_DATE_DAYS) -> str | None:
    """`value` (text, a date or datetime, a time.struct_time, a Unix time) as ISO 8601, or None if empty.

    Raises DateError for a value that is not a date, or a date after `today` (default: today in UTC)
    plus `future_days`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = _parse(value)
    day = parsed if isinstance(parsed, dt.date) and not isinstance(parsed, dt.datetime) else parsed.date()
    limit = (today or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=future_days)
    if day > limit:
        raise DateError(f"date {_shown(value)} is in the future")
    if isinstance(parsed, dt.datetime):
        return parsed.isoformat(timespec="seconds")
    return parsed.isoformat()


def day_of(date: str) -> str:
    """The YYYY-MM-DD part of a normalised date (what filters compare)."""
    return date[:10]


def _parse(value: object) -> dt.date | dt.datetime:
    if isinstance(value, dt.datetime | dt.date):
        return value
    if isinstance(value, time.struct_time):
        return dt.datetime(*value[:6], tzinfo=dt.UTC)
    if isinstance(value, bool):
        raise DateError(f"date {_shown(value)} is not a date")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > _EPOCH_MS else value
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise DateError(f"date {_shown(value)} is not a date") from exc
    if not isinstance(value, str):
        raise DateError(f"date {_shown(value)} is not a date (a {type(value).__name__})")
    text = value.strip()
    if len(text) > _MAX_CHARS:
        raise DateError(f"date {_shown(value)} is not a date")
    return _parse_text(text, value)


def _parse_text(text: str, value: str) -> dt.date | dt.datetime:
    """ISO 8601 first, then RFC 2822 (feeds, mail), then dateutil's formats, with the year required."""
    if _DATE_ONLY.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise DateError(f"date {_shown(value)} is not a date ({exc})") from exc
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    return _parse_loose(text, value)


def _parse_loose(text: str, value: str) -> dt.date | dt.datetime:
    """"June 14, 2022", "14/06/2022 9:30": dateutil, parsed twice with different defaults so that a
    missing year is detected (dateutil would take the current one) and a missing time gives a date."""
    from dateutil import parser

    try:
        first = parser.parse(text, default=dt.datetime(1904, 1, 1, 0, 0))
        second = parser.parse(text, default=dt.datetime(1908, 2, 2, 1, 1))
    except (ValueError, OverflowError, parser.ParserError) as exc:
        raise DateError(f"date {_shown(value)} is not a date") from exc
    if first.year != second.year:
        raise DateError(f"date {_shown(value)} has no year")
    if first.month != second.month:
        raise DateError(f"date {_shown(value)} has no month")
    if first.day != second.day:  # "June 2022": a month is not a publication date
        raise DateError(f"date {_shown(value)} has no day")
    parsed: dt.datetime = first
    if (first.hour, first.minute) != (second.hour, second.minute):
        return parsed.date()
    return parsed


def _shown(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else repr(value.strip())
    return text if len(text) <= 60 else text[:57] + "…'"
