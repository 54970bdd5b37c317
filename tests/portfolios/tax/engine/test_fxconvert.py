"""The report's converter (pure): the same figures as ``pools.fx`` for any value, every
rate it used recorded with its day, weekends on the last business day's rate."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pools.fx import FxRateUnavailable, FxTable
from portfolios.tax.fxconvert import FxUsage, LedgerConverter

D = Decimal
# ECB figures (units per EUR), Thursday 6 and Friday 7 June 2024, as published.
ROWS = [("USD", date(2024, 6, 6), D("1.0865")), ("GBP", date(2024, 6, 6), D("0.85088")),
        ("USD", date(2024, 6, 7), D("1.0898")), ("GBP", date(2024, 6, 7), D("0.8512"))]


def _converter() -> LedgerConverter:
    table = FxTable(ROWS, start=date(2024, 6, 6), end=date(2024, 6, 10))
    return LedgerConverter(table, FxUsage("GBP", "Europe/London"))


@given(st.decimals(min_value=0, max_value=D("1e20"), places=18, allow_nan=False, allow_infinity=False),
       st.sampled_from([datetime(2024, 6, 6, 12, tzinfo=UTC), datetime(2024, 6, 8, 9, tzinfo=UTC)]))
def test_any_value_converts_as_pools_fx_does(value, moment):
    convert = _converter()
    table = FxTable(ROWS, start=date(2024, 6, 6), end=date(2024, 6, 10))
    assert convert(value, "USD", moment) == table.convert(value, "USD", "GBP", moment.date()).amount
    assert convert(value, "GBP", moment) == value  # already in the report's currency


def test_a_saturday_uses_friday_s_rates_and_says_so():
    convert = _converter()
    saturday = datetime(2024, 6, 8, 12, tzinfo=UTC)
    # 1000 USD x 0.8512 / 1.0898 = 781.0607450908423563956689300789135621215 GBP
    assert convert(D("1000"), "USD", saturday) == D("781.0607450908423563956689300789135621215")
    convert(D("5"), "USD", saturday)
    (row,) = convert.usage.rows()
    assert (row["day"], row["rate_day"], row["fallback"], row["legs"]) == ("2024-06-08", "2024-06-07", True, 2)
    assert convert.usage.converted_legs == 2


def test_the_day_is_the_report_s_local_date():
    convert = _converter()
    late = datetime(2024, 6, 6, 23, 30, tzinfo=UTC)  # already Friday 7 June in London (BST)
    convert(D("1"), "USD", late)
    assert [r["day"] for r in convert.usage.rows()] == ["2024-06-07"]


def test_no_rate_raises_naming_currency_and_day():
    convert = LedgerConverter(FxTable([], start=date(2024, 6, 6), end=date(2024, 6, 10)), FxUsage("GBP", "UTC"))
    with pytest.raises(FxRateUnavailable, match="No USD exchange rate for 2024-06-07"):
        convert(D("1"), "USD", datetime(2024, 6, 7, 12, tzinfo=UTC))


def test_the_figures_above_are_the_ecb_s():
    from tests.ecb_file import ecb_rate

    assert all(ecb_rate(code, day) == rate for code, day, rate in ROWS)
