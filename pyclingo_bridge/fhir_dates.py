"""FHIR dates as spans of days: a partial date (``1970``, ``1970-05``) may mean any day in it."""

from __future__ import annotations

import calendar
import datetime as dt


def date_span(value: dt.date | str) -> tuple[dt.date, dt.date]:
    """The first and last day a FHIR date, dateTime or partial date (YYYY, YYYY-MM) may mean."""
    if isinstance(value, dt.datetime):
        return value.date(), value.date()  # the date where it was written
    if isinstance(value, dt.date):
        return value, value
    parts = [int(part) for part in str(value)[:7].split("-")]
    year = parts[0]
    if len(parts) == 1:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    month = parts[1]
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
