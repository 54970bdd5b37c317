"""Concentrated liquidity (pools.amm.concentrated): real-number formulas, TickMath and
LiquidityAmounts checked against Uniswap's own values, and properties."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction
from math import isqrt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pools import amm
from pools.amm import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    Q96,
    InvalidParameter,
)
from tests.pools.amm._support import (
    PROPERTY,
    TINY,
    D,
    close,
    range_strategy,
    ratios,
)


def test_concentrated_position_inside_its_range_matches_the_closed_form():
    # lower = 1/4, upper = 4, r = 2.25: value ∝ 2*1.5 - 0.5 - 2.25*0.5 = 1.375,
    # hodl ∝ 2.25 + 1 - 0.5 - 2.25*0.5 = 1.625, so IL = 11/13 - 1 = -2/13.
    result = amm.impermanent_loss_for("concentrated", D("2.25"), lower=D("0.25"), upper=D(4))
    assert close(result.impermanent_loss, D(-2) / D(13))
    assert result.in_range is True


def test_concentrated_position_above_its_range_holds_only_token1():
    # L = 1: entry amounts 0.5 / 0.5; above the range it holds L*(2 - 0.5) = 1.5 token1.
    lp, hodl, in_range = amm.concentrated_value_after_price_move(D(9), D("0.25"), D(4))
    assert close(lp, D("1.5")) and close(hodl, D(5)) and in_range is False
    result = amm.impermanent_loss_for("concentrated", D(9), lower=D("0.25"), upper=D(4))
    assert close(result.impermanent_loss, D("-0.7"))


def test_concentrated_position_below_its_range_holds_only_token0():
    result = amm.impermanent_loss_for("concentrated", D(1) / D(9), lower=D("0.25"), upper=D(4))
    assert close(result.impermanent_loss, D("-0.7"), rel="1e-50")
    assert result.in_range is False


def test_range_status_follows_uniswap_active_tick_rule():
    assert amm.range_status(D("0.99"), D(1), D(2)) == "below"
    assert amm.range_status(D(1), D(1), D(2)) == "in_range"
    assert amm.range_status(D("1.5"), D(1), D(2)) == "in_range"
    assert amm.range_status(D(2), D(1), D(2)) == "above"


def test_bound_distances_are_signed_relative_moves_and_ticks():
    distances = amm.range_bound_distances(D(2000), D(1500), D(2500))
    assert distances.to_lower == D("-0.25")
    assert distances.to_upper == D("0.25")
    # 1.0001 ** ticks_to_upper == 1.25
    with localcontext() as ctx:
        ctx.prec = 60
        assert close((distances.ticks_to_upper * D("1.0001").ln()).exp(), D("1.25"), rel="1e-45")
        assert close((distances.ticks_to_lower * D("1.0001").ln()).exp(), D("0.75"), rel="1e-45")


def test_real_liquidity_and_amounts_round_trip_inside_the_range():
    sp, sa, sb = D(1), D("0.9"), D("1.1")
    liquidity = amm.get_liquidity_for_amounts(sp, sa, sb, D(100), D(200))
    a0, a1 = amm.get_amounts_for_liquidity(sp, sa, sb, liquidity)
    # The binding token is used in full, the other one up to its requirement.
    assert close(a0, D(100)) or close(a1, D(200))
    assert a0 <= D(100) * (1 + D("1e-50")) and a1 <= D(200) * (1 + D("1e-50"))
    # Bounds may be given in either order, as in Uniswap.
    assert amm.get_liquidity_for_amounts(sp, sb, sa, D(100), D(200)) == liquidity
    assert amm.position_amounts(D(1), D("0.81"), D("1.21"), liquidity) == (a0, a1)


@given(
    price=st.integers(min_value=1, max_value=4000).map(lambda k: D(k) / D(1000)),
    lower=st.integers(min_value=1, max_value=1999).map(lambda k: D(k) / D(1000)),
    width=st.integers(min_value=1, max_value=2000).map(lambda k: D(k) / D(1000)),
    amount0=st.integers(min_value=1, max_value=10**9).map(D),
    amount1=st.integers(min_value=1, max_value=10**9).map(D),
)
@PROPERTY
def test_liquidity_from_amounts_never_needs_more_than_was_given(price, lower, width, amount0, amount1):
    upper = lower + width
    liquidity = amm.position_liquidity(price, lower, upper, amount0, amount1)
    a0, a1 = amm.position_amounts(price, lower, upper, liquidity)
    slack = D(1) + D("1e-45")
    assert a0 <= amount0 * slack and a1 <= amount1 * slack
    # ... and uses one of the two tokens completely (that is what "maximum liquidity" means).
    assert close(a0, amount0, rel="1e-45") or close(a1, amount1, rel="1e-45")


# Uniswap v3-core test/__snapshots__/TickMath.spec.ts.snap, "#getSqrtRatioAtTick tick N result".
SQRT_RATIO_AT_TICK = [
    (0, 79228162514264337593543950336),
    (MIN_TICK, 4295128739),
    (MAX_TICK, 1461446703485210103287273052203988822378723970342),
    (MIN_TICK + 1, 4295343490),
    (MAX_TICK - 1, 1461373636630004318706518188784493106690254656249),
    (-50, 79030349367926598376800521322),
    (50, 79426470787362580746886972461),
    (-100, 78833030112140176575862854579),
    (100, 79625275426524748796330556128),
    (-250, 78244023372248365697264290337),
    (250, 80224679980005306637834519095),
    (-500, 77272108795590369356373805297),
    (500, 81233731461783161732293370115),
    (-1000, 75364347830767020784054125655),
    (1000, 83290069058676223003182343270),
    (-2500, 69919044979842180277688105136),
    (2500, 89776708723587163891445672585),
    (-3000, 68192822843687888778582228483),
    (3000, 92049301871182272007977902845),
    (-4000, 64867181785621769311890333195),
    (4000, 96768528593268422080558758223),
    (-5000, 61703726247759831737814779831),
    (5000, 101729702841318637793976746270),
    (-50000, 6504256538020985011912221507),
    (50000, 965075977353221155028623082916),
    (-150000, 43836292794701720435367485),
    (150000, 143194173941309278083010301478497),
    (-250000, 295440463448801648376846),
    (250000, 21246587762933397357449903968194344),
    (-500000, 1101692437043807371),
    (500000, 5697689776495288729098254600827762987878),
    (-738203, 7409801140451),
    (738203, 847134979253254120489401328389043031315994541),
]

# Same snapshot, "#getTickAtSqrtRatio ratio N result".
TICK_AT_SQRT_RATIO = [
    (MIN_SQRT_RATIO, MIN_TICK),
    (79228162514264337593543, -276325),
    (79228162514264337593543950, -138163),
    (9903520314283042199192993792, -41591),
    (28011385487393069959365969113, -20796),
    (56022770974786139918731938227, -6932),
    (79228162514264337593543950336, 0),
    (112045541949572279837463876454, 6931),
    (224091083899144559674927752909, 20795),
    (633825300114114700748351602688, 41590),
    (79228162514264337593543950336000, 138162),
    (79228162514264337593543950336000000, 276324),
    (MAX_SQRT_RATIO - 1, MAX_TICK - 1),
]


@pytest.mark.parametrize(("tick", "expected"), SQRT_RATIO_AT_TICK)
def test_sqrt_ratio_at_tick_matches_uniswap(tick, expected):
    assert amm.get_sqrt_ratio_at_tick(tick) == expected


def tick_math_tolerance(tick: int) -> Decimal:
    """Relative accuracy of TickMath: it multiplies Q128.128 numbers for |tick| (rounding each product
    down, a few units in the last place) and inverts for positive ticks, so the relative error is about
    20 units of 2**-128 relative to sqrt(1.0001 ** -|tick|), i.e. up to ~1e-18 near the tick limits."""
    with localcontext() as ctx:
        ctx.prec = 100
        q128_value = (D("1.0001") ** -abs(tick)).sqrt() * D(2**128)
        return D(64) / q128_value + D("1e-36")


@pytest.mark.parametrize(("tick", "expected"), SQRT_RATIO_AT_TICK)
def test_sqrt_ratio_at_tick_agrees_with_an_independent_high_precision_sqrt(tick, expected):
    # Independent check of the reference table: sqrt(1.0001 ** tick) * 2**96 at 100 digits, to
    # TickMath's own accuracy plus the final round-up to an integer.
    with localcontext() as ctx:
        ctx.prec = 100
        exact = (D("1.0001") ** tick).sqrt() * Q96
        assert abs(D(expected) - exact) <= 1 + exact * tick_math_tolerance(tick)


@pytest.mark.parametrize(("ratio", "expected"), TICK_AT_SQRT_RATIO)
def test_tick_at_sqrt_ratio_matches_uniswap(ratio, expected):
    assert amm.get_tick_at_sqrt_ratio(ratio) == expected
    # Independently: the greatest tick t with getSqrtRatioAtTick(t) <= ratio.
    assert amm.get_sqrt_ratio_at_tick(expected) <= ratio
    if expected < MAX_TICK:
        assert amm.get_sqrt_ratio_at_tick(expected + 1) > ratio


ROUND_TRIP_TICKS = [
    MIN_TICK,
    MIN_TICK + 1,
    -443636,
    -200000,
    -69082,
    -1,
    0,
    1,
    2,
    60,
    69081,
    200000,
    443636,
    MAX_TICK - 1,
]


@pytest.mark.parametrize("tick", ROUND_TRIP_TICKS)
def test_tick_survives_a_round_trip_through_its_sqrt_ratio(tick):
    ratio = amm.get_sqrt_ratio_at_tick(tick)
    assert amm.get_tick_at_sqrt_ratio(ratio) == tick
    if tick > MIN_TICK:
        assert amm.get_tick_at_sqrt_ratio(ratio - 1) == tick - 1


@given(st.integers(min_value=MIN_TICK, max_value=MAX_TICK - 1))
@PROPERTY
def test_every_tick_survives_a_round_trip(tick):
    ratio = amm.get_sqrt_ratio_at_tick(tick)
    assert amm.get_tick_at_sqrt_ratio(ratio) == tick
    assert amm.get_sqrt_ratio_at_tick(tick + 1) > ratio


def test_tick_zero_is_price_one():
    assert amm.get_sqrt_ratio_at_tick(0) == 2**96 == Q96
    assert amm.tick_to_price(0) == 1
    assert amm.price_to_tick(1) == 0
    assert amm.tick_to_sqrt_price(0) == 1
    assert amm.sqrt_price_x96_to_price(Q96) == 1
    assert amm.price_to_sqrt_price_x96(1) == Q96
    assert amm.tick_to_price(1) == D("1.0001")
    assert amm.price_to_tick(D("1.0001")) == 1
    assert amm.price_to_tick(D("1.00009999")) == 0
    # 1.0001 ** -1 = 0.99990000999... is above 0.9999, so 0.9999 lies in tick -2.
    assert amm.price_to_tick(D(1) / D("1.0001")) == -1
    assert amm.price_to_tick(D("0.9999")) == -2


@pytest.mark.parametrize("tick", [MIN_TICK, -276325, -1, 0, 1, 6931, 200000, MAX_TICK])
def test_price_to_tick_inverts_tick_to_price(tick):
    assert amm.price_to_tick(amm.tick_to_price(tick)) == tick
    assert amm.price_to_tick(amm.tick_to_price(tick, 6, 18), 6, 18) == tick


def test_token_decimals_scale_tick_prices():
    # USDC (6 decimals) as token0, WETH (18) as token1: human price = raw * 10**(6 - 18).
    assert amm.tick_to_price(0, 6, 18) == D("1e-12")
    assert amm.sqrt_price_x96_to_price(Q96, 18, 6) == D("1e12")


@pytest.mark.parametrize("tick", [MIN_TICK, -50000, -1, 1, 50000, MAX_TICK])
def test_real_tick_price_is_consistent_with_the_integer_sqrt_ratio(tick):
    sqrt_ratio = amm.get_sqrt_ratio_at_tick(tick)
    price = amm.sqrt_price_x96_to_price(sqrt_ratio)
    exact = amm.tick_to_price(tick)
    # The Q96 value is an integer (relative error up to 1 / sqrtPriceX96, doubled by squaring) and
    # TickMath is accurate to tick_math_tolerance (doubled by squaring).
    tolerance = D(4) / D(sqrt_ratio) + 2 * tick_math_tolerance(tick)
    assert abs(price / exact - 1) <= tolerance
    assert abs(amm.price_to_sqrt_price_x96(exact) - sqrt_ratio) <= 1 + D(sqrt_ratio) * tick_math_tolerance(tick)


def test_tick_math_rejects_out_of_range_input():
    for bad in (MIN_TICK - 1, MAX_TICK + 1):
        with pytest.raises(InvalidParameter) as info:
            amm.get_sqrt_ratio_at_tick(bad)
        assert info.value.field == "tick"
    for bad in (MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO, 0):
        with pytest.raises(InvalidParameter) as info:
            amm.get_tick_at_sqrt_ratio(bad)
        assert info.value.field == "sqrt_price_x96"
    with pytest.raises(InvalidParameter):
        amm.get_sqrt_ratio_at_tick(1.0)  # type: ignore[arg-type]


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """Uniswap's test helper encodePriceSqrt: floor(sqrt(reserve1 / reserve0) * 2**96), exactly."""
    return isqrt((reserve1 << 192) // reserve0)


SQRT_A = encode_price_sqrt(100, 110)
SQRT_B = encode_price_sqrt(110, 100)

# From Uniswap v3-periphery test/LiquidityAmounts.spec.ts (amounts 100 / 200, range 100/110 .. 110/100).
# Each expectation was re-derived by hand from the real-number formulas (see the comments) and is
# also checked against an independent Fraction computation in the test below.
LIQUIDITY_FOR_AMOUNTS = [
    # price inside: min(100 * 1 * 1.0488088/0.0488088, 200/0.0465374) = min(2148.8, 4297.6)
    ("inside", Q96, 2148),
    # 99/100 is inside the range too: min(100*0.994987*1.048809/0.053822, 200/0.041525) = 1938.9
    ("inside, lower", encode_price_sqrt(99, 100), 1938),
    # price below: 100 * sa * sb / (sb - sa) = 100 / 0.0953463 = 1048.8 (sa * sb = 1)
    ("below", encode_price_sqrt(99, 110), 1048),
    # price above: 200 / (sb - sa) = 2097.6
    ("above", encode_price_sqrt(111, 100), 2097),
    ("at lower bound", SQRT_A, 1048),
    ("at upper bound", SQRT_B, 2097),
]

AMOUNTS_FOR_LIQUIDITY = [
    # 2148 * (1.0488088 - 1) / 1.0488088 = 99.96 and 2148 * (1 - 0.9534626) = 99.96
    ("inside", Q96, 2148, (99, 99)),
    # 1048 * (sb - sa) / (sa * sb) = 99.92
    ("below", encode_price_sqrt(99, 110), 1048, (99, 0)),
    # 2097 * (sb - sa) = 199.94
    ("above", encode_price_sqrt(111, 100), 2097, (0, 199)),
    ("at lower bound", SQRT_A, 1048, (99, 0)),
    ("at upper bound", SQRT_B, 2097, (0, 199)),
]


@pytest.mark.parametrize(("case", "sqrt_price", "expected"), LIQUIDITY_FOR_AMOUNTS)
def test_integer_liquidity_for_amounts_matches_uniswap(case, sqrt_price, expected):
    assert amm.get_liquidity_for_amounts_x96(sqrt_price, SQRT_A, SQRT_B, 100, 200) == expected
    # Bounds in either order, as in Uniswap.
    assert amm.get_liquidity_for_amounts_x96(sqrt_price, SQRT_B, SQRT_A, 100, 200) == expected
    # Independent exact computation with Fractions: Uniswap floors intermediate results, so it can only
    # be at or one below the floor of the exact real-number liquidity.
    p, a, b = Fraction(sqrt_price, Q96), Fraction(SQRT_A, Q96), Fraction(SQRT_B, Q96)
    if p <= a:
        exact = 100 * a * b / (b - a)
    elif p < b:
        exact = min(100 * p * b / (b - p), 200 / (p - a))
    else:
        exact = 200 / (b - a)
    assert int(exact) - 1 <= expected <= int(exact)


@pytest.mark.parametrize(("case", "sqrt_price", "liquidity", "expected"), AMOUNTS_FOR_LIQUIDITY)
def test_integer_amounts_for_liquidity_match_uniswap(case, sqrt_price, liquidity, expected):
    assert amm.get_amounts_for_liquidity_x96(sqrt_price, SQRT_A, SQRT_B, liquidity) == expected
    real = amm.get_amounts_for_liquidity(D(sqrt_price) / D(Q96), D(SQRT_A) / D(Q96), D(SQRT_B) / D(Q96), D(liquidity))
    for exact, rounded in zip(real, expected, strict=True):
        assert rounded <= exact < rounded + 1


def test_single_sided_integer_helpers_round_down():
    assert amm.get_liquidity_for_amount0_x96(SQRT_A, SQRT_B, 100) == 1048
    assert amm.get_liquidity_for_amount1_x96(SQRT_A, SQRT_B, 200) == 2097
    assert amm.get_amount0_for_liquidity_x96(SQRT_A, SQRT_B, 1048) == 99
    assert amm.get_amount1_for_liquidity_x96(SQRT_A, SQRT_B, 2097) == 199
    with pytest.raises(OverflowError):
        amm.get_liquidity_for_amount1_x96(SQRT_A, SQRT_A + 1, 2**200)


@given(
    tick_a=st.integers(min_value=-200000, max_value=200000),
    width=st.integers(min_value=1, max_value=100000),
    tick=st.integers(min_value=-300000, max_value=300000),
    amount0=st.integers(min_value=0, max_value=10**24),
    amount1=st.integers(min_value=0, max_value=10**24),
)
@PROPERTY
def test_integer_liquidity_never_requires_more_tokens_than_supplied(tick_a, width, tick, amount0, amount1):
    sqrt_a = amm.get_sqrt_ratio_at_tick(tick_a)
    sqrt_b = amm.get_sqrt_ratio_at_tick(min(tick_a + width, MAX_TICK))
    sqrt_p = amm.get_sqrt_ratio_at_tick(tick)
    liquidity = amm.get_liquidity_for_amounts_x96(sqrt_p, sqrt_a, sqrt_b, amount0, amount1)
    a0, a1 = amm.get_amounts_for_liquidity_x96(sqrt_p, sqrt_a, sqrt_b, liquidity)
    assert a0 <= amount0 and a1 <= amount1


@given(r=ratios, bounds=range_strategy)
@PROPERTY
def test_concentrated_loss_is_never_positive(r, bounds):
    lower, upper = bounds
    assert amm.impermanent_loss_for("concentrated", r, lower=lower, upper=upper).impermanent_loss <= TINY


@given(r=ratios, lower=st.integers(min_value=1, max_value=10**6).map(lambda k: D(k) / D(1000)), width=ratios)
@PROPERTY
def test_concentrated_loss_is_never_positive_even_for_single_sided_ranges(r, lower, width):
    result = amm.impermanent_loss_for("concentrated", r, lower=lower, upper=lower + width)
    assert result.impermanent_loss <= TINY


@given(r=st.integers(min_value=100, max_value=10_000).map(lambda k: D(k) / D(1000)))
@PROPERTY
def test_a_concentrated_range_that_grows_wide_tends_to_constant_product(r):
    target = amm.constant_product_impermanent_loss(r)
    errors = []
    for width in (D(100), D(10**4), D(10**8), D(10**16)):
        il = amm.impermanent_loss_for("concentrated", r, lower=1 / width, upper=width).impermanent_loss
        errors.append(abs(il - target))
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] <= D("1e-7")


@given(
    r=st.integers(min_value=500, max_value=2000).map(lambda k: D(k) / D(1000)),
    outer=st.tuples(
        st.integers(min_value=1, max_value=499).map(lambda k: D(k) / D(1000)),
        st.integers(min_value=2001, max_value=10_000).map(lambda k: D(k) / D(1000)),
    ),
    shrink=st.tuples(st.integers(min_value=0, max_value=100), st.integers(min_value=0, max_value=100)),
)
@PROPERTY
def test_a_narrower_range_loses_more_for_the_same_move_inside_it(r, outer, shrink):
    lower, upper = outer
    # A nested range [inner_lower, inner_upper] ⊆ [lower, upper] that still contains 1 and r.
    inner_lower = lower + (min(r, D(1)) - lower) * D(shrink[0]) / D(100)
    inner_upper = upper - (upper - max(r, D(1))) * D(shrink[1]) / D(100)
    assume(inner_upper > max(r, D(1)) and inner_lower < min(r, D(1)))
    wide = amm.impermanent_loss_for("concentrated", r, lower=lower, upper=upper)
    narrow = amm.impermanent_loss_for("concentrated", r, lower=inner_lower, upper=inner_upper)
    assert narrow.in_range and wide.in_range
    assert narrow.impermanent_loss <= wide.impermanent_loss + D("1e-50")
