"""The tax files write money through config.formatting (one rule for rounding, minus
signs and missing values): plain in the CSV files, grouped in the PDF."""

from decimal import Decimal

from config.formatting import DASH
from portfolios.tax import exports

D = Decimal


def test_csv_money_is_plain_with_the_currencys_minor_units_rounded_half_up():
    assert exports.money(D("-1234.505")) == "-1234.51"  # half up, ASCII minus, no grouping
    assert exports.money(D("1234.504"), "USD") == "1234.50"
    assert exports.money(D("-0.004")) == "0.00"  # never "-0.00"
    assert exports.money(D("1234.5"), "JPY") == "1235"  # no minor unit
    assert exports.money("7") == "7.00"


def test_pdf_money_is_grouped_with_an_ascii_minus_and_no_symbol():
    assert exports.money_grouped(D("-1234.505")) == "-1,234.51"
    assert exports.money_grouped(D("1000000")) == "1,000,000.00"
    assert exports.money_grouped(D("98765.4"), "JPY") == "98,765"
    assert exports.money_grouped(None) == DASH
    # Below a cent, two significant digits instead of a misleading 0.00 (a token price).
    assert exports.money_grouped(D("0.0042")) == "0.0042"


def test_income_type_labels_are_the_ledgers():
    assert exports.INCOME_TYPE_LABELS["liquidity_mining"] == "Liquidity mining"
    assert exports.INCOME_TYPE_LABELS["other"] == "Other income"
    assert len(exports.INCOME_TYPE_LABELS) == 7
