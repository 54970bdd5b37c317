"""Parsing, caps and formatting shared by the calculator pages and API (pure, no database)."""

from decimal import Decimal

import pytest

from pools.calculators import inputs
from pools.calculators.inputs import InvalidParameter, InvalidParameters


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("-0.0571909584179366341322"), "-0.057190958417936634132"),
        (Decimal("1.5000"), "1.5"),
        (Decimal("100"), "100"),
        (Decimal("0E-59"), "0"),
        (Decimal("-1.25E-30"), "-1.25E-30"),
        (Decimal("1.97007111401704699388887935224E+434"), "1.9700711140170469939E+434"),
    ],
)
def test_results_are_decimal_strings_with_twenty_significant_digits(value, expected):
    assert inputs.decimal_str(value) == expected


@pytest.mark.parametrize(
    ("raw", "field", "message_part"),
    [
        ("", "price_ratio", "required"),
        ("abc", "price_ratio", "Enter a number"),
        ("nan", "price_ratio", "finite"),
        ("-Infinity", "price_ratio", "finite"),
        ("0", "price_ratio", "greater than 0"),
        ("1e999", "price_ratio", "at most 1000000"),
        ("1e-9", "price_ratio", "at least 0.000001"),
        ("1" * 51, "price_ratio", "Too long"),
        ("3651", "days", "at most 3650"),
        ("-1", "apr", "greater than -1"),
    ],
)
def test_bad_numbers_raise_an_error_naming_the_field(raw, field, message_part):
    with pytest.raises(InvalidParameter) as exc:
        inputs.parse_decimal(raw, field)
    assert exc.value.field == field
    assert message_part in exc.value.message


def test_percent_inputs_become_fractions_and_show_bounds_in_percent():
    assert inputs.parse_decimal("12", "apr", scale=Decimal(100), unit=" %") == Decimal("0.12")
    with pytest.raises(InvalidParameter, match="greater than -100 %"):
        inputs.parse_decimal("-100", "apr", scale=Decimal(100), unit=" %")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", 365), (None, 365), ("1", 1), ("12", 12), (" continuous ", "continuous"), ("CONTINUOUS", "continuous")],
)
def test_compounding_is_a_positive_integer_or_continuous(raw, expected):
    assert inputs.parse_compounding(raw) == expected


@pytest.mark.parametrize("raw", ["0", "-1", "1.5", "daily", "1e3", "31536001"])
def test_bad_compounding_is_refused(raw):
    with pytest.raises(InvalidParameter) as exc:
        inputs.parse_compounding(raw)
    assert exc.value.field == "compounds_per_year"


def test_only_the_chosen_models_parameters_are_read():
    pool = inputs.parse_pool_params("constant_product", {"lower": "garbage", "weights": "x"})
    assert pool == inputs.PoolParams(model="constant_product")


def test_pool_parameter_errors_are_reported_together():
    with pytest.raises(InvalidParameters) as exc:
        inputs.parse_pool_params("concentrated", {"lower": "abc"})
    assert set(exc.value.errors) == {"lower", "upper"}


def test_stableswap_defaults_to_two_coins():
    pool = inputs.parse_pool_params("stableswap", {"amplification": "100"})
    assert pool.n_coins == 2
    assert pool.library_kwargs() == {"amplification": Decimal(100), "n_coins": 2}


def test_the_curve_grid_has_200_log_spaced_ratios_from_a_tenth_to_ten():
    ratios = inputs.curve_ratios()
    assert len(ratios) == 200
    assert ratios[0] == Decimal("0.1") and ratios[-1] == Decimal(10)
    assert ratios == sorted(set(ratios))
    # log-spaced: the middle of the grid sits at 1
    assert Decimal("0.97") < ratios[99] < Decimal(1) < ratios[100] < Decimal("1.03")


@pytest.mark.parametrize(("ratio", "lo", "hi"), [(Decimal(50), Decimal("0.1"), Decimal(50)),
                                                 (Decimal("0.01"), Decimal("0.01"), Decimal(10))])
def test_the_curve_grid_widens_to_include_the_current_ratio(ratio, lo, hi):
    ratios = inputs.curve_ratios(ratio)
    assert (len(ratios), ratios[0], ratios[-1]) == (200, lo, hi)


def test_exactly_one_rate_must_be_given():
    with pytest.raises(InvalidParameters):
        inputs.convert_rate(compounding=365)
    with pytest.raises(InvalidParameters):
        inputs.convert_rate(apr=Decimal("0.1"), apy=Decimal("0.1"), compounding=365)
