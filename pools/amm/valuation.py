"""An LP position valued from real token amounts and USD prices, then and now."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from pools.amm.concentrated import amounts_for_liquidity_unchecked, get_liquidity_for_amounts, range_arg
from pools.amm.numbers import (
    CTX,
    MODELS,
    ONE,
    ZERO,
    InvalidParameter,
    Number,
    non_negative_arg,
    positive_arg,
    require_arg,
)
from pools.amm.stableswap import amplification_arg, stableswap_balances_at_prices
from pools.amm.weighted import weights_arg


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
    conv = positive_arg if positive else non_negative_arg
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
        ws = weights_arg(weights)
        n = len(ws)
    else:
        n = None
    amts = _vector(amounts, "amounts", n, positive=False)
    n = len(amts)
    p_dep = _vector(prices_at_deposit, "prices_at_deposit", n, positive=True)
    p_now = _vector(prices_now, "prices_now", n, positive=True)
    in_range: bool | None = None
    deposited = amts
    with localcontext(CTX):
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
                ZERO,
            )
            v_now = log_v.exp()
            now = [w * v_now / p for w, p in zip(ws, p_now, strict=True)]
        elif model == "concentrated":
            require_arg(lower, "lower", model)
            require_arg(upper, "upper", model)
            lo, hi = range_arg(lower, upper)
            if amts[0] <= 0 and amts[1] <= 0:
                raise InvalidParameter("amounts", "at least one amount must be greater than 0")
            sa, sb = lo.sqrt(), hi.sqrt()
            s_dep = (p_dep[0] / p_dep[1]).sqrt()
            price_now = p_now[0] / p_now[1]
            liq = get_liquidity_for_amounts(s_dep, sa, sb, amts[0], amts[1])
            if liq <= 0:
                raise InvalidParameter("amounts", "the amounts provide no liquidity in this range at the deposit price")
            deposited = list(amounts_for_liquidity_unchecked(s_dep, sa, sb, liq))
            now = list(amounts_for_liquidity_unchecked(price_now.sqrt(), sa, sb, liq))
            in_range = lo <= price_now < hi
        else:
            amp = amplification_arg(amplification)
            if any(a <= 0 for a in amts):
                raise InvalidParameter("amounts", "a stableswap position needs every coin (balances must be > 0)")
            now = stableswap_balances_at_prices(amts, amp, p_now)
        value_at_deposit = sum((a * p for a, p in zip(deposited, p_dep, strict=True)), ZERO)
        value_lp = sum((a * p for a, p in zip(now, p_now, strict=True)), ZERO)
        value_hodl = sum((a * p for a, p in zip(deposited, p_now, strict=True)), ZERO)
        return PositionValuation(
            amounts_deposited=tuple(deposited),
            amounts_now=tuple(now),
            value_at_deposit=value_at_deposit,
            value_lp=value_lp,
            value_hodl=value_hodl,
            il_absolute=value_lp - value_hodl,
            il_relative=value_lp / value_hodl - ONE,
            in_range=in_range,
        )
