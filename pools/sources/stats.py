"""Our own APY statistics from a pool's daily series, for when the source lacks them.

``compute_apy_stats(points, as_of=..., window_days=30)``:

* the series is reduced to one observation per UTC day (the last one that day),
  ignoring points after ``as_of`` and points without an APY;
* ``count`` -- number of observed days with an APY (DeFiLlama's ``count`` is the
  same idea: one observation per day since listing);
* ``mean_30d`` -- arithmetic mean of the daily APYs in the window
  ``(as_of - window_days, as_of]``;
* ``sigma_30d`` -- *sample* standard deviation (n - 1) of those daily APYs, in
  APY percentage points; ``None`` with fewer than 2 observations in the window.
  Note: DeFiLlama's ``sigma`` is a different quantity (annualised std of daily
  returns derived from APY, over the pool's whole life), so the two are not
  interchangeable -- ``pools.risk`` scores them on separate scales.

All arithmetic is ``Decimal``; results are rounded to 6 decimal places.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext

from pools.sources.types import PoolHistoryPoint
from pools.sources.validation import to_decimal

__all__ = ["ApyStats", "compute_apy_stats"]

_Q = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class ApyStats:
    count: int
    window_count: int
    mean_30d: Decimal | None
    sigma_30d: Decimal | None
    first_day: date | None
    last_day: date | None

    @property
    def history_days(self) -> int:
        """Calendar days from the first to the last observation, inclusive (0 if none)."""
        if self.first_day is None or self.last_day is None:
            return 0
        return (self.last_day - self.first_day).days + 1


def _day_of(when: date | datetime) -> date:
    if isinstance(when, datetime):
        return (when.astimezone(UTC) if when.tzinfo else when).date()
    return when


def compute_apy_stats(
    points: Iterable[PoolHistoryPoint | tuple[date | datetime, Decimal | float | int | str | None]],
    *,
    as_of: date | datetime | None = None,
    window_days: int = 30,
) -> ApyStats:
    """APY statistics from ``PoolHistoryPoint`` objects or ``(when, apy)`` pairs.

    ``as_of`` defaults to the last observed day.
    """
    if window_days < 1:
        raise ValueError("window_days must be >= 1")
    limit = _day_of(as_of) if as_of is not None else None
    daily: dict[date, tuple[datetime | date, Decimal]] = {}
    when: datetime | date
    for point in points:
        if isinstance(point, PoolHistoryPoint):
            when, apy = point.timestamp, point.apy
        else:
            when, raw_apy = point
            apy = to_decimal(raw_apy, "apy")
        if apy is None:
            continue
        day = _day_of(when)
        if limit is not None and day > limit:
            continue
        sort_key = when if isinstance(when, datetime) else datetime(day.year, day.month, day.day, tzinfo=UTC)
        if sort_key.tzinfo is None:
            sort_key = sort_key.replace(tzinfo=UTC)
        previous = daily.get(day)
        if previous is None or sort_key >= previous[0]:
            daily[day] = (sort_key, apy)
    if not daily:
        return ApyStats(0, 0, None, None, None, None)
    days = sorted(daily)
    end = limit if limit is not None else days[-1]
    start = end - timedelta(days=window_days)
    window = [daily[d][1] for d in days if start < d <= end]
    mean = sigma = None
    with localcontext() as ctx:
        ctx.prec = 34
        if window:
            mean_raw = sum(window, Decimal(0)) / len(window)
            mean = mean_raw.quantize(_Q)
            if len(window) >= 2:
                variance = sum(((x - mean_raw) ** 2 for x in window), Decimal(0)) / (len(window) - 1)
                sigma = variance.sqrt().quantize(_Q)
    return ApyStats(
        count=len(days),
        window_count=len(window),
        mean_30d=mean,
        sigma_30d=sigma,
        first_day=days[0],
        last_day=days[-1],
    )
