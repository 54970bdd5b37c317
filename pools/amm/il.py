"""Impermanent loss under any of the four models: one entry point for the calculators."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any

from pools.amm.concentrated import concentrated_value_after_price_move
from pools.amm.constant_product import constant_product_value_after_price_move
from pools.amm.numbers import CTX, MODELS, ONE, InvalidParameter, Number, positive_arg, require_arg
from pools.amm.stableswap import amplification_arg, n_coins_arg, solve_symmetric, stableswap_value_after_price_move
from pools.amm.weighted import weighted_value_after_price_move


@dataclass(frozen=True, slots=True)
class ILResult:
    """Impermanent loss and values for an initial position value of 1.

    ``in_range`` is a bool for the concentrated model and ``None`` for the others.
    """

    impermanent_loss: Decimal
    value_lp: Decimal
    value_hodl: Decimal
    in_range: bool | None = None


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
    r = positive_arg(price_ratio, "price_ratio")
    if model == "constant_product":
        lp, hodl = constant_product_value_after_price_move(r)
        in_range = None
    elif model == "weighted":
        require_arg(weights, "weights", model)
        assert weights is not None  # checked just above
        lp, hodl = weighted_value_after_price_move(r, weights)
        in_range = None
    elif model == "concentrated":
        require_arg(lower, "lower", model)
        require_arg(upper, "upper", model)
        assert lower is not None and upper is not None  # checked just above
        lp, hodl, in_range = concentrated_value_after_price_move(r, lower, upper)
    else:
        amp = amplification_arg(amplification)
        lp, hodl, _ = stableswap_value_after_price_move(r, amp, n_coins_arg(n_coins))
        in_range = None
    with localcontext(CTX):
        return ILResult(impermanent_loss=lp / hodl - ONE, value_lp=lp, value_hodl=hodl, in_range=in_range)


_IL_PARAMS = frozenset({"weights", "lower", "upper", "amplification", "n_coins"})


def il_curve(model: str, ratios: Iterable[Number], **params: Any) -> list[ILResult]:
    """:func:`impermanent_loss_for` evaluated at each price ratio (same keyword parameters).

    For ``stableswap`` each solve is warm-started from the previous point's solution (same
    results, to the solver tolerance, in far fewer iterations when ``ratios`` are sorted).
    """
    unknown = set(params) - _IL_PARAMS
    if unknown:
        raise TypeError(f"il_curve() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    if model != "stableswap":
        return [impermanent_loss_for(model, r, **params) for r in ratios]
    amp = amplification_arg(params.get("amplification"))
    n = n_coins_arg(params.get("n_coins", 2))
    results = []
    start: Decimal | None = None
    with localcontext(CTX):
        nd = Decimal(n)
        for ratio in ratios:
            r = positive_arg(ratio, "price_ratio")
            x0, y = solve_symmetric(r, n, amp, start)
            start = y
            lp = (r * x0 + (nd - ONE) * y) / nd
            hodl = (r + nd - ONE) / nd
            results.append(ILResult(impermanent_loss=lp / hodl - ONE, value_lp=lp, value_hodl=hodl))
    return results
