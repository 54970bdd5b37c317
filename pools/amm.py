"""Pure AMM mathematics for liquidity-provider analytics.

This module has no Django imports and uses only the standard library. Every money- or
price-related quantity is a :class:`decimal.Decimal`; ``float`` is never used for values and
float *inputs* are rejected (pass ``Decimal``, ``int`` or a numeric ``str``).

Precision
    All arithmetic runs inside ``decimal.localcontext(_CTX)`` where ``_CTX`` has a precision of
    60 significant digits, so the caller's decimal context does not influence results. Results
    are returned as ``Decimal`` rounded to that 60-digit context; closed forms are accurate to
    well beyond 40 significant digits, iterative solvers to their documented tolerance.

Conventions shared by all models
    * ``price_ratio`` (``r``) is *new price / entry price* of token 0 measured in token 1 (or,
      for pools with more than two tokens, of token 0 measured in the numeraire while every other
      token keeps its price). ``r`` must be > 0.
    * Values are normalised to an initial position value of 1 (in the numeraire), so
      ``value_lp`` and ``value_hodl`` are multiples of the amount deposited.
    * Impermanent loss is ``value_lp / value_hodl - 1`` (<= 0; fees are not included).

Models
    * ``constant_product`` — Uniswap v2 ``x * y = k``.
    * ``weighted`` — Balancer ``prod(b_i ** w_i) = k`` for two or more tokens.
    * ``concentrated`` — Uniswap v3 range positions (real-number formulas plus an exact integer
      port of ``TickMath`` and ``LiquidityAmounts`` in Q64.96 fixed point).
    * ``stableswap`` — Curve StableSwap with the whitepaper amplification ``A``; see
      :func:`stableswap_invariant` for the exact convention.

The uniform calculator entry points are :func:`impermanent_loss_for` and :func:`il_curve`; a
position valued from real token amounts and USD prices is handled by :func:`value_position`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal, localcontext
from typing import Literal

__all__ = [
    "MAX_SQRT_RATIO",
    "MAX_TICK",
    "MIN_SQRT_RATIO",
    "MIN_TICK",
    "MODELS",
    "Q96",
    "STABLESWAP_PRICE_TOLERANCE",
    "WEIGHT_SUM_TOLERANCE",
    "BoundDistances",
    "ConvergenceError",
    "ILResult",
    "InvalidParameter",
    "PositionValuation",
    "amount0_for_liquidity",
    "amount1_for_liquidity",
    "break_even_fee_apr",
    "concentrated_impermanent_loss",
    "concentrated_value_after_price_move",
    "constant_product_impermanent_loss",
    "constant_product_reserves_after_price_move",
    "constant_product_reserves_at_price",
    "constant_product_value_after_price_move",
    "constant_sum_impermanent_loss",
    "get_amount0_for_liquidity_x96",
    "get_amount1_for_liquidity_x96",
    "get_amounts_for_liquidity",
    "get_amounts_for_liquidity_x96",
    "get_liquidity_for_amount0_x96",
    "get_liquidity_for_amount1_x96",
    "get_liquidity_for_amounts",
    "get_liquidity_for_amounts_x96",
    "get_sqrt_ratio_at_tick",
    "get_tick_at_sqrt_ratio",
    "il_curve",
    "impermanent_loss_for",
    "liquidity_for_amount0",
    "liquidity_for_amount1",
    "position_amounts",
    "position_liquidity",
    "price_to_sqrt_price_x96",
    "price_to_tick",
    "range_bound_distances",
    "range_status",
    "sqrt_price_x96_to_price",
    "stableswap_amplification_from_onchain",
    "stableswap_balances_at_prices",
    "stableswap_impermanent_loss",
    "stableswap_invariant",
    "stableswap_marginal_price",
    "stableswap_value_after_price_move",
    "stableswap_y",
    "tick_to_price",
    "tick_to_sqrt_price",
    "value_position",
    "weighted_impermanent_loss",
    "weighted_reserves_after_price_move",
    "weighted_value_after_price_move",
]

# --------------------------------------------------------------------------------------------
# Context, errors and input coercion
# --------------------------------------------------------------------------------------------

#: Working context for every computation in this module (60 significant digits).
_CTX = Context(prec=60)

_ZERO = Decimal(0)
_ONE = Decimal(1)
_TWO = Decimal(2)
_DAYS_PER_YEAR = Decimal(365)

#: Relative tolerance on the marginal price reached by the stableswap price solvers.
STABLESWAP_PRICE_TOLERANCE = Decimal("1e-30")
#: Relative tolerance on D (and on the solver variable) for the Newton iterations.
_NEWTON_TOLERANCE = Decimal("1e-45")
_MAX_ITERATIONS = 256

MODELS = ("constant_product", "weighted", "concentrated", "stableswap")
Model = Literal["constant_product", "weighted", "concentrated", "stableswap"]
Number = Decimal | int | str


class InvalidParameter(ValueError):
    """An input parameter is invalid. ``field`` names the offending parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ConvergenceError(ArithmeticError):
    """An iterative solver did not reach its tolerance within the iteration budget."""


def _dec(value: object, field: str) -> Decimal:
    """Coerce ``value`` to a finite Decimal; floats and bools are refused (no binary rounding)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidParameter(field, "must be a Decimal, int or numeric string, not float/bool")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except ArithmeticError:
            raise InvalidParameter(field, f"not a number: {value!r}") from None
    else:
        raise InvalidParameter(field, f"must be a Decimal, int or numeric string, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidParameter(field, "must be finite")
    return result


def _positive(value: object, field: str) -> Decimal:
    result = _dec(value, field)
    if result <= 0:
        raise InvalidParameter(field, "must be greater than 0")
    return result


def _non_negative(value: object, field: str) -> Decimal:
    result = _dec(value, field)
    if result < 0:
        raise InvalidParameter(field, "must not be negative")
    return result


def _pow(base: Decimal, exponent: Decimal) -> Decimal:
    """``base ** exponent`` for base > 0 via ln/exp (call inside the module context)."""
    if exponent == 0 or base == 1:
        return _ONE
    if exponent == exponent.to_integral_value():
        return base ** int(exponent)
    return (base.ln() * exponent).exp()


def _range(lower: object, upper: object) -> tuple[Decimal, Decimal]:
    lo = _positive(lower, "lower")
    hi = _positive(upper, "upper")
    if lo >= hi:
        raise InvalidParameter("upper", "must be greater than lower")
    return lo, hi


# --------------------------------------------------------------------------------------------
# Constant product (Uniswap v2)
# --------------------------------------------------------------------------------------------


def constant_product_reserves_at_price(reserve0: Number, reserve1: Number, price: Number) -> tuple[Decimal, Decimal]:
    """Reserves of an ``x * y = k`` pool after arbitrage to ``price`` (token1 per token0).

    ``x' = sqrt(k / price)``, ``y' = sqrt(k * price)``.
    """
    x = _positive(reserve0, "reserve0")
    y = _positive(reserve1, "reserve1")
    p = _positive(price, "price")
    with localcontext(_CTX):
        k = x * y
        return (k / p).sqrt(), (k * p).sqrt()


def constant_product_reserves_after_price_move(
    reserve0: Number, reserve1: Number, price_ratio: Number
) -> tuple[Decimal, Decimal]:
    """Reserves after the price of token0 (in token1) is multiplied by ``price_ratio``.

    ``x' = x / sqrt(r)``, ``y' = y * sqrt(r)``.
    """
    x = _positive(reserve0, "reserve0")
    y = _positive(reserve1, "reserve1")
    r = _positive(price_ratio, "price_ratio")
    with localcontext(_CTX):
        s = r.sqrt()
        return x / s, y * s


def constant_product_value_after_price_move(price_ratio: Number) -> tuple[Decimal, Decimal]:
    """``(value_lp, value_hodl)`` for an initial value of 1: ``(sqrt(r), (1 + r) / 2)``."""
    r = _positive(price_ratio, "price_ratio")
    with localcontext(_CTX):
        return r.sqrt(), (_ONE + r) / _TWO


def constant_product_impermanent_loss(price_ratio: Number) -> Decimal:
    """Impermanent loss of a 50/50 constant-product position: ``2 sqrt(r) / (1 + r) - 1``."""
    r = _positive(price_ratio, "price_ratio")
    with localcontext(_CTX):
        return _TWO * r.sqrt() / (_ONE + r) - _ONE


def constant_sum_impermanent_loss(price_ratio: Number, n_coins: int = 2) -> Decimal:
    """IL of an ``n``-coin constant-sum pool (the A -> infinity limit of stableswap).

    Token 0's price moves by ``r``, the others keep price 1; arbitrage drains the dearer side,
    so ``value_lp = n * min(r, 1)`` against ``value_hodl = r + n - 1``.
    """
    r = _positive(price_ratio, "price_ratio")
    n = _n_coins(n_coins)
    with localcontext(_CTX):
        return Decimal(n) * min(r, _ONE) / (r + Decimal(n - 1)) - _ONE


# --------------------------------------------------------------------------------------------
# Weighted pools (Balancer)
# --------------------------------------------------------------------------------------------

#: Weights must sum to 1 within this tolerance (Balancer weights sum exactly to 1e18 / 1e18).
WEIGHT_SUM_TOLERANCE = Decimal("1e-18")


def _weights(weights: object, expected: int | None = None) -> list[Decimal]:
    if weights is None:
        raise InvalidParameter("weights", "required for the weighted model")
    if isinstance(weights, str | bytes) or not isinstance(weights, Iterable):
        raise InvalidParameter("weights", "must be a sequence of numbers")
    ws = [_dec(w, "weights") for w in weights]
    if len(ws) < 2:
        raise InvalidParameter("weights", "at least two weights are required")
    if expected is not None and len(ws) != expected:
        raise InvalidParameter("weights", f"expected {expected} weights, got {len(ws)}")
    if any(w <= 0 for w in ws):
        raise InvalidParameter("weights", "every weight must be greater than 0")
    with localcontext(_CTX):
        if abs(sum(ws, _ZERO) - _ONE) > WEIGHT_SUM_TOLERANCE:
            raise InvalidParameter("weights", "weights must sum to 1")
    return ws


def _ratios(price_ratios: object, n: int) -> list[Decimal]:
    if isinstance(price_ratios, Decimal | int | str):
        # A single ratio: token 0 moves, every other token keeps its price.
        return [_positive(price_ratios, "price_ratio")] + [_ONE] * (n - 1)
    if not isinstance(price_ratios, Iterable):
        raise InvalidParameter("price_ratio", "must be a number or a sequence of numbers")
    rs = [_positive(r, "price_ratio") for r in price_ratios]
    if len(rs) != n:
        raise InvalidParameter("price_ratio", f"expected {n} price ratios (one per weight), got {len(rs)}")
    return rs


def _weighted_growth(rs: Sequence[Decimal], ws: Sequence[Decimal]) -> Decimal:
    """``prod(r_i ** w_i)`` (inside the module context)."""
    log_sum = _ZERO
    for r, w in zip(rs, ws, strict=True):
        if r != 1:
            log_sum += w * r.ln()
    return log_sum.exp()


def weighted_value_after_price_move(price_ratios: object, weights: Sequence[Number]) -> tuple[Decimal, Decimal]:
    """``(value_lp, value_hodl)`` of a weighted pool for an initial value of 1.

    ``value_lp = prod(r_i ** w_i)``, ``value_hodl = sum(w_i * r_i)``. ``price_ratios`` is either
    one ratio per token or a single number (token 0 moves, the others stay at 1).
    """
    ws = _weights(weights)
    rs = _ratios(price_ratios, len(ws))
    with localcontext(_CTX):
        return _weighted_growth(rs, ws), sum((w * r for w, r in zip(ws, rs, strict=True)), _ZERO)


def weighted_impermanent_loss(price_ratios: object, weights: Sequence[Number]) -> Decimal:
    """Impermanent loss of a weighted pool: ``prod(r_i ** w_i) / sum(w_i r_i) - 1``."""
    lp, hodl = weighted_value_after_price_move(price_ratios, weights)
    with localcontext(_CTX):
        return lp / hodl - _ONE


def weighted_reserves_after_price_move(
    reserves: Sequence[Number], weights: Sequence[Number], price_ratios: object
) -> list[Decimal]:
    """Balances after arbitrage when each token's price is multiplied by ``price_ratios[i]``.

    Assumes the pool starts in equilibrium (``b_i * p_i / w_i`` equal for all i); then
    ``b_i' = b_i * prod(r_j ** w_j) / r_i`` and the invariant ``prod(b_i ** w_i)`` is unchanged.
    """
    ws = _weights(weights)
    bs = [_positive(b, "reserves") for b in reserves]
    if len(bs) != len(ws):
        raise InvalidParameter("reserves", f"expected {len(ws)} reserves, got {len(bs)}")
    rs = _ratios(price_ratios, len(ws))
    with localcontext(_CTX):
        growth = _weighted_growth(rs, ws)
        return [b * growth / r for b, r in zip(bs, rs, strict=True)]


# --------------------------------------------------------------------------------------------
# Concentrated liquidity (Uniswap v3): exact integer TickMath / LiquidityAmounts port
# --------------------------------------------------------------------------------------------

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


def _int_arg(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(field, "must be an int")
    return value


def get_sqrt_ratio_at_tick(tick: int) -> int:
    """``sqrt(1.0001 ** tick) * 2 ** 96`` rounded exactly as Uniswap v3 ``TickMath`` does (Q64.96)."""
    tick = _int_arg(tick, "tick")
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
    sqrt_price_x96 = _int_arg(sqrt_price_x96, "sqrt_price_x96")
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
    a = _int_arg(a, "sqrt_ratio_a_x96")
    b = _int_arg(b, "sqrt_ratio_b_x96")
    if a <= 0 or b <= 0:
        raise InvalidParameter("sqrt_ratio_a_x96", "sqrt ratios must be positive")
    return (b, a) if a > b else (a, b)


def get_liquidity_for_amount0_x96(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, amount0: int) -> int:
    """``amount0 * sqrtA * sqrtB / (sqrtB - sqrtA)`` in Q96, rounded down (LiquidityAmounts)."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    intermediate = _mul_div(a, b, Q96)
    return _to_uint128(_mul_div(_int_arg(amount0, "amount0"), intermediate, b - a))


def get_liquidity_for_amount1_x96(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, amount1: int) -> int:
    """``amount1 / (sqrtB - sqrtA)`` in Q96, rounded down (LiquidityAmounts)."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    return _to_uint128(_mul_div(_int_arg(amount1, "amount1"), Q96, b - a))


def get_liquidity_for_amounts_x96(
    sqrt_ratio_x96: int, sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, amount0: int, amount1: int
) -> int:
    """Maximum liquidity for the given token amounts (integer port of ``LiquidityAmounts``).

    Uses the current periphery boundary rule: at ``sqrtP <= sqrtA`` only token0 counts.
    """
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    p = _int_arg(sqrt_ratio_x96, "sqrt_ratio_x96")
    if p <= a:
        return get_liquidity_for_amount0_x96(a, b, amount0)
    if p < b:
        return min(get_liquidity_for_amount0_x96(p, b, amount0), get_liquidity_for_amount1_x96(a, p, amount1))
    return get_liquidity_for_amount1_x96(a, b, amount1)


def get_amount0_for_liquidity_x96(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """``L * (sqrtB - sqrtA) / (sqrtA * sqrtB)`` in Q96, rounded down."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    liquidity = _to_uint128(_int_arg(liquidity, "liquidity"))
    return _mul_div(liquidity << 96, b - a, b) // a


def get_amount1_for_liquidity_x96(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """``L * (sqrtB - sqrtA)`` in Q96, rounded down."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    liquidity = _to_uint128(_int_arg(liquidity, "liquidity"))
    return _mul_div(liquidity, b - a, Q96)


def get_amounts_for_liquidity_x96(
    sqrt_ratio_x96: int, sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int
) -> tuple[int, int]:
    """Token amounts of ``liquidity`` at the current sqrt price (integer ``LiquidityAmounts`` port)."""
    a, b = _sorted_x96(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    p = _int_arg(sqrt_ratio_x96, "sqrt_ratio_x96")
    if p <= a:
        return get_amount0_for_liquidity_x96(a, b, liquidity), 0
    if p < b:
        return get_amount0_for_liquidity_x96(p, b, liquidity), get_amount1_for_liquidity_x96(a, p, liquidity)
    return 0, get_amount1_for_liquidity_x96(a, b, liquidity)


# ---- real-number (Decimal) counterparts ---------------------------------------------------


def _sorted_sqrt(a: object, b: object) -> tuple[Decimal, Decimal]:
    sa = _positive(a, "sqrt_price_a")
    sb = _positive(b, "sqrt_price_b")
    if sa == sb:
        raise InvalidParameter("sqrt_price_b", "the range bounds must differ")
    return (sb, sa) if sa > sb else (sa, sb)


def liquidity_for_amount0(sqrt_price_a: Number, sqrt_price_b: Number, amount0: Number) -> Decimal:
    """``amount0 * sa * sb / (sb - sa)`` (real numbers)."""
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    a0 = _non_negative(amount0, "amount0")
    with localcontext(_CTX):
        return a0 * sa * sb / (sb - sa)


def liquidity_for_amount1(sqrt_price_a: Number, sqrt_price_b: Number, amount1: Number) -> Decimal:
    """``amount1 / (sb - sa)`` (real numbers)."""
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    a1 = _non_negative(amount1, "amount1")
    with localcontext(_CTX):
        return a1 / (sb - sa)


def amount0_for_liquidity(sqrt_price_a: Number, sqrt_price_b: Number, liquidity: Number) -> Decimal:
    """``L * (sb - sa) / (sa * sb)`` (real numbers)."""
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    liq = _non_negative(liquidity, "liquidity")
    with localcontext(_CTX):
        return liq * (sb - sa) / (sa * sb)


def amount1_for_liquidity(sqrt_price_a: Number, sqrt_price_b: Number, liquidity: Number) -> Decimal:
    """``L * (sb - sa)`` (real numbers)."""
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    liq = _non_negative(liquidity, "liquidity")
    with localcontext(_CTX):
        return liq * (sb - sa)


def get_liquidity_for_amounts(
    sqrt_price: Number, sqrt_price_a: Number, sqrt_price_b: Number, amount0: Number, amount1: Number
) -> Decimal:
    """Real-number ``LiquidityAmounts.getLiquidityForAmounts`` on plain (not Q96) sqrt prices."""
    sp = _positive(sqrt_price, "sqrt_price")
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    a0 = _non_negative(amount0, "amount0")
    a1 = _non_negative(amount1, "amount1")
    with localcontext(_CTX):
        if sp <= sa:
            return a0 * sa * sb / (sb - sa)
        if sp < sb:
            return min(a0 * sp * sb / (sb - sp), a1 / (sp - sa))
        return a1 / (sb - sa)


def get_amounts_for_liquidity(
    sqrt_price: Number, sqrt_price_a: Number, sqrt_price_b: Number, liquidity: Number
) -> tuple[Decimal, Decimal]:
    """Real-number ``LiquidityAmounts.getAmountsForLiquidity`` on plain (not Q96) sqrt prices."""
    sp = _positive(sqrt_price, "sqrt_price")
    sa, sb = _sorted_sqrt(sqrt_price_a, sqrt_price_b)
    liq = _non_negative(liquidity, "liquidity")
    return _amounts_for_liquidity(sp, sa, sb, liq)


def _amounts_for_liquidity(sp: Decimal, sa: Decimal, sb: Decimal, liq: Decimal) -> tuple[Decimal, Decimal]:
    with localcontext(_CTX):
        if sp <= sa:
            return liq * (sb - sa) / (sa * sb), _ZERO
        if sp < sb:
            return liq * (sb - sp) / (sp * sb), liq * (sp - sa)
        return _ZERO, liq * (sb - sa)


def position_liquidity(price: Number, lower: Number, upper: Number, amount0: Number, amount1: Number) -> Decimal:
    """Liquidity of a range position from amounts; prices are token1 per token0 (not sqrt)."""
    p = _positive(price, "price")
    lo, hi = _range(lower, upper)
    with localcontext(_CTX):
        return get_liquidity_for_amounts(p.sqrt(), lo.sqrt(), hi.sqrt(), amount0, amount1)


def position_amounts(price: Number, lower: Number, upper: Number, liquidity: Number) -> tuple[Decimal, Decimal]:
    """Token amounts of a range position at ``price`` (token1 per token0, not sqrt)."""
    p = _positive(price, "price")
    lo, hi = _range(lower, upper)
    liq = _non_negative(liquidity, "liquidity")
    with localcontext(_CTX):
        return _amounts_for_liquidity(p.sqrt(), lo.sqrt(), hi.sqrt(), liq)


RangeStatus = Literal["below", "in_range", "above"]


def range_status(price: Number, lower: Number, upper: Number) -> RangeStatus:
    """``"below"`` if price < lower, ``"above"`` if price >= upper, else ``"in_range"``.

    Mirrors Uniswap v3, where a position is active while ``tickLower <= tick < tickUpper``: at
    ``price == lower`` it is active (holding only token0), at ``price == upper`` it is not.
    """
    p = _positive(price, "price")
    lo, hi = _range(lower, upper)
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


_LN_TICK_BASE = Decimal("1.0001").ln(_CTX)


def range_bound_distances(price: Number, lower: Number, upper: Number) -> BoundDistances:
    """Distance from ``price`` to the ``lower`` and ``upper`` bounds (see :class:`BoundDistances`)."""
    p = _positive(price, "price")
    lo, hi = _range(lower, upper)
    with localcontext(_CTX):
        return BoundDistances(
            to_lower=lo / p - _ONE,
            to_upper=hi / p - _ONE,
            ticks_to_lower=(lo / p).ln() / _LN_TICK_BASE,
            ticks_to_upper=(hi / p).ln() / _LN_TICK_BASE,
        )


# ---- tick / price conversions (real numbers) -----------------------------------------------

_TICK_BASE = Decimal("1.0001")


def tick_to_price(tick: int, decimals0: int = 0, decimals1: int = 0) -> Decimal:
    """``1.0001 ** tick`` (token1 per token0 in raw units), times ``10 ** (decimals0 - decimals1)``.

    With the tokens' decimals the result is the human-readable price of token0 in token1.
    """
    tick = _int_arg(tick, "tick")
    if not MIN_TICK <= tick <= MAX_TICK:
        raise InvalidParameter("tick", f"must be within [{MIN_TICK}, {MAX_TICK}]")
    with localcontext(_CTX):
        return (_TICK_BASE**tick).scaleb(_int_arg(decimals0, "decimals0") - _int_arg(decimals1, "decimals1"))


def price_to_tick(price: Number, decimals0: int = 0, decimals1: int = 0) -> int:
    """Greatest tick with ``tick_to_price(tick) <= price`` (inverse of :func:`tick_to_price`)."""
    p = _positive(price, "price")
    with localcontext(_CTX):
        raw = p.scaleb(_int_arg(decimals1, "decimals1") - _int_arg(decimals0, "decimals0"))
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
    tick = _int_arg(tick, "tick")
    if not MIN_TICK <= tick <= MAX_TICK:
        raise InvalidParameter("tick", f"must be within [{MIN_TICK}, {MAX_TICK}]")
    with localcontext(_CTX):
        return (_TICK_BASE**tick).sqrt()


def sqrt_price_x96_to_price(sqrt_price_x96: int, decimals0: int = 0, decimals1: int = 0) -> Decimal:
    """``(sqrtPriceX96 / 2 ** 96) ** 2``, times ``10 ** (decimals0 - decimals1)``."""
    x = _int_arg(sqrt_price_x96, "sqrt_price_x96")
    if x <= 0:
        raise InvalidParameter("sqrt_price_x96", "must be positive")
    with localcontext(_CTX):
        return (Decimal(x * x) / Decimal(1 << 192)).scaleb(
            _int_arg(decimals0, "decimals0") - _int_arg(decimals1, "decimals1")
        )


def price_to_sqrt_price_x96(price: Number, decimals0: int = 0, decimals1: int = 0) -> int:
    """``floor(sqrt(raw_price) * 2 ** 96)`` where ``raw_price = price * 10 ** (decimals1 - decimals0)``."""
    p = _positive(price, "price")
    with localcontext(_CTX) as ctx:
        raw = p.scaleb(_int_arg(decimals1, "decimals1") - _int_arg(decimals0, "decimals0"))
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
    r = _positive(price_ratio, "price_ratio")
    lo, hi = _range(lower, upper)
    with localcontext(_CTX):
        sa, sb = lo.sqrt(), hi.sqrt()
        x0, y0 = _amounts_for_liquidity(_ONE, sa, sb, _ONE)
        x1, y1 = _amounts_for_liquidity(r.sqrt(), sa, sb, _ONE)
        v0 = x0 + y0
        return (x1 * r + y1) / v0, (x0 * r + y0) / v0, lo <= r < hi


def concentrated_impermanent_loss(price_ratio: Number, lower: Number, upper: Number) -> Decimal:
    """IL of a range position (entry price 1, bounds as multiples of it) against holding."""
    lp, hodl, _ = concentrated_value_after_price_move(price_ratio, lower, upper)
    with localcontext(_CTX):
        return lp / hodl - _ONE


# --------------------------------------------------------------------------------------------
# StableSwap (Curve)
# --------------------------------------------------------------------------------------------


def _n_coins(n_coins: object) -> int:
    n = _int_arg(n_coins, "n_coins")
    if n < 2:
        raise InvalidParameter("n_coins", "at least two coins are required")
    return n


def _amplification(amplification: object) -> Decimal:
    if amplification is None:
        raise InvalidParameter("amplification", "required for the stableswap model")
    return _positive(amplification, "amplification")


def stableswap_amplification_from_onchain(onchain_a: Number, n_coins: int) -> Decimal:
    """Convert a Curve contract's ``A()`` to the whitepaper ``A`` used here.

    Curve's Vyper pools compute ``Ann = A_contract * N_COINS`` where the whitepaper has
    ``A * n ** n``, so ``A_contract = A * n ** (n - 1)`` and ``A = A_contract / n ** (n - 1)``.
    (Newer pools expose ``A_precise()``, which is ``A()`` times ``A_PRECISION``; divide first.)
    """
    a = _positive(onchain_a, "amplification")
    n = _n_coins(n_coins)
    with localcontext(_CTX):
        return a / Decimal(n ** (n - 1))


def _ann(amp: Decimal, n: int) -> Decimal:
    return amp * Decimal(n**n)


def _balances(balances: object, field: str = "balances") -> list[Decimal]:
    if isinstance(balances, str | bytes) or not isinstance(balances, Iterable):
        raise InvalidParameter(field, "must be a sequence of numbers")
    xs = [_positive(b, field) for b in balances]
    if len(xs) < 2:
        raise InvalidParameter(field, "at least two coins are required")
    return xs


def _stableswap_d(xs: Sequence[Decimal], amp: Decimal) -> Decimal:
    n = len(xs)
    nd = Decimal(n)
    ann = _ann(amp, n)
    s = sum(xs, _ZERO)
    d = s
    for _ in range(_MAX_ITERATIONS):
        d_p = d
        for x in xs:
            d_p = d_p * d / (x * nd)
        d_prev = d
        d = (ann * s + d_p * nd) * d / ((ann - _ONE) * d + (nd + _ONE) * d_p)
        if abs(d - d_prev) <= d * _NEWTON_TOLERANCE:
            return d
    raise ConvergenceError("stableswap invariant D did not converge")


def stableswap_invariant(balances: Sequence[Number], amplification: Number) -> Decimal:
    """StableSwap invariant ``D`` by Newton's iteration (Curve's ``get_D``, on real numbers).

    Convention (Curve whitepaper / docs.curve.finance): with ``n`` coins of balances ``x_i``,
    ``A * n**n * sum(x_i) + D = A * D * n**n + D**(n+1) / (n**n * prod(x_i))``. ``amplification``
    is this whitepaper ``A``; a contract's ``A()`` equals ``A * n ** (n - 1)`` (see
    :func:`stableswap_amplification_from_onchain`). ``D`` equals the sum of balances for a
    balanced pool. Converges to a relative change below 1e-45; raises :class:`ConvergenceError`
    otherwise.
    """
    xs = _balances(balances)
    amp = _amplification(amplification)
    with localcontext(_CTX):
        return _stableswap_d(xs, amp)


def _stableswap_y(xs: Sequence[Decimal], j: int, d: Decimal, amp: Decimal) -> Decimal:
    n = len(xs)
    nd = Decimal(n)
    ann = _ann(amp, n)
    c = d
    s_ = _ZERO
    for k, x in enumerate(xs):
        if k == j:
            continue
        s_ += x
        c = c * d / (x * nd)
    c = c * d / (ann * nd)
    b = s_ + d / ann - d
    # y**2 + b*y - c = 0 (Curve iterates Newton on this quadratic); take the positive root, in a
    # cancellation-free form.
    root = (b * b + 4 * c).sqrt()
    if b >= 0:
        return _TWO * c / (b + root)
    return (root - b) / _TWO


def stableswap_y(balances: Sequence[Number], j: int, d: Number, amplification: Number) -> Decimal:
    """Balance of coin ``j`` that keeps the invariant ``d`` given the other balances (``get_y``).

    ``balances[j]`` is ignored. Solves Curve's quadratic
    ``y**2 + (S' + D/Ann - D) * y = D**(n+1) / (n**n * prod' * Ann)`` in closed form, where
    ``S'``/``prod'`` run over the other coins and ``Ann = A * n**n``.
    """
    xs = _balances(balances)
    j = _int_arg(j, "j")
    if not 0 <= j < len(xs):
        raise InvalidParameter("j", "coin index out of range")
    dd = _positive(d, "d")
    amp = _amplification(amplification)
    with localcontext(_CTX):
        return _stableswap_y(xs, j, dd, amp)


def _stableswap_partials(xs: Sequence[Decimal], d: Decimal, amp: Decimal) -> list[Decimal]:
    n = len(xs)
    ann = _ann(amp, n)
    prod = _ONE
    for x in xs:
        prod *= x
    k = d ** (n + 1) / (Decimal(n**n) * prod)
    return [ann + k / x for x in xs]


def stableswap_marginal_price(
    balances: Sequence[Number], amplification: Number, i: int = 0, j: int = 1, d: Number | None = None
) -> Decimal:
    """Marginal price of coin ``i`` in units of coin ``j``: ``-dx_j/dx_i`` along the invariant.

    Implicit differentiation of ``F = Ann*sum(x) + D(1-Ann) - D**(n+1)/(n**n prod(x))`` at
    constant D gives ``-dx_j/dx_i = F_i / F_j`` with ``F_k = Ann + D**(n+1)/(n**n prod(x) x_k)``.
    It is the (positive) amount of coin ``j`` received per unit of coin ``i`` sold, to first
    order. ``d`` defaults to the invariant of ``balances``.
    """
    xs = _balances(balances)
    amp = _amplification(amplification)
    i = _int_arg(i, "i")
    j = _int_arg(j, "j")
    if not (0 <= i < len(xs) and 0 <= j < len(xs)):
        raise InvalidParameter("i" if not 0 <= i < len(xs) else "j", "coin index out of range")
    with localcontext(_CTX):
        dd = _stableswap_d(xs, amp) if d is None else _positive(d, "d")
        partials = _stableswap_partials(xs, dd, amp)
        return partials[i] / partials[j]


def _symmetric_state(y: Decimal, n: int, d: Decimal, ann: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """Coin-0 balance ``x0``, constant ``K`` and price of coin 0 when the other n-1 coins hold ``y``.

    For fixed ``y`` the invariant is the quadratic ``Ann x0**2 + c1 x0 - K' = 0`` with
    ``c1 = Ann (n-1) y + D (1 - Ann)`` and ``K' = D**(n+1) / (n**n y**(n-1))``.
    """
    nd = Decimal(n)
    k_prime = d ** (n + 1) / (Decimal(n**n) * y ** (n - 1))
    c1 = ann * (nd - _ONE) * y + d * (_ONE - ann)
    root = (c1 * c1 + 4 * ann * k_prime).sqrt()
    x0 = _TWO * k_prime / (c1 + root) if c1 >= 0 else (root - c1) / (_TWO * ann)
    k = k_prime / x0
    price = (ann + k / x0) / (ann + k / y)
    return x0, k, price


def _solve_symmetric(r: Decimal, n: int, amp: Decimal, start: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """Pool with all n balances 1 (D = n) after coin 0's price moves to ``r``: ``(x0, y)``.

    ``price(y)`` increases strictly with ``y`` on ``(0, inf)``; Newton's method with the analytic
    derivative runs inside a bracket ``(lo, hi)`` that every evaluation narrows; a step that leaves
    the bracket, or is not at most half the previous one, is replaced by doubling (no upper bound
    yet), halving (no lower bound yet) or a (geometric) bisection.
    """
    if r == 1:
        return _ONE, _ONE
    if n == 2 and r > 1 and start is None:
        # Two coins are symmetric: the state at r is the state at 1/r with the coins swapped, and
        # the r < 1 side converges in fewer iterations from the constant-product start.
        x0, y = _solve_symmetric(_ONE / r, n, amp)
        return y, x0
    nd = Decimal(n)
    n1 = nd - _ONE
    ann = _ann(amp, n)
    d = nd
    tol = STABLESWAP_PRICE_TOLERANCE
    lo = _ZERO
    hi: Decimal | None = None
    last_step: Decimal | None = None
    if start is not None:
        y = start  # warm start, e.g. the previous point of a curve
    else:
        # Constant-product start (prod(x) constant): y = r ** (1/n).
        y = r.sqrt() if n == 2 else _pow(r, _ONE / nd)
    for _ in range(_MAX_ITERATIONS):
        x0, k, p = _symmetric_state(y, n, d, ann)
        if abs(p / r - _ONE) <= tol:
            return x0, y
        if p < r:
            lo = y
        else:
            hi = y
        # d(price)/dy: x0' = -(n-1)/price, K' = K (-x0'/x0 - (n-1)/y), price = N/M.
        m = ann + k / y
        num = ann + k / x0
        dx0 = -n1 / p
        dk = k * (-dx0 / x0 - n1 / y)
        dnum = dk / x0 - k * dx0 / (x0 * x0)
        dm = dk / y - k / (y * y)
        dp = (dnum * m - num * dm) / (m * m)
        y_next = y - (p - r) / dp if dp > 0 else _ZERO
        if hi is None:
            # No upper bound yet: at most double (a Newton step from the flat middle of a
            # high-A curve would land absurdly far out in the steep region).
            if y_next <= lo or y_next > y * _TWO:
                y_next = y * _TWO
        else:
            step = abs(y_next - y)
            # Bisect when Newton leaves the bracket or its steps stop halving (the slow one-sided
            # approach on the steep side of a high-A curve); quadratic convergence is unaffected.
            if not lo < y_next < hi or (last_step is not None and step > last_step / _TWO):
                if lo == 0:
                    y_next = hi / _TWO
                else:
                    y_next = (lo * hi).sqrt() if hi > lo * _TWO else (lo + hi) / _TWO
                last_step = None
            else:
                last_step = step
        if y_next == y:
            break
        y = y_next
    raise ConvergenceError(f"stableswap price solver did not reach relative tolerance {tol} (A={amp}, n={n}, r={r})")


def stableswap_value_after_price_move(
    price_ratio: Number, amplification: Number, n_coins: int = 2
) -> tuple[Decimal, Decimal, list[Decimal]]:
    """``(value_lp, value_hodl, balances)`` after coin 0's price moves by ``price_ratio``.

    The pool starts balanced (all coins worth 1, balance 1 each, value normalised to 1). Coin 0's
    external price becomes ``r`` while the others stay at 1; arbitrage moves the pool to the
    balances where the marginal price of coin 0 in any other coin equals ``r`` (the other coins
    stay equal by symmetry). The price is matched to a relative tolerance of
    :data:`STABLESWAP_PRICE_TOLERANCE` (1e-30) by a bracketed Newton iteration; failure raises
    :class:`ConvergenceError`. ``balances`` are those of a pool that started with one unit of
    each coin (initial value ``n``; ``value_lp`` and ``value_hodl`` are divided by ``n``).
    """
    r = _positive(price_ratio, "price_ratio")
    amp = _amplification(amplification)
    n = _n_coins(n_coins)
    with localcontext(_CTX):
        x0, y = _solve_symmetric(r, n, amp)
        nd = Decimal(n)
        value_lp = (r * x0 + (nd - _ONE) * y) / nd
        value_hodl = (r + nd - _ONE) / nd
        return value_lp, value_hodl, [x0] + [y] * (n - 1)


def stableswap_impermanent_loss(price_ratio: Number, amplification: Number, n_coins: int = 2) -> Decimal:
    """IL of a balanced stableswap position when coin 0's price moves by ``price_ratio``."""
    lp, hodl, _ = stableswap_value_after_price_move(price_ratio, amplification, n_coins)
    with localcontext(_CTX):
        return lp / hodl - _ONE


def stableswap_balances_at_prices(
    balances: Sequence[Number], amplification: Number, prices: Sequence[Number]
) -> list[Decimal]:
    """Balances (same invariant D) at which the pool's marginal prices equal ``prices``.

    General n-coin arbitrage solver. At equilibrium ``F_i = Ann + K/x_i = lambda * p_i`` with
    ``K = D**(n+1)/(n**n prod x)``; hence ``x_i = K/(lambda p_i - Ann)`` and
    ``K = D * (prod(lambda p_i - Ann) / n**n) ** (1/(n+1))``; the remaining invariant equation
    ``Ann sum(x_i) - K + D (1 - Ann) = 0`` is solved for ``lambda`` by bracketed Newton. The
    resulting price ratios match ``prices`` to :data:`STABLESWAP_PRICE_TOLERANCE` relative, or
    :class:`ConvergenceError` is raised.
    """
    xs = _balances(balances)
    amp = _amplification(amplification)
    ps = _balances(prices, "prices")
    if len(ps) != len(xs):
        raise InvalidParameter("prices", f"expected {len(xs)} prices, got {len(ps)}")
    with localcontext(_CTX):
        d = _stableswap_d(xs, amp)
        result = _solve_general(d, amp, ps)
        partials = _stableswap_partials(result, d, amp)
        for k in range(1, len(ps)):
            if abs((partials[k] / partials[0]) / (ps[k] / ps[0]) - _ONE) > STABLESWAP_PRICE_TOLERANCE:
                raise ConvergenceError("stableswap price solver did not reach its tolerance")
        return result


def _solve_general(d: Decimal, amp: Decimal, ps: Sequence[Decimal]) -> list[Decimal]:
    n = len(ps)
    nd = Decimal(n)
    ann = _ann(amp, n)
    p_min = min(ps)
    # lambda = Ann/p_min + delta with delta > 0; work in delta to avoid cancellation.
    gaps = [ann * (p / p_min - _ONE) for p in ps]  # lambda*p_i - Ann = gap_i + p_i*delta
    n_pow = Decimal(n**n)
    inv_np1 = _ONE / (nd + _ONE)

    def evaluate(delta: Decimal) -> tuple[Decimal, Decimal, list[Decimal]]:
        terms = [g + p * delta for g, p in zip(gaps, ps, strict=True)]
        prod = _ONE
        for t in terms:
            prod *= t
        k = d * ((prod / n_pow).ln() * inv_np1).exp()
        xs = [k / t for t in terms]
        g = ann * sum(xs, _ZERO) - k + d * (_ONE - ann)
        dk = k * inv_np1 * sum((p / t for p, t in zip(ps, terms, strict=True)), _ZERO)
        dg = ann * sum(((dk - x * p) / t for x, p, t in zip(xs, ps, terms, strict=True)), _ZERO) - dk
        return g, dg, xs

    delta = (ann + nd) / p_min  # exact for the balanced case with equal prices, a fine start
    g, dg, xs = evaluate(delta)
    lo = hi = delta
    if g > 0:
        while g > 0:
            lo = hi
            hi = hi * _TWO
            g, dg, xs = evaluate(hi)
            if hi > Decimal("1e60"):
                raise ConvergenceError("stableswap price solver could not bracket lambda")
        delta = hi
    elif g < 0:
        while g < 0:
            hi = lo
            lo = lo / _TWO
            g, dg, xs = evaluate(lo)
            if lo < Decimal("1e-60"):
                raise ConvergenceError("stableswap price solver could not bracket lambda")
        delta = lo
    for _ in range(_MAX_ITERATIONS):
        if g == 0:
            return xs
        if g > 0:
            lo = delta
        else:
            hi = delta
        step = g / dg if dg != 0 else _ZERO
        nxt = delta - step
        if not lo < nxt < hi or step == 0:
            nxt = (lo * hi).sqrt()
        if abs(nxt - delta) <= delta * _NEWTON_TOLERANCE:
            _, _, xs = evaluate(nxt)
            return xs
        delta = nxt
        g, dg, xs = evaluate(delta)
    raise ConvergenceError("stableswap price solver did not converge")


# --------------------------------------------------------------------------------------------
# Break-even fee APR
# --------------------------------------------------------------------------------------------

Compounding = Literal["simple", "continuous"] | int


def break_even_fee_apr(impermanent_loss: Number, days: Number, *, compounding: Compounding = "simple") -> Decimal:
    """Fee APR (fraction per 365-day year) that offsets ``impermanent_loss`` over ``days``.

    Assumption: fees accrue on the LP position's own value, so break-even means
    ``value_lp * G = value_hodl``, i.e. a fee growth factor ``G = 1 / (1 + IL)`` over the horizon.

    * ``"simple"`` (default, no compounding): ``G = 1 + APR * days / 365`` so
      ``APR = (1 / (1 + IL) - 1) * 365 / days`` (``= -IL/(1+IL) * 365/days``; for small IL this is
      about ``-IL * 365 / days``).
    * an ``int`` ``n`` (fees reinvested ``n`` times a year): ``G = (1 + APR/n) ** (n * days/365)``.
    * ``"continuous"``: ``G = exp(APR * days / 365)`` so ``APR = -ln(1 + IL) * 365 / days``.

    ``impermanent_loss`` must be in ``(-1, 0]``-ish: values >= 0 return 0 (nothing to offset);
    ``<= -1`` is rejected.
    """
    il = _dec(impermanent_loss, "impermanent_loss")
    if il <= -1:
        raise InvalidParameter("impermanent_loss", "must be greater than -1")
    t = _positive(days, "days")
    if il >= 0:
        return _ZERO
    with localcontext(_CTX):
        growth = _ONE / (_ONE + il)
        years = t / _DAYS_PER_YEAR
        if compounding == "simple":
            return (growth - _ONE) / years
        if compounding == "continuous":
            return growth.ln() / years
        n = _int_arg(compounding, "compounding")
        if n <= 0:
            raise InvalidParameter("compounding", "must be 'simple', 'continuous' or a positive int")
        nd = Decimal(n)
        return nd * ((growth.ln() / (nd * years)).exp() - _ONE)


# --------------------------------------------------------------------------------------------
# Uniform calculator entry point
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ILResult:
    """Impermanent loss and values for an initial position value of 1.

    ``in_range`` is a bool for the concentrated model and ``None`` for the others.
    """

    impermanent_loss: Decimal
    value_lp: Decimal
    value_hodl: Decimal
    in_range: bool | None = None


def _require(value: object, field: str, model: str) -> None:
    if value is None:
        raise InvalidParameter(field, f"required for the {model} model")


def impermanent_loss_for(
    model: str,
    price_ratio: Number,
    *,
    weights: Sequence[Number] | None = None,
    lower: Number | None = None,
    upper: Number | None = None,
    amplification: Number | None = None,
    n_coins: int = 2,
) -> ILResult:
    """Impermanent loss for one of :data:`MODELS` at ``price_ratio`` = new price / entry price.

    * ``constant_product``: 50/50 Uniswap v2.
    * ``weighted``: ``weights`` (two or more, positive, summing to 1); token 0 moves by
      ``price_ratio``, every other token keeps its price.
    * ``concentrated``: ``lower`` < ``upper`` as multiples of the entry price (entry = 1).
    * ``stableswap``: whitepaper ``amplification`` A (> 0) and ``n_coins`` (>= 2); balanced pool,
      coin 0 moves by ``price_ratio``.

    Invalid input raises :class:`InvalidParameter` with ``.field`` set to the offending
    parameter (``model``, ``price_ratio``, ``weights``, ``lower``, ``upper``, ``amplification``
    or ``n_coins``).
    """
    if model not in MODELS:
        raise InvalidParameter("model", f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    r = _positive(price_ratio, "price_ratio")
    if model == "constant_product":
        lp, hodl = constant_product_value_after_price_move(r)
        in_range = None
    elif model == "weighted":
        _require(weights, "weights", model)
        lp, hodl = weighted_value_after_price_move(r, weights)  # type: ignore[arg-type]
        in_range = None
    elif model == "concentrated":
        _require(lower, "lower", model)
        _require(upper, "upper", model)
        lp, hodl, in_range = concentrated_value_after_price_move(r, lower, upper)  # type: ignore[arg-type]
    else:
        amp = _amplification(amplification)
        lp, hodl, _ = stableswap_value_after_price_move(r, amp, _n_coins(n_coins))
        in_range = None
    with localcontext(_CTX):
        return ILResult(impermanent_loss=lp / hodl - _ONE, value_lp=lp, value_hodl=hodl, in_range=in_range)


_IL_PARAMS = frozenset({"weights", "lower", "upper", "amplification", "n_coins"})


def il_curve(model: str, ratios: Iterable[Number], **params: object) -> list[ILResult]:
    """:func:`impermanent_loss_for` evaluated at each price ratio (same keyword parameters).

    For ``stableswap`` each solve is warm-started from the previous point's solution (same
    results, to the solver tolerance, in far fewer iterations when ``ratios`` are sorted).
    """
    unknown = set(params) - _IL_PARAMS
    if unknown:
        raise TypeError(f"il_curve() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    if model != "stableswap":
        return [impermanent_loss_for(model, r, **params) for r in ratios]  # type: ignore[arg-type]
    amp = _amplification(params.get("amplification"))
    n = _n_coins(params.get("n_coins", 2))
    results = []
    start: Decimal | None = None
    with localcontext(_CTX):
        nd = Decimal(n)
        for ratio in ratios:
            r = _positive(ratio, "price_ratio")
            x0, y = _solve_symmetric(r, n, amp, start)
            start = y
            lp = (r * x0 + (nd - _ONE) * y) / nd
            hodl = (r + nd - _ONE) / nd
            results.append(ILResult(impermanent_loss=lp / hodl - _ONE, value_lp=lp, value_hodl=hodl))
    return results


# --------------------------------------------------------------------------------------------
# Position valuation from real amounts and USD prices
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PositionValuation:
    """Valuation of an LP position now versus holding the deposited tokens.

    * ``amounts_deposited`` — token amounts the position effectively started with (equal to the
      input except for ``concentrated``, where amounts beyond what the liquidity absorbs at the
      deposit price are not part of the position, as in Uniswap's mint).
    * ``amounts_now`` — token amounts the position holds at the current prices (after arbitrage).
    * ``value_at_deposit`` — ``sum(amounts_deposited * prices_at_deposit)``.
    * ``value_lp`` — ``sum(amounts_now * prices_now)``.
    * ``value_hodl`` — ``sum(amounts_deposited * prices_now)``.
    * ``il_absolute`` — ``value_lp - value_hodl`` (<= 0, in USD; fees and rewards excluded).
    * ``il_relative`` — ``value_lp / value_hodl - 1``.
    * ``in_range`` — range status for ``concentrated`` (None for other models).
    """

    amounts_deposited: tuple[Decimal, ...]
    amounts_now: tuple[Decimal, ...]
    value_at_deposit: Decimal
    value_lp: Decimal
    value_hodl: Decimal
    il_absolute: Decimal
    il_relative: Decimal
    in_range: bool | None = None


def _vector(values: object, field: str, n: int | None, *, positive: bool) -> list[Decimal]:
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidParameter(field, "must be a sequence of numbers")
    conv = _positive if positive else _non_negative
    out = [conv(v, field) for v in values]
    if n is not None and len(out) != n:
        raise InvalidParameter(field, f"expected {n} values, got {len(out)}")
    if len(out) < 2:
        raise InvalidParameter(field, "at least two tokens are required")
    return out


def value_position(
    model: str,
    amounts: Sequence[Number],
    prices_at_deposit: Sequence[Number],
    prices_now: Sequence[Number],
    *,
    weights: Sequence[Number] | None = None,
    lower: Number | None = None,
    upper: Number | None = None,
    amplification: Number | None = None,
) -> PositionValuation:
    """Value an LP position from the token amounts deposited and USD prices then and now.

    ``amounts``, ``prices_at_deposit`` and ``prices_now`` are per token (whole-token units, USD
    per token). The position is treated as a pool of its own holding exactly the deposited
    amounts (a proportional share behaves identically); its amounts now are where arbitrage takes
    that pool at the current price ratios. Model specifics:

    * ``constant_product`` (2 tokens): ``k = a0 * a1`` and ``P = price0 / price1`` now, so
      ``a0' = sqrt(k / P)``, ``a1' = sqrt(k P)``. Both amounts must be > 0.
    * ``weighted`` (``len(weights)`` tokens): ``a_i' = w_i * V' / price_i`` with
      ``V' = prod((a_i * price_i / w_i) ** w_i)`` (Balancer's value function).
    * ``concentrated`` (2 tokens): ``lower``/``upper`` are *absolute* prices, token1 per token0
      (e.g. USDC per ETH). The deposit price is ``prices_at_deposit[0] / prices_at_deposit[1]``;
      the liquidity is the maximum the amounts allow at that price (Uniswap's
      ``getLiquidityForAmounts``), and ``amounts_deposited`` are the amounts that liquidity
      really holds (any excess is ignored).
    * ``stableswap`` (n coins, whitepaper ``amplification``): the invariant D of the deposited
      amounts is kept and the balances are solved so the marginal prices match ``prices_now``
      (:func:`stableswap_balances_at_prices`).

    The amounts' ratio is not required to match the deposit prices: if it does not, the result
    includes the loss to the arbitrage that would rebalance such a pool.
    """
    if model not in MODELS:
        raise InvalidParameter("model", f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
    n: int | None
    if model in ("constant_product", "concentrated"):
        n = 2
    elif model == "weighted":
        ws = _weights(weights)
        n = len(ws)
    else:
        n = None
    amts = _vector(amounts, "amounts", n, positive=False)
    n = len(amts)
    p_dep = _vector(prices_at_deposit, "prices_at_deposit", n, positive=True)
    p_now = _vector(prices_now, "prices_now", n, positive=True)
    in_range: bool | None = None
    deposited = amts
    with localcontext(_CTX):
        if model == "constant_product":
            if amts[0] <= 0 or amts[1] <= 0:
                raise InvalidParameter("amounts", "a constant-product position needs both tokens")
            k = amts[0] * amts[1]
            price = p_now[0] / p_now[1]
            now = [(k / price).sqrt(), (k * price).sqrt()]
        elif model == "weighted":
            if any(a <= 0 for a in amts):
                raise InvalidParameter("amounts", "a weighted position needs every token")
            log_v = sum(
                (w * (a * p / w).ln() for w, a, p in zip(ws, amts, p_now, strict=True)),
                _ZERO,
            )
            v_now = log_v.exp()
            now = [w * v_now / p for w, p in zip(ws, p_now, strict=True)]
        elif model == "concentrated":
            _require(lower, "lower", model)
            _require(upper, "upper", model)
            lo, hi = _range(lower, upper)
            if amts[0] <= 0 and amts[1] <= 0:
                raise InvalidParameter("amounts", "at least one amount must be greater than 0")
            sa, sb = lo.sqrt(), hi.sqrt()
            s_dep = (p_dep[0] / p_dep[1]).sqrt()
            price_now = p_now[0] / p_now[1]
            liq = get_liquidity_for_amounts(s_dep, sa, sb, amts[0], amts[1])
            if liq <= 0:
                raise InvalidParameter("amounts", "the amounts provide no liquidity in this range at the deposit price")
            deposited = list(_amounts_for_liquidity(s_dep, sa, sb, liq))
            now = list(_amounts_for_liquidity(price_now.sqrt(), sa, sb, liq))
            in_range = lo <= price_now < hi
        else:
            amp = _amplification(amplification)
            if any(a <= 0 for a in amts):
                raise InvalidParameter("amounts", "a stableswap position needs every coin (balances must be > 0)")
            now = stableswap_balances_at_prices(amts, amp, p_now)
        value_at_deposit = sum((a * p for a, p in zip(deposited, p_dep, strict=True)), _ZERO)
        value_lp = sum((a * p for a, p in zip(now, p_now, strict=True)), _ZERO)
        value_hodl = sum((a * p for a, p in zip(deposited, p_now, strict=True)), _ZERO)
        return PositionValuation(
            amounts_deposited=tuple(deposited),
            amounts_now=tuple(now),
            value_at_deposit=value_at_deposit,
            value_lp=value_lp,
            value_hodl=value_hodl,
            il_absolute=value_lp - value_hodl,
            il_relative=value_lp / value_hodl - _ONE,
            in_range=in_range,
        )
