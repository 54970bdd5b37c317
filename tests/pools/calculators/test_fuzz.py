"""Whatever text arrives in the query string, the calculators answer with a result or a
named-field error, never an unexpected exception (which would be a 500)."""

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pools.calculators import inputs
from pools.calculators.inputs import InvalidParameter, InvalidParameters

numbers = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", " ", "1e999", "-0", "0.000001", "1000000", "1e-7", "2", "0.5", "1", "9" * 60]),
    st.text(max_size=12),
)
weights = st.one_of(st.lists(numbers, max_size=9).map(",".join), st.text(max_size=20))
EXPECTED = (InvalidParameter, InvalidParameters, ArithmeticError)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(list(inputs.MODEL_PARAMETERS) + ["", "x"]),
    price_ratio=numbers,
    raw=st.fixed_dictionaries(
        {"weights": weights, "lower": numbers, "upper": numbers, "amplification": numbers,
         "n_coins": st.one_of(numbers, st.sampled_from(["2", "3", "8"]))}
    ),
    days=numbers,
)
def test_any_input_gives_a_result_or_a_named_error(model, price_ratio, raw, days):
    try:
        pool = inputs.parse_pool_params(model, raw)
        ratio = inputs.parse_decimal(price_ratio, "price_ratio")
        result = inputs.impermanent_loss(pool, ratio)
        assert -1 < result.impermanent_loss <= 0
        period = inputs.parse_decimal(days, "days")
        assert inputs.break_even(pool, ratio, period, 365).apr_simple >= 0
    except InvalidParameter as exc:
        assert exc.field in {"model", "price_ratio", "weights", "lower", "upper", "amplification", "n_coins", "days"}
    except InvalidParameters as exc:
        assert exc.errors
    except ArithmeticError:  # ConvergenceError: the API answers 422
        pass


@settings(max_examples=200, deadline=None)
@given(rate=numbers, compounding=st.one_of(numbers, st.sampled_from(["continuous", "1", "365", "31536000"])),
       which=st.sampled_from(["apr", "apy"]))
def test_any_rate_converts_or_gives_a_named_error(rate, compounding, which):
    try:
        periods = inputs.parse_compounding(compounding)
        value = inputs.parse_decimal(rate, which)
        conversion = inputs.convert_rate(**{which: value}, compounding=periods)
        assert isinstance(conversion.apr, Decimal) and isinstance(conversion.apy, Decimal)
        inputs.decimal_str(conversion.apy)
    except InvalidParameter as exc:
        assert exc.field in {"apr", "apy", "compounds_per_year"}
