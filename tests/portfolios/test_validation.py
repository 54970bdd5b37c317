"""The shared input validator (pure): numbers, moments, undecodable bytes, CSV-safe cells."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolios.validation import (
    InputProblem,
    check_moment,
    check_number,
    csv_safe_cell,
    decode_csv,
    parse_number,
    undecodable_cell,
    undecodable_message,
)

D = Decimal
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


@pytest.mark.parametrize("text, what, negative, expected", [
    ("1.5", "quantity", True, D("1.5")),
    ("-1.5", "quantity", True, D("-1.5")),
    ("1e-18", "quantity", True, D("1e-18")),
    ("999999999999999999999999999999.999999999999999999", "quantity", True,
     D("999999999999999999999999999999.999999999999999999")),  # 30 + 18 digits: the column's widest
    ("99999999999999999999", "fiat", False, D("99999999999999999999")),  # 20 digits
    ("1.50000000000000000000000", "quantity", True, D("1.50000000000000000000000")),  # trailing zeros are exact
])
def test_numbers_the_ledger_can_hold_pass_unchanged(text, what, negative, expected):
    assert parse_number(text, "f", what=what, negative=negative) == expected


@pytest.mark.parametrize("text, what, negative, message", [
    ("-1", "quantity", False, "-1 cannot be negative"),
    ("1e30", "quantity", True, "1E+30 is too large: at most 30 digits before the decimal point"),
    ("1e20", "fiat", True, "1E+20 is too large: at most 20 digits before the decimal point"),
    ("1e400", "quantity", True, "too large"),
    ("9" * 60, "quantity", True, "too large"),
    ("1" * 81, "quantity", True, "is too long to be a number (81 characters)"),
    ("0.0000000000000000001", "quantity", True, "has more than 18 decimal places"),
    ("NaN", "quantity", True, "is not a finite number"),
    ("Infinity", "fiat", True, "is not a finite number"),
    ("1,5", "quantity", True, "use '.' as the decimal point"),
    ("one", "quantity", True, "'one' is not a number"),
    ("", "quantity", True, "is required"),
])
def test_numbers_beyond_what_the_ledger_holds_are_refused_with_a_reason(text, what, negative, message):
    with pytest.raises(InputProblem) as caught:
        parse_number(text, "quantity", what=what, negative=negative)
    assert message in caught.value.message and caught.value.field == "quantity"


def test_check_number_refuses_floats():
    with pytest.raises(InputProblem):
        check_number(1.5, "x")  # type: ignore[arg-type]


@pytest.mark.parametrize("moment", [
    datetime(2009, 1, 3, tzinfo=UTC),
    datetime(2024, 5, 1, 13, 45, tzinfo=timezone(timedelta(hours=-8))),
    NOW + timedelta(hours=23),
])
def test_moments_from_the_first_block_to_a_day_ahead_pass(moment):
    assert check_moment(moment, "occurred_at", now=NOW) == moment


@pytest.mark.parametrize("moment, message", [
    (datetime(2009, 1, 2, 23, 59, tzinfo=UTC), "2009-01-02 is before 2009-01-03, the first block of Bitcoin"),
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), "0001-01-01 is before 2009-01-03"),
    (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01 is before 2009-01-03"),
    (NOW + timedelta(days=1, seconds=1), "2026-12-08 is in the future"),
    (datetime(2024, 1, 1), "has no time zone"),
])
def test_moments_out_of_range_are_refused(moment, message):
    with pytest.raises(InputProblem) as caught:
        check_moment(moment, "occurred_at", now=NOW)
    assert message in caught.value.message


def test_undecodable_bytes_are_found_in_their_cell():
    text = decode_csv(b"\xef\xbb\xbfa,b\n1,caf\xe9\n")
    assert text.startswith("a,b")  # the byte-order mark is dropped
    row = dict(zip(["a", "b"], text.splitlines()[1].split(","), strict=True))
    assert undecodable_cell(row) == "b"
    assert undecodable_message(row["b"]) == "is not UTF-8 text (byte 0xE9): save the file as CSV (UTF-8)"
    assert undecodable_cell({"a": "café"}) is None


@pytest.mark.parametrize("cell, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("-12.5", "-12.5"),
    ("+3", "+3"),
    ("-1E-7", "-1E-7"),
    ("ETH", "ETH"),
    ("", ""),
    (D("-1.5"), D("-1.5")),
])
def test_csv_cells_that_start_a_formula_are_neutralised_and_numbers_are_not(cell, expected):
    assert csv_safe_cell(cell) == expected


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_a_number_written_as_text_is_never_changed(value):
    text = format(value, "f")
    assert csv_safe_cell(text) == text


@given(st.text())
def test_no_safe_cell_starts_a_formula_unless_it_is_a_number(text):
    safe = csv_safe_cell(text)
    if safe != text:
        assert safe == "'" + text
    elif text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        assert Decimal(text).is_finite()
