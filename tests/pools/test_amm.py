"""Tests for pools.amm: closed forms, published reference values and properties.

Pure math: no database and no Django settings are needed.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction
from math import isqrt

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pools import amm
from pools.amm import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    Q96,
    ConvergenceError,
    ILResult,
    InvalidParameter,
)

D = Decimal
PROPERTY = settings(max_examples=100, deadline=None)
SLOW_PROPERTY = settings(max_examples=40, deadline=None)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Overrides the project-wide autouse cache fixture: these tests touch no Django cache."""
    yield


@pytest.fixture(autouse=True)
def _precise_expectations():
    """Expected values in the tests are computed at 80 digits (the library uses its own context)."""
    with localcontext() as ctx:
        ctx.prec = 80
        yield


def close(a: Decimal, b: Decimal, rel: str = "1e-40", abs_: str = "1e-50") -> bool:
    with localcontext() as ctx:
        ctx.prec = 80
        return abs(a - b) <= max(D(abs_), D(rel) * max(abs(a), abs(b)))


# Price ratios from 1e-3 to 1e3, as exact decimals.
ratios = st.integers(min_value=1, max_value=10**6).map(lambda k: D(k) / D(1000))
moderate_ratios = st.integers(min_value=50, max_value=20_000).map(lambda k: D(k) / D(1000))
amplifications = st.sampled_from([D("0.001"), D("0.5"), D(1), D(10), D(100), D(2000), D(10**6)])
n_coins = st.integers(min_value=2, max_value=5)


# --------------------------------------------------------------------------------------------
# Constant product
# --------------------------------------------------------------------------------------------

CONSTANT_PRODUCT_TABLE = [
    # price ratio, impermanent loss (the widely published -0.62 %, -2.02 %, ... table)
    ("1.25", "-0.0062"),
    ("1.5", "-0.0202"),
    ("2", "-0.0572"),
    ("3", "-0.1340"),
    ("4", "-0.2000"),
    ("5", "-0.2546"),
]


@pytest.mark.parametrize(("ratio", "expected"), CONSTANT_PRODUCT_TABLE)
def test_constant_product_impermanent_loss_matches_the_published_table(ratio, expected):
    il = amm.constant_product_impermanent_loss(D(ratio))
    assert il.quantize(D("0.0001")) == D(expected)
    result = amm.impermanent_loss_for("constant_product", D(ratio))
    assert result.impermanent_loss.quantize(D("0.0001")) == D(expected)
    assert result.in_range is None


def test_constant_product_loss_at_four_times_the_price_is_exactly_twenty_percent():
    assert amm.constant_product_impermanent_loss(4) == D("-0.2")
    assert amm.constant_product_value_after_price_move(4) == (D(2), D("2.5"))


def test_constant_product_reserves_keep_k_and_reach_the_new_price():
    x, y = amm.constant_product_reserves_after_price_move(D(10), D(20000), D("1.44"))
    assert close(x, D(10) / D("1.2"))
    assert y == D(24000)
    assert close(x * y, D(200000))
    assert close(y / x, D(2000) * D("1.44"))
    x2, y2 = amm.constant_product_reserves_at_price(D(10), D(20000), D(2880))
    assert close(x2, x) and close(y2, y)


def test_loss_is_zero_when_the_price_does_not_move():
    for model, params in [
        ("constant_product", {}),
        ("weighted", {"weights": [D("0.8"), D("0.2")]}),
        ("concentrated", {"lower": D("0.5"), "upper": D(2)}),
        ("stableswap", {"amplification": D(100)}),
    ]:
        result = amm.impermanent_loss_for(model, D(1), **params)
        assert abs(result.impermanent_loss) <= D("1e-50"), model
        assert close(result.value_lp, D(1)) and close(result.value_hodl, D(1))


# --------------------------------------------------------------------------------------------
# Weighted pools
# --------------------------------------------------------------------------------------------


def test_weighted_80_20_pool_matches_a_hand_computed_value():
    # r = 32 = 2**5 so r**0.8 = 16 exactly; hodl = 0.8 * 32 + 0.2 = 25.8.
    lp, hodl = amm.weighted_value_after_price_move(D(32), [D("0.8"), D("0.2")])
    assert close(lp, D(16)) and hodl == D("25.8")
    assert close(amm.weighted_impermanent_loss(D(32), [D("0.8"), D("0.2")]), D(16) / D("25.8") - 1)
    # And the other way: r = 1/32 gives 1/16 against 0.8/32 + 0.2 = 0.225.
    assert close(amm.weighted_impermanent_loss(D(1) / D(32), ["0.8", "0.2"]), D("0.0625") / D("0.225") - 1)


def test_weighted_three_token_pool_uses_every_price_ratio():
    # 4**0.5 * 16**0.25 * 1**0.25 = 4; hodl = 0.5*4 + 0.25*16 + 0.25*1 = 6.25.
    lp, hodl = amm.weighted_value_after_price_move([D(4), D(16), D(1)], [D("0.5"), D("0.25"), D("0.25")])
    assert close(lp, D(4)) and hodl == D("6.25")
    il = amm.impermanent_loss_for("weighted", D(4), weights=[D("0.5"), D("0.25"), D("0.25")])
    # A single ratio moves token 0 only: 4**0.5 / (0.5*4 + 0.5) = 2 / 2.5.
    assert close(il.impermanent_loss, D("-0.2"))


def test_weighted_reserves_after_a_move_keep_the_invariant_and_the_weights():
    weights = [D("0.6"), D("0.3"), D("0.1")]
    prices = [D(2000), D(1), D(50)]
    value = D(100000)
    reserves = [w * value / p for w, p in zip(weights, prices, strict=True)]
    moves = [D("1.5"), D("1"), D("0.25")]
    after = amm.weighted_reserves_after_price_move(reserves, weights, moves)
    with localcontext() as ctx:
        ctx.prec = 60
        invariant_before = sum((w * b.ln() for w, b in zip(weights, reserves, strict=True)), D(0))
        invariant_after = sum((w * b.ln() for w, b in zip(weights, after, strict=True)), D(0))
        assert close(invariant_before, invariant_after, rel="1e-45")
        values = [b * p * m for b, p, m in zip(after, prices, moves, strict=True)]
        total = sum(values, D(0))
        for v, w in zip(values, weights, strict=True):
            assert close(v / total, w, rel="1e-45")


# --------------------------------------------------------------------------------------------
# Concentrated liquidity (real numbers)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Tick math: exact port of Uniswap v3 TickMath, checked against Uniswap's own values
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# LiquidityAmounts (integer Q96 port) — Uniswap v3-periphery test cases
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# StableSwap
# --------------------------------------------------------------------------------------------


def curve_get_d(balances: list[int], onchain_a: int) -> int:
    """Curve's integer get_D as in its Vyper pools (Ann = A() * N_COINS), written for this test."""
    n = len(balances)
    s = sum(balances)
    d = s
    ann = onchain_a * n
    for _ in range(255):
        d_p = d
        for x in balances:
            d_p = d_p * d // (x * n)
        previous = d
        d = (ann * s + d_p * n) * d // ((ann - 1) * d + (n + 1) * d_p)
        if abs(d - previous) <= 1:
            return d
    raise AssertionError("no convergence")


def invariant_residual(balances: list[Decimal], amp: Decimal, d: Decimal) -> Decimal:
    """Whitepaper: A n^n sum(x) + D - A D n^n - D^(n+1) / (n^n prod(x)), relative to D."""
    with localcontext() as ctx:
        ctx.prec = 80
        n = len(balances)
        prod = D(1)
        for x in balances:
            prod *= x
        nn = D(n**n)
        lhs = amp * nn * sum(balances, D(0)) + d
        rhs = amp * d * nn + d ** (n + 1) / (nn * prod)
        return abs(lhs - rhs) / d


def test_stableswap_invariant_of_a_balanced_pool_is_the_sum_of_balances():
    assert close(amm.stableswap_invariant([D(100), D(100), D(100)], D(50)), D(300), rel="1e-50")


@pytest.mark.parametrize(
    ("balances", "onchain_a"),
    [
        ([1000, 1200, 800], 2000),
        ([5, 1_000_000], 100),
        ([123456, 654321], 1),
        ([10, 20, 30, 40], 500),
    ],
)
def test_stableswap_invariant_satisfies_the_whitepaper_equation_and_matches_curve(balances, onchain_a):
    n = len(balances)
    amp = amm.stableswap_amplification_from_onchain(onchain_a, n)
    xs = [D(b) for b in balances]
    d = amm.stableswap_invariant(xs, amp)
    assert invariant_residual(xs, amp, d) <= D("1e-45")
    # Curve's own integer algorithm on 18-decimal balances agrees to ~1e-17 relative.
    d_int = curve_get_d([b * 10**18 for b in balances], onchain_a)
    assert abs(D(d_int) / D(10**18) / d - 1) <= D("1e-15")


def test_stableswap_y_restores_the_invariant():
    balances = [D(1000), D(1500), D(700)]
    amp = D(85)
    d = amm.stableswap_invariant(balances, amp)
    moved = [D(1100), D(1500), D(700)]
    y = amm.stableswap_y(moved, 2, d, amp)
    assert y < D(700)
    assert close(amm.stableswap_invariant([D(1100), D(1500), y], amp), d, rel="1e-45")


@given(
    balances=st.lists(st.integers(min_value=1, max_value=10**6).map(D), min_size=2, max_size=4),
    amp=amplifications,
    data=st.data(),
)
@PROPERTY
def test_small_swap_at_the_marginal_price_conserves_value(balances, amp, data):
    n = len(balances)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    j = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda k: k != i))
    d = amm.stableswap_invariant(balances, amp)
    price = amm.stableswap_marginal_price(balances, amp, i, j)
    dx = balances[i] * D("1e-20")
    moved = list(balances)
    moved[i] += dx
    with localcontext() as ctx:
        ctx.prec = 60
        dy = balances[j] - amm.stableswap_y(moved, j, d, amp)
        # Selling dx of coin i returns dy = price * dx to first order: the pool's value at the
        # marginal price is unchanged up to a second-order term (relative error ~ dx / balance).
        assert abs(dy / (price * dx) - 1) <= D("1e-12")


@given(
    x=st.integers(min_value=1, max_value=10**9).map(D),
    y=st.integers(min_value=1, max_value=10**9).map(D),
)
@PROPERTY
def test_small_constant_product_swap_at_the_marginal_price_conserves_value(x, y):
    price = y / x
    dx = x * D("1e-15")
    with localcontext() as ctx:
        ctx.prec = 60
        dy = y - x * y / (x + dx)
        assert abs(dy / (price * dx) - 1) <= D("1e-12")


def test_stableswap_marginal_price_is_one_in_a_balanced_pool():
    assert close(amm.stableswap_marginal_price([D(10), D(10)], D(100)), D(1), rel="1e-50")
    assert amm.stableswap_marginal_price([D(20), D(5)], D(100)) < 1  # the abundant coin is cheap


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("ratio", ["0.2", "0.999", "1.001", "3"])
@pytest.mark.parametrize("amp", ["0.01", "1", "100", "100000"])
def test_stableswap_solvers_reach_the_external_price(n, ratio, amp):
    r, a = D(ratio), D(amp)
    lp, hodl, balances = amm.stableswap_value_after_price_move(r, a, n)
    assert abs(amm.stableswap_marginal_price(balances, a, 0, 1) / r - 1) <= amm.STABLESWAP_PRICE_TOLERANCE
    assert close(amm.stableswap_invariant(balances, a), D(n), rel="1e-40")
    # The general n-price solver agrees with the symmetric one.
    general = amm.stableswap_balances_at_prices([D(1)] * n, a, [r] + [D(1)] * (n - 1))
    for g, s in zip(general, balances, strict=True):
        assert close(g, s, rel="1e-28")
    assert close(lp, (r * balances[0] + sum(balances[1:], D(0))) / n)
    assert close(hodl, (r + n - 1) / n, rel="1e-55")


def test_stableswap_general_solver_handles_uneven_prices():
    amp = D(200)
    prices = [D(1), D(2), D("0.5")]
    balances = amm.stableswap_balances_at_prices([D(100), D(200), D(300)], amp, prices)
    for k in (1, 2):
        ratio = amm.stableswap_marginal_price(balances, amp, k, 0)
        assert abs(ratio / (prices[k] / prices[0]) - 1) <= D("1e-30")
    assert close(amm.stableswap_invariant(balances, amp), amm.stableswap_invariant([100, 200, 300], amp), rel="1e-40")


def test_stableswap_curve_is_warm_started_but_identical_to_single_points():
    ratios_ = [D(k) / D(10) for k in range(1, 40)]
    curve = amm.il_curve("stableswap", ratios_, amplification=D(500), n_coins=3)
    for r, point in zip(ratios_, curve, strict=True):
        single = amm.impermanent_loss_for("stableswap", r, amplification=D(500), n_coins=3)
        assert close(point.impermanent_loss, single.impermanent_loss, rel="1e-25", abs_="1e-28")


def test_stableswap_solver_failure_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(amm, "_MAX_ITERATIONS", 1)
    with pytest.raises(ConvergenceError, match="tolerance"):
        amm.stableswap_impermanent_loss(D(3), D(100))


# --------------------------------------------------------------------------------------------
# Properties shared by all models
# --------------------------------------------------------------------------------------------

weights_strategy = st.integers(min_value=1, max_value=99).map(lambda k: [D(k) / D(100), D(100 - k) / D(100)])
range_strategy = st.tuples(
    st.integers(min_value=1, max_value=999).map(lambda k: D(k) / D(1000)),
    st.integers(min_value=1001, max_value=100_000).map(lambda k: D(k) / D(1000)),
)
TINY = D("1e-40")


@given(r=ratios)
@PROPERTY
def test_constant_product_loss_is_never_positive(r):
    assert amm.impermanent_loss_for("constant_product", r).impermanent_loss <= TINY


@given(r=ratios, weights=weights_strategy)
@PROPERTY
def test_weighted_loss_is_never_positive(r, weights):
    assert amm.impermanent_loss_for("weighted", r, weights=weights).impermanent_loss <= TINY


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


@given(r=ratios, amp=amplifications, n=n_coins)
@SLOW_PROPERTY
def test_stableswap_loss_is_never_positive(r, amp, n):
    assert amm.impermanent_loss_for("stableswap", r, amplification=amp, n_coins=n).impermanent_loss <= TINY


@given(r=ratios)
@PROPERTY
def test_fifty_fifty_pools_lose_the_same_for_a_move_and_its_inverse(r):
    inverse = D(1) / r
    for model, params, rel in [
        ("constant_product", {}, "1e-45"),
        ("weighted", {"weights": [D("0.5"), D("0.5")]}, "1e-45"),
        ("concentrated", {"lower": D("0.5"), "upper": D(2)}, "1e-45"),
        ("stableswap", {"amplification": D(100)}, "1e-25"),
    ]:
        a = amm.impermanent_loss_for(model, r, **params).impermanent_loss
        b = amm.impermanent_loss_for(model, inverse, **params).impermanent_loss
        assert close(a, b, rel=rel, abs_="1e-28"), model


@given(r=ratios)
@PROPERTY
def test_weighted_fifty_fifty_equals_constant_product(r):
    weighted = amm.impermanent_loss_for("weighted", r, weights=["0.5", "0.5"])
    product = amm.impermanent_loss_for("constant_product", r)
    assert close(weighted.impermanent_loss, product.impermanent_loss, rel="1e-45", abs_="1e-50")
    assert close(weighted.value_lp, product.value_lp, rel="1e-50")


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


@given(r=moderate_ratios.filter(lambda r: abs(r - 1) >= D("0.05")), n=st.integers(min_value=2, max_value=3))
@SLOW_PROPERTY
def test_stableswap_tends_to_constant_sum_as_amplification_grows(r, n):
    target = amm.constant_sum_impermanent_loss(r, n)
    distances = [
        abs(amm.impermanent_loss_for("stableswap", r, amplification=a, n_coins=n).impermanent_loss - target)
        for a in (D(10), D(10**4), D(10**8), D(10**12))
    ]
    assert distances == sorted(distances, reverse=True)
    assert distances[-1] <= abs(target) * D("1e-3")


@given(r=ratios)
@PROPERTY
def test_stableswap_tends_to_constant_product_as_amplification_vanishes(r):
    target = amm.constant_product_impermanent_loss(r)
    near = amm.impermanent_loss_for("stableswap", r, amplification=D("1e-12")).impermanent_loss
    nearer = amm.impermanent_loss_for("stableswap", r, amplification=D("1e-20")).impermanent_loss
    assert abs(near - target) <= D("1e-9")
    assert abs(nearer - target) <= D("1e-17")


# --------------------------------------------------------------------------------------------
# Break-even fee APR
# --------------------------------------------------------------------------------------------


def test_simple_break_even_apr_offsets_the_loss_exactly():
    il, days = D("-0.0572"), D(30)
    apr = amm.break_even_fee_apr(il, days)
    assert close(apr, (1 / (1 + il) - 1) * 365 / days)
    assert close((1 + il) * (1 + apr * days / 365), D(1))


def test_compounded_and_continuous_break_even_aprs_offset_the_loss():
    il = D("-0.2")
    daily = amm.break_even_fee_apr(il, 365, compounding=365)
    assert close((1 + il) * (1 + daily / 365) ** 365, D(1), rel="1e-45")
    continuous = amm.break_even_fee_apr(il, 365, compounding="continuous")
    with localcontext() as ctx:
        ctx.prec = 60
        assert close((1 + il) * continuous.exp(), D(1), rel="1e-45")
    simple = amm.break_even_fee_apr(il, 365)
    assert simple == D("0.25")
    assert continuous < daily < simple


def test_break_even_needs_nothing_without_loss_and_rejects_bad_input():
    assert amm.break_even_fee_apr(0, 30) == 0
    with pytest.raises(InvalidParameter) as info:
        amm.break_even_fee_apr(D(-1), 30)
    assert info.value.field == "impermanent_loss"
    with pytest.raises(InvalidParameter) as info:
        amm.break_even_fee_apr(D("-0.1"), 0)
    assert info.value.field == "days"
    with pytest.raises(InvalidParameter) as info:
        amm.break_even_fee_apr(D("-0.1"), 30, compounding=0)
    assert info.value.field == "compounding"


# --------------------------------------------------------------------------------------------
# Uniform entry point: results and invalid input
# --------------------------------------------------------------------------------------------


def test_il_result_is_a_frozen_dataclass():
    result = amm.impermanent_loss_for("constant_product", D(2))
    assert isinstance(result, ILResult)
    with pytest.raises(AttributeError):
        result.impermanent_loss = D(0)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("model", "kwargs", "field"),
    [
        ("constant_product", {"price_ratio": D(0)}, "price_ratio"),
        ("constant_product", {"price_ratio": D(-1)}, "price_ratio"),
        ("constant_product", {"price_ratio": "abc"}, "price_ratio"),
        ("constant_product", {"price_ratio": D("NaN")}, "price_ratio"),
        ("constant_product", {"price_ratio": 1.5}, "price_ratio"),
        ("nope", {"price_ratio": D(2)}, "model"),
        ("weighted", {"price_ratio": D(2)}, "weights"),
        ("weighted", {"price_ratio": D(2), "weights": [D("0.5"), D("0.6")]}, "weights"),
        ("weighted", {"price_ratio": D(2), "weights": [D(1)]}, "weights"),
        ("weighted", {"price_ratio": D(2), "weights": [D("1.5"), D("-0.5")]}, "weights"),
        ("weighted", {"price_ratio": D(2), "weights": [D(1), D(0)]}, "weights"),
        ("concentrated", {"price_ratio": D(2), "upper": D(2)}, "lower"),
        ("concentrated", {"price_ratio": D(2), "lower": D("0.5")}, "upper"),
        ("concentrated", {"price_ratio": D(2), "lower": D(2), "upper": D(2)}, "upper"),
        ("concentrated", {"price_ratio": D(2), "lower": D(3), "upper": D(2)}, "upper"),
        ("concentrated", {"price_ratio": D(2), "lower": D(0), "upper": D(2)}, "lower"),
        ("concentrated", {"price_ratio": D(2), "lower": D(-1), "upper": D(2)}, "lower"),
        ("concentrated", {"price_ratio": D(2), "lower": D("0.5"), "upper": D(-2)}, "upper"),
        ("stableswap", {"price_ratio": D(2)}, "amplification"),
        ("stableswap", {"price_ratio": D(2), "amplification": D(0)}, "amplification"),
        ("stableswap", {"price_ratio": D(2), "amplification": D(-5)}, "amplification"),
        ("stableswap", {"price_ratio": D(2), "amplification": D(10), "n_coins": 1}, "n_coins"),
    ],
)
def test_invalid_input_names_the_offending_field(model, kwargs, field):
    price_ratio = kwargs.pop("price_ratio")
    with pytest.raises(InvalidParameter) as info:
        amm.impermanent_loss_for(model, price_ratio, **kwargs)
    assert info.value.field == field
    assert isinstance(info.value, ValueError)


def test_il_curve_returns_two_hundred_points_for_every_model():
    ratios_ = [D(k) / D(40) for k in range(1, 201)]
    for model, params in [
        ("constant_product", {}),
        ("weighted", {"weights": [D("0.8"), D("0.2")]}),
        ("concentrated", {"lower": D("0.5"), "upper": D(2)}),
        ("stableswap", {"amplification": D(100)}),
    ]:
        curve = amm.il_curve(model, ratios_, **params)
        assert len(curve) == 200
        assert all(isinstance(point, ILResult) for point in curve)
        assert curve[39].impermanent_loss == amm.impermanent_loss_for(model, D(1), **params).impermanent_loss


def test_il_curve_rejects_unknown_parameters_and_validates_each_ratio():
    with pytest.raises(TypeError):
        amm.il_curve("constant_product", [D(1)], width=D(2))
    with pytest.raises(InvalidParameter) as info:
        amm.il_curve("stableswap", [D(1), D(0)], amplification=D(10))
    assert info.value.field == "price_ratio"


def test_results_do_not_depend_on_the_callers_decimal_context():
    expected = amm.impermanent_loss_for("weighted", D(3), weights=[D("0.7"), D("0.3")])
    with localcontext() as ctx:
        ctx.prec = 5
        assert amm.impermanent_loss_for("weighted", D(3), weights=[D("0.7"), D("0.3")]) == expected
    assert len(expected.impermanent_loss.as_tuple().digits) >= 40


# --------------------------------------------------------------------------------------------
# Position valuation from real amounts and USD prices
# --------------------------------------------------------------------------------------------


def test_constant_product_position_value_matches_the_normalised_model():
    valuation = amm.value_position("constant_product", [D(1), D(2000)], [D(2000), D(1)], [D(3000), D(1)])
    assert valuation.value_at_deposit == D(4000)
    assert valuation.value_hodl == D(5000)
    assert close(valuation.value_lp, D(4000) * D("1.5").sqrt())
    assert close(valuation.il_relative, amm.constant_product_impermanent_loss(D("1.5")))
    assert valuation.il_absolute == valuation.value_lp - valuation.value_hodl
    a0, a1 = valuation.amounts_now
    assert close(a0 * a1, D(2000)) and close(a1 / a0, D(3000))


def test_weighted_position_value_matches_the_normalised_model():
    weights = [D("0.8"), D("0.2")]
    valuation = amm.value_position("weighted", [D(4), D(2000)], [D(2000), D(1)], [D(3000), D(1)], weights=weights)
    assert valuation.value_at_deposit == D(10000)
    assert close(valuation.il_relative, amm.weighted_impermanent_loss(D("1.5"), weights), rel="1e-45")
    a0, a1 = valuation.amounts_now
    assert close(a0 * 3000 / (a0 * 3000 + a1), D("0.8"), rel="1e-45")


def test_concentrated_position_with_absolute_bounds_matches_the_normalised_model():
    valuation = amm.value_position(
        "concentrated", [D(1), D(2000)], [D(2000), D(1)], [D(2500), D(1)], lower=D(1500), upper=D(2666)
    )
    expected = amm.impermanent_loss_for("concentrated", D("1.25"), lower=D("0.75"), upper=D("1.333"))
    assert close(valuation.il_relative, expected.impermanent_loss, rel="1e-40")
    assert valuation.in_range is True
    # At the deposit price the token1 side binds; the unusable part of token0 is not counted.
    assert valuation.amounts_deposited[1] == D(2000)
    assert valuation.amounts_deposited[0] < D(1)


def test_concentrated_position_out_of_range_holds_one_token():
    valuation = amm.value_position(
        "concentrated", [D(1), D(2000)], [D(2000), D(1)], [D(4000), D(1)], lower=D(1500), upper=D(2500)
    )
    assert valuation.in_range is False
    assert valuation.amounts_now[0] == 0 and valuation.amounts_now[1] > D(2000)


def test_stableswap_position_matches_the_symmetric_solver():
    valuation = amm.value_position("stableswap", [D(100)] * 3, [D(1)] * 3, [D("1.02"), D(1), D(1)], amplification=200)
    expected = amm.stableswap_impermanent_loss(D("1.02"), D(200), 3)
    assert close(valuation.il_relative, expected, rel="1e-25")
    assert valuation.value_at_deposit == D(300)


@pytest.mark.parametrize(
    ("model", "args", "kwargs", "field"),
    [
        ("constant_product", ([D(1)], [D(1)], [D(1)]), {}, "amounts"),
        ("constant_product", ([D(0), D(1)], [D(1), D(1)], [D(1), D(1)]), {}, "amounts"),
        ("constant_product", ([D(1), D(1)], [D(0), D(1)], [D(1), D(1)]), {}, "prices_at_deposit"),
        ("constant_product", ([D(1), D(1)], [D(1), D(1)], [D(1), D(-1)]), {}, "prices_now"),
        ("weighted", ([D(1), D(1)], [D(1), D(1)], [D(1), D(1)]), {"weights": [D(1)]}, "weights"),
        ("concentrated", ([D(1), D(1)], [D(1), D(1)], [D(1), D(1)]), {"lower": D(2)}, "upper"),
        ("stableswap", ([D(1), D(1)], [D(1), D(1)], [D(1), D(1)]), {}, "amplification"),
        ("other", ([D(1), D(1)], [D(1), D(1)], [D(1), D(1)]), {}, "model"),
    ],
)
def test_position_valuation_rejects_invalid_input(model, args, kwargs, field):
    with pytest.raises(InvalidParameter) as info:
        amm.value_position(model, *args, **kwargs)
    assert info.value.field == field
