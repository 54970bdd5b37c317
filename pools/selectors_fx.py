"""Reads of FX rates (``FxRate``): single look-ups, bulk tables, and what the
refresh's guard compares against.

Every rate is units of the currency per 1 EUR (EUR = 1). A day without a
published rate uses the last rate before it, at most ``FX_MAX_AGE_DAYS`` (7)
back; beyond that :class:`pools.fx.FxRateUnavailable` is raised.

For many conversions (a tax report: up to 100,000 transactions) build one
:class:`pools.fx.FxTable` with :func:`fx_table` or :func:`fx_table_for` — one
query — and ask it; never call :func:`fx_rate_on` in a loop.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from pools.fx import (
    DEFAULT_MAX_AGE_DAYS,
    EUR,
    ONE,
    FxConversion,
    FxQuote,
    FxRateUnavailable,
    FxRateUsed,
    FxTable,
    normalize_currency,
)
from pools.models import FxRate

__all__ = [
    "fx_convert",
    "fx_latest_day",
    "fx_max_age_days",
    "fx_quotes_around",
    "fx_rate_on",
    "fx_table",
    "fx_table_for",
]


def fx_max_age_days() -> int:
    return int(getattr(settings, "FX_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS))


def _check_day(day: date) -> None:
    if type(day) is not date:
        # A datetime is a date too; its calendar day depends on a time zone the caller must choose.
        raise TypeError(f"expected a date, got {type(day).__name__}: convert in the right time zone first")


def fx_rate_on(currency: str, day: date, *, max_age_days: int | None = None) -> FxRateUsed:
    """The rate of ``currency`` in force on ``day`` and the day it was published.

    One query (a second one only to explain a failure)."""
    _check_day(day)
    code = normalize_currency(currency)
    if code == EUR:
        return FxRateUsed(EUR, day, ONE, day)
    max_age = fx_max_age_days() if max_age_days is None else max_age_days
    row = (
        FxRate.objects.filter(currency=code, day__lte=day, day__gte=day - timedelta(days=max_age))
        .order_by("-day")
        .values_list("day", "rate")
        .first()
    )
    if row is None:
        latest = FxRate.objects.filter(currency=code, day__lte=day).aggregate(d=Max("day"))["d"]
        raise FxRateUnavailable(code, day, max_age_days=max_age, latest_day=latest)
    return FxRateUsed(code, day, row[1], row[0])


def fx_table(*, currencies: Iterable[str], start: date, end: date, max_age_days: int | None = None) -> FxTable:
    """An in-memory table answering ``rate_on(currency, day)`` for ``day`` in
    ``start``..``end``: every stored rate of ``currencies`` from ``start - max_age_days``
    to ``end``, in one query."""
    _check_day(start)
    _check_day(end)
    if end < start:
        raise ValueError("end is before start")
    max_age = fx_max_age_days() if max_age_days is None else max_age_days
    codes = sorted({normalize_currency(c) for c in currencies} - {EUR})
    rows: Iterable[tuple[str, date, Decimal]] = ()
    if codes:
        rows = FxRate.objects.filter(
            currency__in=codes, day__gte=start - timedelta(days=max_age), day__lte=end
        ).values_list("currency", "day", "rate")
    return FxTable(rows, start=start, end=end, max_age_days=max_age)


def fx_table_for(pairs: Iterable[tuple[str, date]], *, max_age_days: int | None = None) -> FxTable:
    """:func:`fx_table` covering every ``(currency, day)`` in ``pairs`` (one query)."""
    pairs = list(pairs)
    if not pairs:
        today = timezone.now().date()
        return FxTable((), start=today, end=today, max_age_days=fx_max_age_days())
    days = [d for _c, d in pairs]
    return fx_table(currencies={c for c, _d in pairs}, start=min(days), end=max(days), max_age_days=max_age_days)


def fx_convert(amount: Decimal, from_currency: str, to_currency: str, day: date) -> FxConversion:
    """One conversion at ``day``'s rates (one query). For many, use :func:`fx_table`."""
    table = fx_table(currencies={from_currency, to_currency}, start=day, end=day)
    return table.convert(amount, from_currency, to_currency, day)


def fx_latest_day(*, currency: str | None = None) -> date | None:
    """The newest day with a stored rate (of ``currency``, or of any currency)."""
    qs = FxRate.objects.all() if currency is None else FxRate.objects.filter(currency=normalize_currency(currency))
    return qs.aggregate(d=Max("day"))["d"]


def fx_quotes_around(*, currencies: Iterable[str], first: date, last: date) -> list[FxQuote]:
    """Stored rates of ``currencies`` from ``first`` to ``last``, plus each one's last rate
    before ``first`` (what ``pools.fx.screen_quotes`` compares a fetched batch with)."""
    codes = sorted(set(currencies))
    inside = FxRate.objects.filter(currency__in=codes, day__gte=first, day__lte=last)
    previous_day = (
        FxRate.objects.filter(currency=OuterRef("currency"), day__lt=first).order_by("-day").values("day")[:1]
    )
    before = FxRate.objects.filter(currency__in=codes, day=Subquery(previous_day))
    rows = (inside | before).values_list("currency", "day", "rate")
    return [FxQuote(c, d, r) for c, d, r in rows]
