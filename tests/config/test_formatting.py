"""config.formatting: one rule for missing values, minus signs and rounding; money names
its currency. Expected strings are written out by hand."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.charts import bar_chart
from config.formatting import (
    DASH,
    MINUS,
    minor_units,
    money,
    money_compact,
    money_plain,
    normalize_decimal,
    percent,
    plain_number,
    price,
    quantity,
    ratio_percent,
    to_decimal,
)
from pools.templatetags import pools_tags
from portfolios.templatetags import portfolio_format

D = Decimal
finite = st.decimals(allow_nan=False, allow_infinity=False, min_value=D("-1e15"), max_value=D("1e15"), places=8)


@pytest.mark.parametrize("missing", [None, "", "n/a", "NaN", float("inf"), True])
def test_a_missing_value_is_a_dash_everywhere(missing):
    for fmt in (money, money_compact, price, quantity, percent, ratio_percent):
        assert fmt(missing) == DASH == "—"
    assert money_plain(missing) == plain_number(missing) == ""


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (D("-1234.5"), "USD", "−$1,234.50"),
        (D("1234.5"), "EUR", "€1,234.50"),
        (D("0.5"), "GBP", "£0.50"),
        (D("1234.5"), "JPY", "¥1,235"),  # no minor unit
        (D("-1234.4"), "JPY", "−¥1,234"),
        (D("12"), "CHF", "CHF 12.00"),  # no symbol of its own: the code
        (D("1234.5"), "KRW", "KRW 1,235"),
        (D("2.005"), "USD", "$2.01"),  # half up, not half even
        (D("2.004"), "USD", "$2.00"),
        (D("0"), "USD", "$0.00"),
        (D("0.0042"), "USD", "$0.0042"),  # under a cent: two significant digits
        (D("-0.0042"), "USD", "−$0.0042"),
        (D("0.0000001"), "USD", "<$0.000001"),
        (12, "usd", "$12.00"),
        ("1e3", "USD", "$1,000.00"),
    ],
)
def test_money(value, currency, text):
    assert money(value, currency) == text


def test_money_options():
    assert money(D("5"), signed=True) == "+$5.00"
    assert money(D("-5"), signed=True) == "−$5.00"
    assert money(D("0.001"), signed=True) == "+$0.001"
    assert money(D("-1234.5"), symbol=False) == "−1,234.50"
    assert money(D("-1234.5"), minus="-") == "-$1,234.50"  # fonts without U+2212 (the PDF)
    assert money(D("1.23456"), places=4) == "$1.2346"
    assert minor_units("jpy") == 0 and minor_units("EUR") == 2


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("1234567890"), "$1.2bn"),
        (D("45600000"), "$45.6M"),
        (D("789000"), "$789.0k"),
        (D("-1500"), "−$1.5k"),
        (D("512.3"), "$512.30"),
        (D("999.996"), "$1.0k"),  # rounds to a thousand: shown as one
    ],
)
def test_money_compact(value, text):
    assert money_compact(value) == text


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (D("-1234.5"), "USD", "-1234.50"),
        (D("-0.001"), "USD", "0.00"),  # never "-0.00"
        (D("1234.5"), "JPY", "1235"),
        (D("0.125"), "EUR", "0.13"),
    ],
)
def test_money_plain_for_files(value, currency, text):
    assert money_plain(value, currency) == text


def test_price():
    assert price(D("3012.456")) == "$3,012.46"
    assert price(D("0.000123456789")) == "$0.000123457"
    assert price(D("0")) == "$0.00"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("1234.5"), "1,234.5"),
        (D("1234.567"), "1,234.57"),
        (D("2.1234567"), "2.123457"),
        (D("0.000123"), "0.000123"),
        (D("1E-12"), "1e-12"),  # what rounds to zero keeps three significant digits
        (D("-2"), "−2"),
        (D("0E-18"), "0"),
        (D("1.0000001"), "1"),
    ],
)
def test_quantity(value, text):
    assert quantity(value) == text


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (D("5"), 2, "5.00%"),
        (D("5.125"), 2, "5.13%"),  # half up
        (D("-0.5"), 2, "−0.50%"),
        (D("-0.001"), 2, "0.00%"),  # rounds to zero: no sign
        (D("99.5"), 0, "100%"),
        (D("1234.5"), 1, "1,234.5%"),
    ],
)
def test_percent(value, places, text):
    assert percent(value, places) == text


def test_ratio_percent():
    assert ratio_percent(D("-0.0572")) == "−5.72%"
    assert ratio_percent(D("0.35"), 0) == "35%"
    assert percent(D("3"), signed=True) == "+3.00%"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("2000.000000000000000000"), "2000"),
        (D("1.50"), "1.5"),
        (D("-0"), "0"),
        (D("1E+29"), "1" + "0" * 29),
        (D("0.000000000000000001"), "0.000000000000000001"),
        (D("-12.340"), "-12.34"),
        # 48 significant digits (the quantity column): none is lost to the default 28-digit context.
        (D("123456789012345678901234567890.123456789012345678"), "123456789012345678901234567890.123456789012345678"),
    ],
)
def test_plain_number(value, text):
    assert plain_number(value) == text
    assert normalize_decimal(value) == value and "E" not in str(normalize_decimal(value)).replace("E-", "")


def test_to_decimal():
    assert to_decimal(1.5) == D("1.5")  # a float from SQLite goes through its str
    assert to_decimal(" 2 ") == D("2") and to_decimal(D("sNaN")) is None and to_decimal(False) is None


@given(finite)
def test_display_text_never_uses_the_ascii_hyphen_as_a_minus(value):
    for text in (money(value), money_compact(value), quantity(value), percent(value)):
        assert "-" not in text.replace("e-", "")  # only scientific exponents
        if value >= 0:
            assert not text.startswith(MINUS)


@given(finite)
def test_money_is_the_half_up_rounded_value(value):
    cents = value.quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert money_plain(value) == str(abs(cents) if cents == 0 else cents)
    if abs(value) >= D("0.01"):
        shown = money(value).replace("$", "").replace(",", "").replace(MINUS, "-")
        assert D(shown) == cents


@given(st.decimals(allow_nan=False, allow_infinity=False, places=18, min_value=D("-1e30"), max_value=D("1e30")))
def test_plain_numbers_read_back_as_the_same_number(value):
    assert D(plain_number(value)) == value


def test_the_pool_and_portfolio_pages_and_the_charts_follow_the_same_rules():
    assert pools_tags.pct(None) == portfolio_format.pct(None) == DASH
    assert pools_tags.pct(D("-5.125")) == portfolio_format.pct(D("-5.125")) == "−5.13%"
    assert pools_tags.usd(D("-400000")) == "−$400.0k"
    assert portfolio_format.usd(D("-400000")) == "−$400,000.00"
    assert portfolio_format.money(D("1234.5"), "EUR") == "€1,234.50"
    assert pools_tags.price(D("0.5")) == "$0.5"
    svg = bar_chart([("Loss", D("-50"))])
    assert "−$50.00" in svg
