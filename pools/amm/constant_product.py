"""Constant-product pools (Uniswap v2, ``x * y = k``)."""

from __future__ import annotations

from decimal import Decimal, localcontext

from pools.amm.numbers import CTX, ONE, TWO, Number, positive_arg


def constant_product_reserves_at_price(reserve0: Number, reserve1: Number, price: Number) -> tuple[Decimal, Decimal]:
    """Reserves of an ``x * y = k`` pool after arbitrage to ``price`` (token1 per token0).

    ``x' = sqrt(k / price)``, ``y' = sqrt(k * price)``.
    """
    x = positive_arg(reserve0, "reserve0")
    y = positive_arg(reserve1, "reserve1")
    p = positive_arg(price, "price")
    with localcontext(CTX):
        k = x * y
        return (k / p).sqrt(), (k * p).sqrt()


def constant_product_reserves_after_price_move(
    reserve0: Number, reserve1: Number, price_ratio: Number
) -> tuple[Decimal, Decimal]:
    """Reserves after the price of token0 (in token1) is multiplied by ``price_ratio``.

    ``x' = x / sqrt(r)``, ``y' = y * sqrt(r)``.
    """
    x = positive_arg(reserve0, "reserve0")
    y = positive_arg(reserve1, "reserve1")
    r = positive_arg(price_ratio, "price_ratio")
    with localcontext(CTX):
        s = r.sqrt()
        return x / s, y * s


def constant_product_value_after_price_move(price_ratio: Number) -> tuple[Decimal, Decimal]:
    """``(value_lp, value_hodl)`` for an initial value of 1: ``(sqrt(r), (1 + r) / 2)``."""
    r = positive_arg(price_ratio, "price_ratio")
    with localcontext(CTX):
        return r.sqrt(), (ONE + r) / TWO


def constant_product_impermanent_loss(price_ratio: Number) -> Decimal:
    """Impermanent loss of a 50/50 constant-product position: ``2 sqrt(r) / (1 + r) - 1``."""
    r = positive_arg(price_ratio, "price_ratio")
    with localcontext(CTX):
        return TWO * r.sqrt() / (ONE + r) - ONE
