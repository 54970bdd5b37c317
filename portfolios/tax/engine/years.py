"""Tax-year arithmetic in the user's own timezone (stdlib only).

Every transaction timestamp is an aware datetime (we store UTC).  Which tax
year, month and day it belongs to is decided on the *local calendar date* in
the user's timezone (a zoneinfo name such as ``"Asia/Tokyo"``):

* ``us`` and ``other``: the calendar year, labelled ``"2024"``.
* ``uk``: 6 April to 5 April, labelled ``"2024/25"`` (6 April 2024 - 5 April 2025).

(The jurisdictions are listed once, in ``types.JURISDICTIONS``; this module
imports nothing from the engine.)

A sale at 2024-12-31 23:30 UTC is therefore in tax year "2025" for a user in
Asia/Tokyo (it is 08:30 on 1 January there) and in "2024" for a user in UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached ZoneInfo (raises ``zoneinfo.ZoneInfoNotFoundError`` for unknown names)."""
    return ZoneInfo(name)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date of an aware datetime in ``timezone``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: timestamps must be timezone-aware")
    return moment.astimezone(zone(timezone)).date()


def tax_year_of(day: date, jurisdiction: str) -> str:
    """The label of the tax year containing the local date ``day``."""
    if jurisdiction == "uk":
        start = day.year if (day.month, day.day) >= (4, 6) else day.year - 1
        return f"{start}/{(start + 1) % 100:02d}"
    if jurisdiction in ("us", "other"):
        return str(day.year)
    raise ValueError(f"unknown jurisdiction {jurisdiction!r}")


def tax_year_label(first_year: int, jurisdiction: str) -> str:
    """The label of the tax year that starts in ``first_year``: ``2024`` is "2024",
    or in the UK "2024/25" (6 April 2024 - 5 April 2025)."""
    return f"{first_year}/{(first_year + 1) % 100:02d}" if jurisdiction == "uk" else str(first_year)


def normalize_tax_year(label: str | int, jurisdiction: str) -> str:
    """Accept ``2024`` or ``"2024"`` for calendar years and ``"2024/25"`` (or
    ``"2024-25"``) for UK years; return the canonical label."""
    text = str(label).strip()
    if jurisdiction == "uk":
        for sep in ("/", "-"):
            if sep in text:
                head, tail = text.split(sep, 1)
                if head.isdigit() and tail.isdigit() and len(head) == 4:
                    start = int(head)
                    if int(tail) % 100 == (start + 1) % 100:
                        return f"{start}/{(start + 1) % 100:02d}"
        raise ValueError(f"UK tax years are written like '2024/25' (6 April 2024 - 5 April 2025), got {label!r}")
    if text.isdigit() and len(text) == 4:
        return text
    raise ValueError(f"calendar tax years are written like '2024', got {label!r}")


def tax_year_bounds(label: str, jurisdiction: str) -> tuple[date, date]:
    """First and last local date (inclusive) of a tax year."""
    label = normalize_tax_year(label, jurisdiction)
    if jurisdiction == "uk":
        start = int(label[:4])
        return date(start, 4, 6), date(start + 1, 4, 5)
    year = int(label)
    return date(year, 1, 1), date(year, 12, 31)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def one_year_after(day: date) -> date:
    """The anniversary of ``day``; 29 February maps to 28 February.

    US holding period: an asset is held *more than one year* - long term -
    only when it is disposed of on a date strictly after this anniversary.
    Acquired 2023-03-01: disposed 2024-03-01 is short term, 2024-03-02 is long.
    Acquired 2024-02-29: the anniversary is 2025-02-28, so 2025-03-01 is long.
    """
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def is_long_term(acquired: date, disposed: date) -> bool:
    """True when held more than one year (see :func:`one_year_after`)."""
    return disposed > one_year_after(acquired)


def iter_months(first: date, last: date) -> Iterator[str]:
    """ "YYYY-MM" of every month from ``first`` to ``last`` (inclusive)."""
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


class Clock:
    """Per-transaction local date, tax year and anniversary, cached by date
    (a ledger has far fewer days than transactions)."""

    def __init__(self, timezone: str, jurisdiction: str):
        self.tz = zone(timezone)
        self.utc = timezone in ("UTC", "Etc/UTC")
        self.jurisdiction = jurisdiction
        self._years: dict[date, str] = {}
        self._anniversaries: dict[date, date] = {}

    def local(self, moment: datetime) -> date:
        if self.utc and moment.tzinfo is UTC:
            return moment.date()
        return moment.astimezone(self.tz).date()

    def year(self, day: date) -> str:
        label = self._years.get(day)
        if label is None:
            label = self._years[day] = tax_year_of(day, self.jurisdiction)
        return label

    def anniversary(self, day: date) -> date:
        value = self._anniversaries.get(day)
        if value is None:
            value = self._anniversaries[day] = one_year_after(day)
        return value
