"""Tests for pools.yields: APR/APY, reward composition and time-weighted returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pools import yields
from pools.yields import InvalidParameter

D = Decimal
PROPERTY = settings(max_examples=100, deadline=None)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Overrides the project-wide autouse cache fixture: these tests touch no Django cache."""
    yield


@pytest.fixture(autouse=True)
def _precise_expectations():
    """Expected values are computed at 80 digits (the library uses its own 60-digit context)."""
    with localcontext() as ctx:
        ctx.prec = 80
        yield


def close(a: Decimal, b: Decimal, rel: str = "1e-40", abs_: str = "1e-50") -> bool:
    return abs(a - b) <= max(D(abs_), D(rel) * max(abs(a), abs(b)))


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


# --------------------------------------------------------------------------------------------
# APR <-> APY
# --------------------------------------------------------------------------------------------


def test_daily_compounding_of_ten_percent_gives_the_known_apy():
    # (1 + 0.1/365) ** 365 - 1 = 0.1051557816162643739380115966805... (exact rational, via Fraction).
    exact = (1 + Fraction(1, 3650)) ** 365 - 1
    assert yields.apr_to_apy(D("0.1"), 365).quantize(D("1e-30")) == D("0.105155781616264373938011596681")
    assert close(yields.apr_to_apy(D("0.1"), 365), D(exact.numerator) / D(exact.denominator), rel="1e-55")


def test_monthly_compounding_of_twelve_percent_gives_the_known_apy():
    # 1.01 ** 12 - 1 = 0.126825030131969720661201 exactly.
    assert yields.apr_to_apy(D("0.12"), 12) == D("0.126825030131969720661201")


def test_continuous_compounding_uses_the_exponential():
    # e ** 0.1 - 1 = 0.10517091807564762481...; ln(1.1) = 0.09531017980432486004...
    assert yields.apr_to_apy(D("0.1"), "continuous").quantize(D("1e-20")) == D("0.10517091807564762481")
    assert yields.apy_to_apr(D("0.1"), "continuous").quantize(D("1e-20")) == D("0.09531017980432486004")


def test_annual_compounding_leaves_the_rate_unchanged():
    assert yields.apr_to_apy(D("0.37"), 1) == D("0.37")
    assert yields.apy_to_apr(D("0.37"), 1) == D("0.37")


def test_apy_to_apr_inverts_monthly_compounding():
    assert close(yields.apy_to_apr(D("0.126825030131969720661201"), 12), D("0.12"), rel="1e-50")


@given(
    apr=st.integers(min_value=-900, max_value=100_000).map(lambda k: D(k) / D(1000)),
    periods=st.one_of(
        st.sampled_from([1, 2, 4, 12, 52, 365, 8760, 525_600]), st.integers(min_value=1, max_value=10**6)
    ),
)
@PROPERTY
def test_apr_to_apy_to_apr_round_trips_for_any_compounding(apr, periods):
    apy = yields.apr_to_apy(apr, periods)
    assert close(yields.apy_to_apr(apy, periods), apr, rel="1e-40", abs_="1e-45")


@given(apr=st.integers(min_value=-5000, max_value=100_000).map(lambda k: D(k) / D(1000)))
@PROPERTY
def test_apr_to_apy_to_apr_round_trips_with_continuous_compounding(apr):
    apy = yields.apr_to_apy(apr, "continuous")
    assert close(yields.apy_to_apr(apy, "continuous"), apr, rel="1e-45", abs_="1e-50")


@given(apr=st.integers(min_value=1, max_value=10_000).map(lambda k: D(k) / D(1000)))
@PROPERTY
def test_more_frequent_compounding_never_yields_less(apr):
    values = [yields.apr_to_apy(apr, n) for n in (1, 12, 365)] + [yields.apr_to_apy(apr, "continuous")]
    assert values == sorted(values)


@pytest.mark.parametrize("compounding", [0, -1, True, "daily", 1.5, None])
def test_invalid_compounding_is_rejected(compounding):
    with pytest.raises(InvalidParameter) as info:
        yields.apr_to_apy(D("0.1"), compounding)
    assert info.value.field == "compounding"


def test_impossible_rates_are_rejected():
    with pytest.raises(InvalidParameter) as info:
        yields.apy_to_apr(D(-1))
    assert info.value.field == "apy"
    with pytest.raises(InvalidParameter) as info:
        yields.apr_to_apy(D(-12), 12)
    assert info.value.field == "apr"
    with pytest.raises(InvalidParameter) as info:
        yields.apr_to_apy(0.1)  # floats are refused: no binary rounding of rates
    assert info.value.field == "apr"


# --------------------------------------------------------------------------------------------
# Base + reward APY (DeFiLlama convention)
# --------------------------------------------------------------------------------------------


def test_total_apy_adds_base_and_reward_like_defillama():
    assert yields.total_apy(D("3.25"), D("11.5")) == D("14.75")
    assert yields.total_apy(D("3.25"), None) == D("3.25")
    assert yields.total_apy(None, D("11.5")) == D("11.5")
    assert yields.total_apy(None, None) is None


# --------------------------------------------------------------------------------------------
# Annualisation and time-weighted returns
# --------------------------------------------------------------------------------------------


def test_a_year_of_ten_percent_annualises_to_ten_percent():
    assert close(yields.annualise_return(D("0.1"), 365), D("0.1"), rel="1e-50")


def test_a_month_is_compounded_to_a_year():
    expected = D("1.01") ** (D(365) / D(30)) - 1
    assert close(yields.annualise_return(D("0.01"), 30), expected, rel="1e-45")


def test_periods_shorter_than_a_day_are_not_annualised():
    assert yields.annualise_return(D("0.001"), D("0.5")) is None
    assert yields.annualise_return(D("0.001"), D("0.5"), min_days=D("0.25")) is not None
    with pytest.raises(InvalidParameter) as info:
        yields.annualise_return(D("0.001"), 0)
    assert info.value.field == "days"


def test_period_length_is_exact_to_the_microsecond():
    assert yields.period_days(T0, T0 + timedelta(days=1, hours=6)) == D("1.25")
    assert yields.period_days(T0, T0 + timedelta(microseconds=864)) == D("1e-8")


def test_time_weighted_return_without_cash_flows_is_the_value_change():
    result = yields.time_weighted_return([(T0, D(1000)), (day(365), D(1100))])
    assert result.time_weighted_return == D("0.1")
    assert result.profit == D(100)
    assert result.net_cash_flow == 0
    assert result.days == 365
    assert close(result.annualised_return, D("0.1"), rel="1e-50")
    assert result.annualised_simple == D("0.1")


def test_a_deposit_does_not_distort_the_time_weighted_return():
    # +10 % on 100, then 100 more deposited, then +10 % on 210: TWR = 1.1 * 1.1 - 1 = 21 %.
    result = yields.time_weighted_return(
        [(T0, D(100)), (day(10), D(110)), (day(20), D(231))],
        [(day(10), D(100))],
    )
    assert result.time_weighted_return == D("0.21")
    assert result.net_cash_flow == D(100)
    assert result.profit == D(31)  # 231 - 100 - 100
    assert close(result.annualised_return, D("1.21") ** (D(365) / D(20)) - 1, rel="1e-40")


def test_a_withdrawal_is_taken_out_of_the_next_sub_period():
    # 1000 -> 1200 (+20 %), withdraw 700 -> 500 invested -> 450 (-10 %): TWR = 1.2 * 0.9 - 1 = 8 %.
    result = yields.time_weighted_return(
        [(T0, D(1000)), (day(30), D(1200)), (day(60), D(450))],
        [(day(30), D(-700))],
    )
    assert result.time_weighted_return == D("0.08")
    assert result.profit == D(450) - D(1000) + D(700)


def test_a_position_can_start_from_an_initial_deposit():
    result = yields.time_weighted_return(
        [(T0, D(0)), (day(7), D(1050))],
        [(T0, D(1000))],
    )
    assert result.time_weighted_return == D("0.05")
    assert result.profit == D(50)
    assert result.start_value == 0 and result.end_value == D(1050)


def test_flows_at_the_last_observation_happen_after_the_final_valuation():
    with_exit = yields.time_weighted_return(
        [(T0, D(1000)), (day(10), D(1010))],
        [(day(10), D(-1010))],
    )
    assert with_exit.time_weighted_return == D("0.01")
    assert with_exit.profit == D(10)
    assert with_exit.net_cash_flow == 0


def test_empty_periods_before_the_first_deposit_are_skipped():
    result = yields.time_weighted_return(
        [(T0, D(0)), (day(5), D(0)), (day(15), D(505))],
        [(day(5), D(500))],
    )
    assert result.time_weighted_return == D("0.01")


def test_sub_day_series_report_a_return_but_no_annualised_yield():
    result = yields.time_weighted_return([(T0, D(1000)), (T0 + timedelta(hours=6), D(1001))])
    assert result.time_weighted_return == D("0.001")
    assert result.days == D("0.25")
    assert result.annualised_return is None
    assert result.annualised_simple is None
    exactly_a_day = yields.time_weighted_return([(T0, D(1000)), (day(1), D(1001))])
    assert exactly_a_day.annualised_return is not None


def test_observations_are_sorted_and_any_timezone_is_accepted():
    tokyo = timezone(timedelta(hours=9))
    result = yields.time_weighted_return(
        [(day(2).astimezone(tokyo), D(121)), (T0, D(100)), (day(1), D(110))],
    )
    assert result.start == T0
    assert result.time_weighted_return == D("0.21")


def test_a_total_loss_annualises_to_minus_one():
    result = yields.time_weighted_return([(T0, D(100)), (day(30), D(0))])
    assert result.time_weighted_return == -1
    assert result.annualised_return == -1


def test_naive_datetimes_are_rejected():
    naive = datetime(2025, 1, 1)
    with pytest.raises(InvalidParameter) as info:
        yields.time_weighted_return([(naive, D(1)), (naive + timedelta(days=1), D(2))])
    assert info.value.field == "observations"
    with pytest.raises(InvalidParameter) as info:
        yields.time_weighted_return([(T0, D(1)), (day(1), D(2))], [(naive, D(5))])
    assert info.value.field == "cash_flows"
    with pytest.raises(InvalidParameter) as info:
        yields.period_days(naive, T0)
    assert info.value.field == "start"


@pytest.mark.parametrize(
    ("observations", "flows", "field"),
    [
        ([(T0, D(1))], [], "observations"),  # a single observation
        ([(T0, D(1)), (T0, D(2))], [], "observations"),  # duplicate timestamps
        ([(T0, D(1)), (T0.astimezone(timezone(timedelta(hours=2))), D(2))], [], "observations"),  # same instant
        ([(T0, D(-1)), (day(1), D(2))], [], "observations"),  # negative value
        ([(T0, D(1)), (day(1), 2.0)], [], "observations"),  # float value
        ([(T0, D(0)), (day(1), D(5))], [], "observations"),  # value out of nothing
        (
            [(T0, D(100)), (day(1), D(100))],
            [(T0 + timedelta(hours=12), D(10))],
            "cash_flows",
        ),  # flow between valuations
        ([(T0, D(100)), (day(1), D(100))], [(T0, D(-150))], "cash_flows"),  # withdrawing more than held
        ([(T0, D(100)), (day(1), D(100))], [(T0, 1.5)], "cash_flows"),  # float flow
    ],
)
def test_invalid_series_name_the_offending_argument(observations, flows, field):
    with pytest.raises(InvalidParameter) as info:
        yields.time_weighted_return(observations, flows)
    assert info.value.field == field
