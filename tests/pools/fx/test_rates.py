"""pools.fx: exact conversion through the euro, rate validation, the refresh guard
and the in-memory look-up table (pure: no database)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pools.fx import (
    ECB_CURRENCIES,
    FxQuote,
    FxRateUnavailable,
    FxRejection,
    FxRejectReason,
    FxTable,
    convert,
    cross_rate,
    move_allowed,
    parse_rate,
    quote_from_text,
    round_for_display,
    screen_quotes,
)

D = Decimal
# Every rate the ECB could publish in the shape we store: 6 decimals at most.
rates = st.decimals(min_value=D("0.000001"), max_value=D("999999"), places=6, allow_nan=False, allow_infinity=False)
amounts = st.decimals(min_value=D("-1e15"), max_value=D("1e15"), places=18, allow_nan=False, allow_infinity=False)
# Stated tolerance: each conversion rounds once, at 40 significant digits, so a
# round trip is off by at most a few units of the 39th digit of the amount.
TOLERANCE = D("1e-38")


def close(a: Decimal, b: Decimal) -> bool:
    with localcontext(prec=100):  # the check itself must not round
        return abs(a - b) <= TOLERANCE * max(abs(a), abs(b), D("1e-18"))


def mul(a: Decimal, b: Decimal) -> Decimal:
    with localcontext(prec=100):
        return a * b


# --------------------------------------------------------------------------- conversion, by hand
def test_usd_to_gbp_on_2024_03_15_by_hand():
    # ECB 2024-03-15: 1 EUR = 1.0892 USD = 0.8541 GBP (0.85410 in the daily feed).
    # 1,000 USD = 1000 / 1.0892 EUR = 918.1050... EUR; x 0.8541 = 784.1535071612... GBP.
    gbp = convert(D(1000), rate_from=D("1.0892"), rate_to=D("0.85410"))
    assert str(gbp).startswith("784.15350716121924348145")
    assert round_for_display(gbp, "GBP") == D("784.15")
    assert cross_rate(D("1.0892"), D("0.8541")).quantize(D("1e-10")) == D("0.7841535072")


def test_eur_is_the_pivot():
    # 250 EUR at 1.0892 USD per EUR is exactly 272.30 USD; back again exactly 250.
    assert convert(D(250), rate_from=D(1), rate_to=D("1.0892")) == D("272.3000")
    assert convert(D("272.30"), rate_from=D("1.0892"), rate_to=D(1)) == D(250)


def test_same_rate_returns_the_amount_untouched():
    amount = D("0.000000000000000001")
    assert convert(amount, rate_from=D("1.0892"), rate_to=D("1.0892")) is amount


def test_convert_refuses_float_and_non_positive_rates():
    with pytest.raises(TypeError):
        convert(1000.0, rate_from=D(1), rate_to=D(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        convert(D(1), rate_from=D(0), rate_to=D(2))
    with pytest.raises(ValueError):
        cross_rate(D(-1), D(2))


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (D("784.1535071"), "GBP", D("784.15")),
        (D("0.125"), "USD", D("0.13")),  # half-up, as people expect on a statement
        (D("-0.125"), "USD", D("-0.13")),
        (D("17640.5"), "JPY", D("17641")),  # no minor unit
        (D("1234.5"), "krw", D("1235")),
    ],
)
def test_display_rounding_uses_the_currency_minor_unit(amount, currency, shown):
    assert round_for_display(amount, currency) == shown
    assert round_for_display(amount, currency).as_tuple().exponent == shown.as_tuple().exponent


# --------------------------------------------------------------------------- conversion, properties
@given(amount=amounts, rate_a=rates, rate_b=rates)
def test_round_trip_returns_the_amount_within_tolerance(amount, rate_a, rate_b):
    there = convert(amount, rate_from=rate_a, rate_to=rate_b)
    back = convert(there, rate_from=rate_b, rate_to=rate_a)
    assert close(back, amount)


@given(rate_a=rates, rate_b=rates, rate_c=rates)
def test_cross_rates_chain_consistently(rate_a, rate_b, rate_c):
    # A->B then B->C is A->C; A->B times B->A is one.
    assert close(mul(cross_rate(rate_a, rate_b), cross_rate(rate_b, rate_c)), cross_rate(rate_a, rate_c))
    assert close(mul(cross_rate(rate_a, rate_b), cross_rate(rate_b, rate_a)), D(1))


@given(amount=amounts, rate_a=rates, rate_b=rates)
def test_direct_conversion_equals_going_through_euros(amount, rate_a, rate_b):
    euros = convert(amount, rate_from=rate_a, rate_to=D(1))
    assert close(convert(euros, rate_from=D(1), rate_to=rate_b), convert(amount, rate_from=rate_a, rate_to=rate_b))


@given(a=amounts, b=amounts, rate_a=rates, rate_b=rates)
def test_conversion_is_additive(a, b, rate_a, rate_b):
    # Converting line by line and summing equals converting the sum (what a report relies on).
    with localcontext(prec=100):
        total = convert(a + b, rate_from=rate_a, rate_to=rate_b)
        parts = convert(a, rate_from=rate_a, rate_to=rate_b) + convert(b, rate_from=rate_a, rate_to=rate_b)
        assert abs(total - parts) <= TOLERANCE * (abs(a) + abs(b) + 1) * max(D(1), rate_b / rate_a)


# --------------------------------------------------------------------------- parsing published figures
@pytest.mark.parametrize("text", ["1.0892", "0.85410", "148.90", " 17011.02 ", "372816", "1E+2", "1.1234560"])
def test_published_figures_parse_exactly(text):
    assert parse_rate(text) == D(text.strip())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("NaN", FxRejectReason.BAD_RATE),
        ("Infinity", FxRejectReason.BAD_RATE),
        ("-1.0892", FxRejectReason.BAD_RATE),
        ("0", FxRejectReason.BAD_RATE),
        ("", FxRejectReason.BAD_RATE),
        ("1,0892", FxRejectReason.BAD_RATE),
        ("1.1234567", FxRejectReason.TOO_PRECISE),
        ("1e12", FxRejectReason.TOO_PRECISE),
    ],
)
def test_bad_figures_are_rejected_with_a_reason(text, reason):
    with pytest.raises(ValueError) as info:
        parse_rate(text)
    assert info.value.args[0] == reason
    rejected = quote_from_text("USD", date(2024, 3, 15), text)
    assert isinstance(rejected, FxRejection) and rejected.reason == reason


@pytest.mark.parametrize("code", ["XAU", "BTC", "EUR", "US", ""])
def test_codes_the_ecb_does_not_publish_are_rejected(code):
    rejected = quote_from_text(code, date(2024, 3, 15), "1.5")
    assert isinstance(rejected, FxRejection) and rejected.reason == FxRejectReason.UNKNOWN_CURRENCY


def test_known_codes_cover_today_and_the_historical_ones():
    today = {
        "USD",
        "JPY",
        "CZK",
        "DKK",
        "GBP",
        "HUF",
        "PLN",
        "RON",
        "SEK",
        "CHF",
        "ISK",
        "NOK",
        "TRY",
        "AUD",
        "BRL",
        "CAD",
        "CNY",
        "HKD",
        "IDR",
        "ILS",
        "INR",
        "KRW",
        "MXN",
        "MYR",
        "NZD",
        "PHP",
        "SGD",
        "THB",
        "ZAR",
    }  # the wheel's latest daily file (2026-10-30)
    gone = {"BGN", "CYP", "EEK", "HRK", "LTL", "LVL", "MTL", "ROL", "RUB", "SIT", "SKK", "TRL"}
    assert today | gone | {"EUR"} == ECB_CURRENCIES
    assert quote_from_text("gbp", date(2024, 3, 15), "0.85410") == FxQuote("GBP", date(2024, 3, 15), D("0.8541"))


# --------------------------------------------------------------------------- the refresh guard
FRI, MON, TUE = date(2024, 3, 15), date(2024, 3, 18), date(2024, 3, 19)


@pytest.mark.parametrize(
    ("new", "allowed"),
    [(D("1.5"), True), (D("1.500001"), False), (D("0.666667"), True), (D("0.666666"), False), (D(1), True)],
)
def test_a_move_of_more_than_half_either_way_is_not_allowed(new, allowed):
    assert move_allowed(D(1), new, D("0.5")) is allowed


def test_guard_accepts_a_normal_day_and_counts_stored_ones():
    stored = [FxQuote("USD", FRI, D("1.0892")), FxQuote("GBP", FRI, D("0.8541"))]
    batch = [FxQuote("USD", FRI, D("1.0892")), FxQuote("USD", MON, D("1.0892")), FxQuote("GBP", MON, D("0.85525"))]
    screen = screen_quotes(batch, stored=stored, latest_day=TUE)
    assert screen.new == [FxQuote("GBP", MON, D("0.85525")), FxQuote("USD", MON, D("1.0892"))]
    assert screen.unchanged == 1 and screen.rejections == []


def test_guard_rejects_a_jump_and_measures_the_next_day_from_the_last_good_rate():
    stored = [FxQuote("GBP", FRI, D("0.8541"))]
    batch = [FxQuote("GBP", MON, D("8.5525")), FxQuote("GBP", TUE, D("0.85445"))]  # a misplaced decimal point
    screen = screen_quotes(batch, stored=stored, latest_day=TUE)
    assert [r.reason for r in screen.rejections] == [FxRejectReason.MOVE_TOO_LARGE]
    assert "0.8541 on 2024-03-15" in screen.rejections[0].detail
    assert screen.new == [FxQuote("GBP", TUE, D("0.85445"))]


def test_guard_keeps_a_stored_rate_that_the_feed_contradicts():
    screen = screen_quotes(
        [FxQuote("USD", FRI, D("1.0900"))], stored=[FxQuote("USD", FRI, D("1.0892"))], latest_day=TUE
    )
    assert screen.new == [] and screen.rejections[0].reason == FxRejectReason.CONFLICTS_WITH_STORED


def test_guard_rejects_future_days_duplicates_and_unknown_codes():
    batch = [
        FxQuote("USD", TUE + timedelta(days=1), D("1.08")),
        FxQuote("USD", MON, D("1.0892")),
        FxQuote("USD", MON, D("1.0892")),
        FxQuote("XAU", MON, D("0.0005")),
    ]
    screen = screen_quotes(batch, stored=[], latest_day=TUE)
    assert screen.rejection_counts == {"future_day": 1, "duplicate": 1, "unknown_currency": 1}
    assert screen.new == [FxQuote("USD", MON, D("1.0892"))]  # no previous rate: accepted as published


@given(steps=st.lists(st.decimals(min_value=D("0.2"), max_value=D("3"), places=3), min_size=1, max_size=30))
def test_every_accepted_rate_is_within_the_limit_of_the_previous_accepted_one(steps):
    day, rate, batch = FRI, D(1), []
    for factor in steps:
        day += timedelta(days=1)
        rate = (rate * factor).quantize(D("1e-6"))
        assume(rate > 0)
        batch.append(FxQuote("USD", day, rate))
    screen = screen_quotes(batch, stored=[FxQuote("USD", FRI, D(1))], latest_day=day)
    previous = D(1)
    for q in screen.new:
        assert move_allowed(previous, q.rate, D("0.5"))
        previous = q.rate
    assert len(screen.new) + len(screen.rejections) == len(batch)


# --------------------------------------------------------------------------- the look-up table
def weekday_series(start: date, rates_: list[Decimal]) -> list[tuple[str, date, Decimal]]:
    """USD rates on consecutive business days from ``start`` (weekends skipped)."""
    rows, day = [], start
    for rate in rates_:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        rows.append(("USD", day, rate))
        day += timedelta(days=1)
    return rows


@given(
    start=st.dates(min_value=date(1999, 1, 4), max_value=date(2030, 1, 1)),
    series=st.lists(rates, min_size=6, max_size=30),
)
def test_weekend_lookups_return_fridays_rate(start, series):
    rows = weekday_series(start, series)
    table = FxTable(rows, start=rows[0][1], end=rows[-1][1] + timedelta(days=2))
    by_day = {d: r for _c, d, r in rows}
    for _c, day, rate in rows:
        if day.weekday() == 4:
            for weekend in (day + timedelta(days=1), day + timedelta(days=2)):
                assert table.rate_on("USD", weekend) == (rate, day)
        assert table.rate_on("USD", day) == (by_day[day], day)


def test_table_answers_euro_and_refuses_what_it_cannot_know():
    rows = [("USD", FRI, D("1.0892")), ("USD", MON, D("1.0892"))]
    table = FxTable(rows, start=FRI, end=TUE, max_age_days=7)
    assert table.rate_on("EUR", date(1990, 1, 1)) == (D(1), date(1990, 1, 1))
    assert table.rate_on("usd", TUE) == (D("1.0892"), MON)
    with pytest.raises(ValueError, match="outside"):
        table.rate_on("USD", TUE + timedelta(days=1))  # newer rates were not loaded
    with pytest.raises(FxRateUnavailable, match="no ECB rate is stored"):
        table.rate_on("GBP", TUE)
    with pytest.raises(FxRateUnavailable, match="publishes no reference rate"):
        table.rate_on("XAU", TUE)
    with pytest.raises(TypeError):
        table.rate_on("USD", datetime(2024, 3, 18, 23, 30))


def test_table_says_when_the_last_rate_is_too_old():
    table = FxTable(
        [("USD", date(2024, 3, 1), D("1.0834"))], start=date(2024, 3, 1), end=date(2024, 3, 31), max_age_days=7
    )
    assert table.rate_on("USD", date(2024, 3, 8)) == (D("1.0834"), date(2024, 3, 1))
    with pytest.raises(FxRateUnavailable) as info:
        table.rate_on("USD", date(2024, 3, 9))
    assert info.value.latest_day == date(2024, 3, 1)
    assert "latest ECB rate before it is from 2024-03-01" in str(info.value)


def test_table_conversion_names_both_rates_and_their_days():
    table = FxTable([("USD", FRI, D("1.0892")), ("GBP", FRI, D("0.8541"))], start=FRI, end=MON)
    result = table.convert(D(1000), "USD", "GBP", date(2024, 3, 16))  # a Saturday
    assert result.currency == "GBP" and round_for_display(result.amount, "GBP") == D("784.15")
    assert result.source.used_day == result.target.used_day == FRI
    assert result.source.is_fallback and result.source.day == date(2024, 3, 16)
    assert close(mul(result.rate, D("1.0892")), D("0.8541"))
