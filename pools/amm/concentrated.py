"""Concentrated liquidity (Uniswap v3 range positions).

An exact integer port of ``TickMath`` and ``LiquidityAmounts`` in Q64.96 fixed point, their
real-number (Decimal) counterparts, tick/price conversions, range status and the IL of a
range position."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Literal

from pools.amm.numbers import (
    CTX,
    ONE,
    ZERO,
    InvalidParameter,
    Number,
    int_arg,
    non_negative_arg,
    positive_arg,
)

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
_UINT256_MAX = (1 << 256) - 1
_UINT128_MAX = (1 << 128) - 1

# sqrt(1.0001) ** -(2 ** i) in Q128.128 for bits i = 1 .. 19 of |tick| (bit 0 handled separately),
# the constants of Uniswap v3-core TickMath.getSqrtRatioAtTick.
_TICK_BIT_FACTORS = (
    (0x2, 0xFFF97272373D413259A46990580E213A),
    (0x4, 0xFFF2E50F5F656932EF12357CF3C7FDCC),
    (0x8, 0xFFE5CACA7E10E4E61C3624EAA0941CD0),
    (0x10, 0xFFCB9843D60F6159C9DB58835C926644),
    (0x20, 0xFF973B41FA98C081472E6896DFB254C0),
    (0x40, 0xFF2EA16466C96A3843EC78B326B52861),
    (0x80, 0xFE5DEE046A99A2A811C461F1969C3053),
    (0x100, 0xFCBE86C7900A88AEDCFFC83B479AA3A4),
    (0x200, 0xF987A7253AC413176F2B074CF7815E54),
    (0x400, 0xF3392B0822B70005940C7A398E4B70F3),
    (0x800, 0xE7159475A2C29B7443B29C7FA6E889D9),
    (0x1000, 0xD097F3BDFD2022B8845AD8F792AA5825),
    (0x2000, 0xA9F746462D870FDF8A65DC1F90E061E5),
    (0x4000, 0x70D869A156D2A1B890BB3DF62BAF32F7),
    (0x8000, 0x31BE135F97D08FD981231505542FCFA6),
    (0x10000, 0x9AA508B5B7A84E1C677DE54F3E99BC9),
    (0x20000, 0x5D6AF8DEDB81196699C329225EE604),
    (0x40000, 0x2216E584F5FA1EA926041BEDFE98),
    (0x80000, 0x48A170391F7DC42444E8FA2),
)


def get_sqrt_ratio_at_tick(tick: int) -> int:
    """``sqrt(1.0001 ** tick) * 2 ** 96`` rounded exactly as Uniswap v3 ``TickMath`` does (Q64.96)."""
    tick = int_arg(tick, "tick")
    abs_tick = -tick if tick < 0 else tick
    if abs_tick > MAX_TICK:
        raise InvalidParameter("tick", f"must be within [{MIN_TICK}, {MAX_TICK}]")
    ratio = 0xFFFCB933BD6FAD37AA2D162D1A594001 if abs_tick & 0x1 else 0x100000000000000000000000000000000
    for bit, factor in _TICK_BIT_FACTORS:
        if abs_tick & bit:
            ratio = (ratio * factor) >> 128
    if tick > 0:
        ratio = _UINT256_MAX // ratio
    # Q128.128 -> Q128.96, rounding up so that get_tick_at_sqrt_ratio of the result is consistent.
    return (ratio >> 32) + (0 if ratio % (1 << 32) == 0 else 1)


def get_tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """Greatest tick whose sqrt ratio is <= ``sqrt_price_x96`` (exact port of Uniswap v3 ``TickMath``).

    Requires ``MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO``.
    """
    sqrt_price_x96 = int_arg(sqrt_price_x96, "sqrt_price_x96")
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise InvalidParameter("sqrt_price_x96", "must be within [MIN_SQRT_RATIO, MAX_SQRT_RATIO)")
    ratio = sqrt_price_x96 << 32
    msb = ratio.bit_length() - 1  # equals the branch-free most-significant-bit search
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64
    for shift in range(63, 49, -1):
        r = (r * r) >> 127
        f = r >> 128
        log_2 |= f << shift
        r >>= f
    log_sqrt10001 = log_2 * 255738958999603826347141  # Q128.128
    tick_low = (log_sqrt10001 - 3402992956809132418596140100660247210) >> 128
    tick_high = (log_sqrt10001 + 291339464771989622907027621153398088495) >> 128
    if tick_low == tick_high:
        return tick_low
    return tick_high if get_sqrt_ratio_at_tick(tick_high) <= sqrt_price_x96 else tick_low


def _mul_div(a: int, b: int, denominator: int) -> int:
    """``FullMath.mulDiv``: ``floor(a * b / denominator)`` with Uniswap's overflow checks."""
    if denominator <= 0:
        raise ZeroDivisionError("mulDiv denominator must be positive")
    result = a * b // denominator
    if result > _UINT256_MAX:
        raise OverflowError("mulDiv result exceeds uint256")
    return result


def _to_uint128(value: int) -> int:
    if value > _UINT128_MAX:
        raise OverflowError("liquidity exceeds uint128")
    return value


def _sorted_x96(a: int, b: int) -> tuple[int, int]:
    a = int_arg(a, "sqrt_ratio_a_x96")
    b = int_arg(b, "sqrt_ratio_b_x96")
    if a <= 0 or b <= 0:
        raise InvalidParameter("sqrt_ratio_a_x96", "sqrt ratios must be positive")
    return (b, a) if a > b else (a, b)


def get_liquidity_for_amount0_x96(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, amount0: int) -> int:
    """``amount0 * sqrtA * sqrtB / (sqrtB - sqrtA)`` in Q96, rounded down (LiquidityAmounts)."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    intermediate = _mul_div(a, b, Q96)
    return _to_uint128(_mul_div(int_arg(amount0, "amount0"), intermediate, b - a))


def get_liquidity_for_amount1_x96(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, amount1: int) -> int:
    """``amount1 / (sqrtB - sqrtA)`` in Q96, rounded down (LiquidityAmounts)."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    return _to_uint128(_mul_div(int_arg(amount1, "amount1"), Q96, b - a))


def get_liquidity_for_amounts_x96(
    sqrt_ratio_x96: int, sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, amount0: int, amount1: int
) -> int:
    """Maximum liquidity for the given token amounts (integer port of ``LiquidityAmounts``).

    Uses the current periphery boundary rule: at ``sqrtP <= sqrtA`` only token0 counts.
    """
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    p = int_arg(sqrt_ratio_x96, "sqrt_ratio_x96")
    if p <= a:
        return get_liquidity_for_amount0_x96(a, b, amount0)
    if p < b:
        return min(get_liquidity_for_amount0_x96(p, b, amount0), get_liquidity_for_amount1_x96(a, p, amount1))
    return get_liquidity_for_amount1_x96(a, b, amount1)


def get_amount0_for_liquidity_x96(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """``L * (sqrtB - sqrtA) / (sqrtA * sqrtB)`` in Q96, rounded down."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    liquidity = _to_uint128(int_arg(liquidity, "liquidity"))
    return _mul_div(liquidity << 96, b - a, b) // a


def get_amount1_for_liquidity_x96(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """``L * (sqrtB - sqrtA)`` in Q96, rounded down."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    liquidity = _to_uint128(int_arg(liquidity, "liquidity"))
    return _mul_div(liquidity, b - a, Q96)


def get_amounts_for_liquidity_x96(
    sqrt_ratio_x96: int, sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int
) -> tuple[int, int]:
    """Token amounts of ``liquidity`` at the current sqrt price (integer ``LiquidityAmounts`` port)."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    p = int_arg(sqrt_ratio_x96, "sqrt_ratio_x96")
    if p <= a:
        return get_amount0_for_liquidity_x96(a, b, liquidity), 0
    if p < b:
        return get_amount0_for_liquidity_x96(p, b, liquidity), get_amount1_for_liquidity_x96(a, p, liquidity)
    return 0, get_amount1_for_liquidity_x96(a, b, liquidity)


# ---- real-number (Decimal) counterparts ---------------------------------------------------


def _sorted_sqrt(a: object, b: object) -> tuple[Decimal, Decimal]:
    sa = positive_arg(a, "sqrt_price_a")
    sb = positive_arg(b, "sqrt_price_b")
    if sa == sb:
        raise InvalidParameter("sqrt_price_b", "the range bounds must differ")
    return (sb, sa) if sa > sb else (sa, sb)


def liquidity_for_amount0(sqrt_price_a: Number, sqrt_price_b: Number, amount0: Number) -> Decimal:
    """``amount0 * sa * sb / (sb - sa)`` (real numbers)."""
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    a0 = non_negative_arg(amount0, "amount0")
    with localcontext(CTX):
        return a0 * sa * sb / (sb - sa)


def liquidity_for_amount1(sqrt_price_a: Number, sqrt_price_b: Number, amount1: Number) -> Decimal:
    """``amount1 / (sb - sa)`` (real numbers)."""
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    a1 = non_negative_arg(amount1, "amount1")
    with localcontext(CTX):
        return a1 / (sb - sa)


def amount0_for_liquidity(sqrt_price_a: Number, sqrt_price_b: Number, liquidity: Number) -> Decimal:
    """``L * (sb - sa) / (sa * sb)`` (real numbers)."""
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    liq = non_negative_arg(liquidity, "liquidity")
    with localcontext(CTX):
        return liq * (sb - sa) / (sa * sb)


def amount1_for_liquidity(sqrt_price_a: Number, sqrt_price_b: Number, liquidity: Number) -> Decimal:
    """``L * (sb - sa)`` (real numbers)."""
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    liq = non_negative_arg(liquidity, "liquidity")
    with localcontext(CTX):
        return liq * (sb - sa)


def get_liquidity_for_amounts(
    sqrt_price: Number, sqrt_price_a: Number, sqrt_price_b: Number, amount0: Number, amount1: Number
) -> Decimal:
    """Real-number ``LiquidityAmounts.getLiquidityForAmounts`` on plain (not Q96) sqrt prices."""
    sp = positive_arg(sqrt_price, "sqrt_price")
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    a0 = non_negative_arg(amount0, "amount0")
    a1 = non_negative_arg(amount1, "amount1")
    with localcontext(CTX):
        if sp <= sa:
            return a0 * sa * sb / (sb - sa)
        if sp < sb:
            return min(a0 * sp * sb / (sb - sp), a1 / (sp - sa))
        return a1 / (sb - sa)


def get_amounts_for_liquidity(
    sqrt_price: Number, sqrt_price_a: Number, sqrt_price_b: Number, liquidity: Number
) -> tuple[Decimal, Decimal]:
    """Real-number ``LiquidityAmounts.getAmountsForLiquidity`` on plain (not Q96) sqrt prices."""
    sp = positive_arg(sqrt_price, "sqrt_price")
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    liq = non_negative_arg(liquidity, "liquidity")
    return amounts_for_liquidity_unchecked(sp, sa, sb, liq)


def amounts_for_liquidity_unchecked(sp: Decimal, sa: Decimal, sb: Decimal, liq: Decimal) -> tuple[Decimal, Decimal]:
    with localcontext(CTX):
        if sp <= sa:
            return liq * (sb - sa) / (sa * sb), ZERO
        if sp < sb:
            return liq * (sb - sp) / (sp * sb), liq * (sp - sa)
        return ZERO, liq * (sb - sa)


def position_liquidity(price: Number, lower: Number, upper: Number, amount0: Number, amount1: Number) -> Decimal:
    """Liquidity of a range position from amounts; prices are token1 per token0 (not sqrt)."""
    p = positive_arg(price, "price")
    lo, hi = range_arg(lower, upper)
    with localcontext(CTX):
        return get_liquidity_for_amounts(p.sqrt(), lo.sqrt(), hi.sqrt(), amount0, amount1)


def position_amounts(price: Number, lower: Number, upper: Number, liquidity: Number) -> tuple[Decimal, Decimal]:
    """Token amounts of a range position at ``price`` (token1 per token0, not sqrt)."""
    p = positive_arg(price, "price")
    lo, hi = range_arg(lower, upper)
    liq = non_negative_arg(liquidity, "liquidity")
    with localcontext(CTX):
        return amounts_for_liquidity_unchecked(p.sqrt(), lo.sqrt(), hi.sqrt(), liq)


RangeStatus = Literal["below", "in_range", "above"]


def range_status(price: Number, lower: Number, upper: Number) -> RangeStatus:
    """``"below"`` if price < lower, ``"above"`` if price >= upper, else ``"in_range"``.

    Mirrors Uniswap v3, where a position is active while ``tickLower <= tick < tickUpper``: at
    ``price == lower`` it is active (holding only token0), at ``price == upper`` it is not.
    """
    p = positive_arg(price, "price")
    lo, hi = range_arg(lower, upper)
    if p < lo:
        return "below"
    if p >= hi:
        return "above"
    return "in_range"


@dataclass(frozen=True, slots=True)
class BoundDistances:
    """Signed distance from the current price to each range bound.

    ``to_lower = lower / price - 1`` and ``to_upper = upper / price - 1`` are the relative price
    moves needed to touch each bound (negative = the price must fall). ``ticks_to_lower`` and
    ``ticks_to_upper`` are the same moves in (fractional) ticks: ``log_1.0001(bound / price)``.
    """

    to_lower: Decimal
    to_upper: Decimal
    ticks_to_lower: Decimal
    ticks_to_upper: Decimal


_LN_TICK_BASE = Decimal("1.0001").ln(CTX)


def range_bound_distances(price: Number, lower: Number, upper: Number) -> BoundDistances:
    """Distance from ``price`` to the ``lower`` and ``upper`` bounds (see :class:`BoundDistances`)."""
    p = positive_arg(price, "price")
    lo, hi = range_arg(lower, upper)
    with localcontext(CTX):
        return BoundDistances(
            to_lower=lo / p - ONE,
            to_upper=hi / p - ONE,
            ticks_to_lower=(lo / p).ln() / _LN_TICK_BASE,
            ticks_to_upper=(hi / p).ln() / _LN_TICK_BASE,
        )


# ---- tick / price conversions (real numbers) -----------------------------------------------

_TICK_BASE = Decimal("1.0001")


def tick_to_price(tick: int, decimals0: int = 0, decimals1: int = 0) -> Decimal:
    """``1.0001 ** tick`` (token1 per token0 in raw units), times ``10 ** (decimals0 - decimals1)``.

    With the tokens' decimals the result is the human-readable price of token0 in token1.
    """
    tick = int_arg(tick, "tick")
    if not MIN_TICK <= tick <= MAX_TICK:
        raise InvalidParameter("tick", f"must be within [{MIN_TICK}, {MAX_TICK}]")
    with localcontext(CTX):
        return (_TICK_BASE**tick).scaleb(int_arg(decimals0, "decimals0") - int_arg(decimals1, "decimals1"))


def price_to_tick(price: Number, decimals0: int = 0, decimals1: int = 0) -> int:
    """Greatest tick with ``tick_to_price(tick) <= price`` (inverse of :func:`tick_to_price`)."""
    p = positive_arg(price, "price")
    with localcontext(CTX):
        raw = p.scaleb(int_arg(decimals1, "decimals1") - int_arg(decimals0, "decimals0"))
        tick = int((raw.ln() / _LN_TICK_BASE).to_integral_value(rounding=ROUND_FLOOR))
        # The logarithm can land a hair on the wrong side of an exact tick: correct by comparison.
        while _TICK_BASE ** (tick + 1) <= raw:
            tick += 1
        while _TICK_BASE**tick > raw:
            tick -= 1
    if not MIN_TICK <= tick <= MAX_TICK:
        raise InvalidParameter("price", "outside the Uniswap v3 tick range")
    return tick


def tick_to_sqrt_price(tick: int) -> Decimal:
    """``sqrt(1.0001 ** tick)`` as a real number (the Q96 value divided by 2 ** 96, unrounded)."""
    tick = int_arg(tick, "tick")
    if not MIN_TICK <= tick <= MAX_TICK:
        raise InvalidParameter("tick", f"must be within [{MIN_TICK}, {MAX_TICK}]")
    with localcontext(CTX):
        return (_TICK_BASE**tick).sqrt()


def sqrt_price_x96_to_price(sqrt_price_x96: int, decimals0: int = 0, decimals1: int = 0) -> Decimal:
    """``(sqrtPriceX96 / 2 ** 96) ** 2``, times ``10 ** (decimals0 - decimals1)``."""
    x = int_arg(sqrt_price_x96, "sqrt_price_x96")
    if x <= 0:
        raise InvalidParameter("sqrt_price_x96", "must be positive")
    with localcontext(CTX):
        return (Decimal(x * x) / Decimal(1 << 192)).scaleb(
            int_arg(decimals0, "decimals0") - int_arg(decimals1, "decimals1")
        )


def price_to_sqrt_price_x96(price: Number, decimals0: int = 0, decimals1: int = 0) -> int:
    """``floor(sqrt(raw_price) * 2 ** 96)`` where ``raw_price = price * 10 ** (decimals1 - decimals0)``."""
    p = positive_arg(price, "price")
    with localcontext(CTX) as ctx:
        raw = p.scaleb(int_arg(decimals1, "decimals1") - int_arg(decimals0, "decimals0"))
        # Enough digits to hold the integer part exactly, then floor.
        ctx.prec = max(60, raw.adjusted() // 2 + 40 + 60)
        return int((raw.sqrt() * Decimal(Q96)).to_integral_value(rounding=ROUND_FLOOR))


# ---- range position IL (normalised entry price 1) -----------------------------------------


def concentrated_value_after_price_move(
    price_ratio: Number, lower: Number, upper: Number
) -> tuple[Decimal, Decimal, bool]:
    """``(value_lp, value_hodl, in_range)`` of a range position for an initial value of 1.

    The entry price is normalised to 1 and ``lower``/``upper`` are multiples of it (any
    ``0 < lower < upper``; an entry price outside the range means a single-sided deposit). The
    position's liquidity is fixed at entry; ``value_hodl`` holds the entry amounts.
    """
    r = positive_arg(price_ratio, "price_ratio")
    lo, hi = range_arg(lower, upper)
    with localcontext(CTX):
        sa, sb = lo.sqrt(), hi.sqrt()
        x0, y0 = amounts_for_liquidity_unchecked(ONE, sa, sb, ONE)
        x1, y1 = amounts_for_liquidity_unchecked(r.sqrt(), sa, sb, ONE)
        v0 = x0 + y0
        return (x1 * r + y1) / v0, (x0 * r + y0) / v0, lo <= r < hi


def concentrated_impermanent_loss(price_ratio: Number, lower: Number, upper: Number) -> Decimal:
    """IL of a range position (entry price 1, bounds as multiples of it) against holding."""
    lp, hodl, _ = concentrated_value_after_price_move(price_ratio, lower, upper)
    with localcontext(CTX):
        return lp / hodl - ONE


def range_arg(lower: object, upper: object) -> tuple[Decimal, Decimal]:
    lo = positive_arg(lower, "lower")
    hi = positive_arg(upper, "upper")
    if lo >= hi:
        raise InvalidParameter("upper", "must be greater than lower")
    return lo, hi
