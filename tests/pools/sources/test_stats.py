"""Our own APY statistics from daily series."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pools.sources.stats import ApyStats, compute_apy_stats
from pools.sources.types import PoolHistoryPoint
from tests.pools.sources._support import shared_bundled

D = Decimal


@pytest.fixture(scope="module")
def bundled():
    return shared_bundled()


def test_simple_series():
    start = date(2025, 9, 1)
    series = [(start + timedelta(days=i), D(v)) for i, v in enumerate(["2", "4", "4", "4", "5", "5", "7", "9"])]
    stats = compute_apy_stats(series)
    assert stats.count == 8 and stats.window_count == 8
    assert stats.mean_30d == D("5.000000")
    assert stats.sigma_30d == D(str(round(statistics.stdev([2, 4, 4, 4, 5, 5, 7, 9]), 6)))
    assert (stats.first_day, stats.last_day, stats.history_days) == (start, start + timedelta(days=7), 8)


def test_one_observation_per_day_last_wins_and_nulls_ignored():
    day = datetime(2025, 9, 1, tzinfo=UTC)
    series = [
        (day.replace(hour=1), D(100)),
        (day.replace(hour=23), D(10)),  # last of the day wins
        (day + timedelta(days=1), None),  # no APY: not an observation
        (day + timedelta(days=2), D(20)),
    ]
    stats = compute_apy_stats(series)
    assert stats.count == 2 and stats.mean_30d == D(15)


def test_window_and_as_of():
    start = date(2025, 1, 1)
    series = [(start + timedelta(days=i), D(i)) for i in range(100)]  # APY = day index
    stats = compute_apy_stats(series)
    assert stats.count == 100 and stats.window_count == 30
    assert stats.mean_30d == D("84.500000")  # days 70..99
    earlier = compute_apy_stats(series, as_of=start + timedelta(days=9))
    assert earlier.count == 10 and earlier.window_count == 10 and earlier.mean_30d == D("4.500000")
    assert compute_apy_stats(series, window_days=7).window_count == 7


def test_empty_and_single_point():
    assert compute_apy_stats([]) == ApyStats(0, 0, None, None, None, None)
    one = compute_apy_stats([(date(2025, 1, 1), "3.5")])
    assert one.mean_30d == D("3.5") and one.sigma_30d is None and one.history_days == 1
    with pytest.raises(ValueError):
        compute_apy_stats([], window_days=0)


def test_real_chart_history_matches_a_plain_computation(bundled):
    points = bundled.fetch_history("3603d576-a4d7-4317-9ae1-bf451b3e637a")
    stats = compute_apy_stats(points)
    last30 = [float(p.apy) for p in points if p.day > points[-1].day - timedelta(days=30)]
    assert stats.count == 882 and stats.window_count == len(last30) == 30
    assert float(stats.mean_30d) == pytest.approx(statistics.mean(last30), abs=1e-6)
    assert float(stats.sigma_30d) == pytest.approx(statistics.stdev(last30), abs=1e-6)
    assert isinstance(stats.sigma_30d, Decimal)


@given(st.lists(st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False), min_size=2, max_size=40))
def test_sigma_is_non_negative_and_mean_bounded(values):
    start = datetime(2025, 1, 1, tzinfo=UTC)
    points = [PoolHistoryPoint(start + timedelta(days=i), D(1000), v) for i, v in enumerate(values)]
    stats = compute_apy_stats(points, window_days=365)
    assert stats.sigma_30d >= 0
    assert min(values) - D("0.000001") <= stats.mean_30d <= max(values) + D("0.000001")
