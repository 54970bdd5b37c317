"""Pure AMM mathematics for liquidity-provider analytics.

This package has no Django imports and uses only the standard library. Every money- or
price-related quantity is a :class:`decimal.Decimal`; ``float`` is never used for values and
float *inputs* are rejected (pass ``Decimal``, ``int`` or a numeric ``str``).

Precision
    All arithmetic runs inside ``decimal.localcontext(CTX)`` where ``CTX`` (in ``numbers``) has a
    precision of 60 significant digits, so the caller's decimal context does not influence results. Results
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

Layout (one module per pool model, plus what they share)
    ``numbers`` (context, errors, argument coercion), ``constant_product``, ``weighted``,
    ``concentrated``, ``stableswap`` (and the constant-sum limit), ``break_even``, ``il`` (the
    calculator entry points) and ``valuation`` (positions). This package re-exports the public
    names, so callers write ``from pools.amm import value_position``.
"""

from __future__ import annotations

from pools.amm.break_even import (
    break_even_fee_apr,
)
from pools.amm.concentrated import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    Q96,
    BoundDistances,
    amount0_for_liquidity,
    amount1_for_liquidity,
    concentrated_impermanent_loss,
    concentrated_value_after_price_move,
    get_amount0_for_liquidity_x96,
    get_amount1_for_liquidity_x96,
    get_amounts_for_liquidity,
    get_amounts_for_liquidity_x96,
    get_liquidity_for_amount0_x96,
    get_liquidity_for_amount1_x96,
    get_liquidity_for_amounts,
    get_liquidity_for_amounts_x96,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
    liquidity_for_amount0,
    liquidity_for_amount1,
    position_amounts,
    position_liquidity,
    price_to_sqrt_price_x96,
    price_to_tick,
    range_bound_distances,
    range_status,
    sqrt_price_x96_to_price,
    tick_to_price,
    tick_to_sqrt_price,
)
from pools.amm.constant_product import (
    constant_product_impermanent_loss,
    constant_product_reserves_after_price_move,
    constant_product_reserves_at_price,
    constant_product_value_after_price_move,
)
from pools.amm.il import (
    ILResult,
    il_curve,
    impermanent_loss_for,
)
from pools.amm.numbers import (
    MODELS,
    ConvergenceError,
    InvalidParameter,
)
from pools.amm.stableswap import (
    STABLESWAP_PRICE_TOLERANCE,
    constant_sum_impermanent_loss,
    stableswap_amplification_from_onchain,
    stableswap_balances_at_prices,
    stableswap_impermanent_loss,
    stableswap_invariant,
    stableswap_marginal_price,
    stableswap_value_after_price_move,
    stableswap_y,
)
from pools.amm.valuation import (
    PositionValuation,
    value_position,
)
from pools.amm.weighted import (
    WEIGHT_SUM_TOLERANCE,
    weighted_impermanent_loss,
    weighted_reserves_after_price_move,
    weighted_value_after_price_move,
)

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
