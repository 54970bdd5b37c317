"""Weighted pools (Balancer, ``prod(b_i ** w_i) = k``) for two or more tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, localcontext

from pools.amm.numbers import CTX, ONE, ZERO, InvalidParameter, Number, dec_arg, positive_arg

#: Weights must sum to 1 within this tolerance (Balancer weights sum exactly to 1e18 / 1e18).
WEIGHT_SUM_TOLERANCE = Decimal("1e-18")


def weights_arg(weights: object, expected: int | None = None) -> list[Decimal]:
    if weights is None:
        raise InvalidParameter("weights", "required for the weighted model")
    if isinstance(weights, str | bytes) or not isinstance(weights, Iterable):
        raise InvalidParameter("weights", "must be a sequence of numbers")
    ws = [dec_arg(w, "weights") for w in weights]
    if len(ws) < 2:
        raise InvalidParameter("weights", "at least two weights are required")
    if expected is not None and len(ws) != expected:
        raise InvalidParameter("weights", f"expected {expected} weights, got {len(ws)}")
    if any(w <= 0 for w in ws):
        raise InvalidParameter("weights", "every weight must be greater than 0")
    with localcontext(CTX):
        if abs(sum(ws, ZERO) - ONE) > WEIGHT_SUM_TOLERANCE:
            raise InvalidParameter("weights", "weights must sum to 1")
    return ws


def _ratios(price_ratios: object, n: int) -> list[Decimal]:
    if isinstance(price_ratios, Decimal | int | str):
        # A single ratio: token 0 moves, every other token keeps its price.
        return [positive_arg(price_ratios, "price_ratio")] + [ONE] * (n - 1)
    if not isinstance(price_ratios, Iterable):
        raise InvalidParameter("price_ratio", "must be a number or a sequence of numbers")
    rs = [positive_arg(r, "price_ratio") for r in price_ratios]
    if len(rs) != n:
        raise InvalidParameter("price_ratio", f"expected {n} price ratios (one per weight), got {len(rs)}")
    return rs


def _weighted_growth(rs: Sequence[Decimal], ws: Sequence[Decimal]) -> Decimal:
    """``prod(r_i ** w_i)`` (inside the module context)."""
    log_sum = ZERO
    for r, w in zip(rs, ws, strict=True):
        if r != 1:
            log_sum += w * r.ln()
    return log_sum.exp()


def weighted_value_after_price_move(price_ratios: object, weights: Sequence[Number]) -> tuple[Decimal, Decimal]:
    """``(value_lp, value_hodl)`` of a weighted pool for an initial value of 1.

    ``value_lp = prod(r_i ** w_i)``, ``value_hodl = sum(w_i * r_i)``. ``price_ratios`` is either
    one ratio per token or a single number (token 0 moves, the others stay at 1).
    """
    ws = weights_arg(weights)
    rs = _ratios(price_ratios, len(ws))
    with localcontext(CTX):
        return _weighted_growth(rs, ws), sum((w * r for w, r in zip(ws, rs, strict=True)), ZERO)


def weighted_impermanent_loss(price_ratios: object, weights: Sequence[Number]) -> Decimal:
    """Impermanent loss of a weighted pool: ``prod(r_i ** w_i) / sum(w_i r_i) - 1``."""
    lp, hodl = weighted_value_after_price_move(price_ratios, weights)
    with localcontext(CTX):
        return lp / hodl - ONE


def weighted_reserves_after_price_move(
    reserves: Sequence[Number], weights: Sequence[Number], price_ratios: object
) -> list[Decimal]:
    """Balances after arbitrage when each token's price is multiplied by ``price_ratios[i]``.

    Assumes the pool starts in equilibrium (``b_i * p_i / w_i`` equal for all i); then
    ``b_i' = b_i * prod(r_j ** w_j) / r_i`` and the invariant ``prod(b_i ** w_i)`` is unchanged.
    """
    ws = weights_arg(weights)
    bs = [positive_arg(b, "reserves") for b in reserves]
    if len(bs) != len(ws):
        raise InvalidParameter("reserves", f"expected {len(ws)} reserves, got {len(bs)}")
    rs = _ratios(price_ratios, len(ws))
    with localcontext(CTX):
        growth = _weighted_growth(rs, ws)
        return [b * growth / r for b, r in zip(bs, rs, strict=True)]
