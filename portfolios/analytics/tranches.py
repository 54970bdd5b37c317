"""How a position's deposits become tranches and what each is worth under its pool's model.

* :func:`choose_model` picks the AMM model of the pool kind (see the package
  docstring's table) and :func:`token_order` the model's token order;
* :func:`replay` applies the position's transactions to its tranches (deposits
  add one, withdrawals take the same share of each, rewards and costs add up);
* :func:`value_tranche` values one tranche with ``pools.amm`` (a concentrated
  deposit first cut to what its range takes, :func:`fit_range`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from functools import lru_cache
from typing import cast

from pools import amm
from portfolios.analytics.inputs import (
    CTX,
    DEFAULT_STABLESWAP_A,
    HOLD_POSITION_KINDS,
    HUNDRED,
    ONE,
    ZERO,
    PoolData,
    PositionData,
    TxData,
)
from portfolios.ledger import DEPOSIT_KINDS, WITHDRAW_KINDS, IncomeType, TxKind, is_synthetic_asset, lp_asset

#: Amounts a range leaves out below this share of the deposited amount are rounding, not a remainder.
_FIT_TOLERANCE = Decimal("1e-20")


_WEIGHTS_RE = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d+)?(?:\s*[/-]\s*\d{1,2}(?:\.\d+)?)+)(?![\d.])")


def weights_from_meta(meta: str, n: int) -> tuple[Decimal, ...] | None:
    """Pool weights spelled in its meta ("80/20", "50-25-25"), when they fit ``n`` tokens."""
    for match in _WEIGHTS_RE.finditer(meta or ""):
        parts = [Decimal(p) for p in re.split(r"\s*[/-]\s*", match.group(1))]
        if len(parts) == n and sum(parts) == HUNDRED and all(p > 0 for p in parts):
            return tuple(p / HUNDRED for p in parts)
    return None


def choose_model(position_kind: str, pool: PoolData | None, n_tokens: int) -> tuple[str, dict]:
    """``(model, params)`` for :func:`pools.amm.value_position`, or ``("hold", {})``."""
    if n_tokens < 2 or position_kind in HOLD_POSITION_KINDS:
        return "hold", {}
    if position_kind == "concentrated_lp":
        return ("concentrated", {}) if n_tokens == 2 else ("hold", {})
    pool_kind = pool.kind if pool else "unknown"
    if pool_kind in ("lending", "staking", "liquid_staking", "vault"):
        return "hold", {}
    if pool_kind == "weighted":
        weights = weights_from_meta(pool.meta if pool else "", n_tokens)
        if weights is None:
            weights = tuple(ONE / n_tokens for _ in range(n_tokens))
        return "weighted", {"weights": weights}
    if pool_kind == "stableswap":
        return "stableswap", {"amplification": DEFAULT_STABLESWAP_A}
    if n_tokens == 2:
        return "constant_product", {}
    return "weighted", {"weights": tuple(ONE / n_tokens for _ in range(n_tokens))}


def token_order(p: PositionData) -> list[str]:
    """The position's tokens in model order (see the module docstring for token0)."""
    order: list[str] = []
    for tx in sorted(p.transactions, key=lambda t: (t.occurred_at, t.id)):
        if tx.kind not in DEPOSIT_KINDS:
            continue
        for leg in tx.legs:
            if leg.quantity < 0 and not leg.is_fee and not is_synthetic_asset(leg.asset) and leg.asset not in order:
                order.append(leg.asset)
    if p.kind == "concentrated_lp":
        for asset in p.pool_assets:
            if len(order) >= 2:
                break
            if asset not in order:
                order.append(asset)
        if len(order) == 2 and order[0] in p.stablecoins and order[1] not in p.stablecoins:
            order.reverse()
    return order


# --------------------------------------------------------------------------- tranches


@dataclass
class Tranche:
    tx_id: int
    at: datetime
    amounts: dict[str, Decimal]
    prices: dict[str, Decimal | None]
    cost: Decimal  # value at deposit (sum of fiat values)
    factor: Decimal = ONE  # share still in the position


@dataclass
class ReplayState:
    tranches: list[Tranche] = field(default_factory=list)
    # Concentrated deposits: what the range did not take, per asset (quantity, value at deposit).
    unused_qty: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    unused_value: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    units: Decimal = ZERO
    deposited: Decimal = ZERO
    withdrawn: Decimal = ZERO
    fees_realised: Decimal = ZERO
    il_realised: Decimal = ZERO
    hodl_realised: Decimal = ZERO
    costs: Decimal = ZERO
    rewards_at_receipt: Decimal = ZERO
    rewards_qty: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    last_claim: datetime | None = None  # last claim of reward tokens (not of LP fees)
    # LP fees the user recorded as collected: claims with income type LP fees, at their value when received.
    fees_claimed: Decimal = ZERO
    # The last recorded collection of fees (an LP-fees claim, or a concentrated position's withdrawal, which
    # collects every fee owed): the estimate of the fees still in the position starts there.
    fees_collected_at: datetime | None = None
    warnings: list[str] = field(default_factory=list)


def price_at(tx: TxData, asset: str, extra: Mapping[tuple[int, str], Decimal]) -> Decimal | None:
    for leg in tx.legs:
        if leg.asset == asset and not leg.is_fee and leg.unit_price is not None:
            return leg.unit_price
    for leg in tx.legs:  # a fee paid in the same token also prices it
        if leg.asset == asset and leg.unit_price is not None:
            return leg.unit_price
    return extra.get((tx.id, asset))


def fit_range(
    order: Sequence[str],
    amounts: Mapping[str, Decimal],
    prices: Mapping[str, Decimal | None],
    lower: Decimal | None,
    upper: Decimal | None,
) -> dict[str, Decimal] | None:
    """The amounts of a concentrated deposit its range takes at the deposit price,
    as Uniswap v3's mint does: the largest liquidity the amounts allow
    (``getLiquidityForAmounts``), then the amounts that liquidity holds - the
    limiting token whole, the other in part. Keyed like ``amounts`` (a token
    outside the pair's two takes nothing). None when it cannot be worked out
    (a price or the range missing, no liquidity): the tranche is then left as
    deposited and valued as ``pools.amm`` can."""
    if len(order) != 2 or lower is None or upper is None or not 0 < lower < upper:
        return None
    p0, p1 = prices.get(order[0]), prices.get(order[1])
    a0, a1 = amounts.get(order[0], ZERO), amounts.get(order[1], ZERO)
    if p0 is None or p1 is None or p0 <= 0 or p1 <= 0 or (a0 <= 0 and a1 <= 0):
        return None
    with localcontext(CTX):
        try:
            price = p0 / p1
            liquidity = amm.position_liquidity(price, lower, upper, a0, a1)
            if liquidity <= 0:
                return None
            u0, u1 = amm.position_amounts(price, lower, upper, liquidity)
        except amm.InvalidParameter:
            return None
        taken = {}
        for asset, total, used in ((order[0], a0, u0), (order[1], a1, u1)):
            used = min(used, total)
            # The limiting token comes back from the liquidity within 1e-45 or so: it went in whole.
            taken[asset] = total if total - used <= total * _FIT_TOLERANCE else used
    return {a: taken.get(a, ZERO) for a in amounts}


def value_tranche(
    model: str,
    params: dict,
    order: Sequence[str],
    tranche: Tranche,
    prices: Mapping[str, Decimal | None],
    lower: Decimal | None,
    upper: Decimal | None,
) -> tuple[amm.PositionValuation | None, str]:
    """Value one tranche under ``model`` at ``prices`` (None when a price is missing)."""
    amounts = [tranche.amounts.get(a, ZERO) for a in order]
    p_dep = [tranche.prices.get(a) for a in order]
    p_now = [prices.get(a) for a in order]
    if model == "hold" or any(p is None or p <= 0 for p in p_now) or any(p is None or p <= 0 for p in p_dep):
        if any(p is None for p in p_now):
            return None, "hold"
        with localcontext(CTX):
            value_now = sum((amt * p for amt, p in zip(amounts, cast(list[Decimal], p_now), strict=True)), ZERO)
            value_dep = sum((amt * (p or ZERO) for amt, p in zip(amounts, p_dep, strict=True)), ZERO)
        return amm.PositionValuation(
            tuple(amounts), tuple(amounts), value_dep, value_now, value_now, ZERO, ZERO, None
        ), "hold"
    # Every price is known and positive past the check above.
    known_dep, known_now = cast(list[Decimal], p_dep), cast(list[Decimal], p_now)
    kwargs = dict(params)
    if model == "concentrated":
        kwargs.update(lower=lower, upper=upper)
    try:
        if model == "stableswap":
            return _value_stableswap(amounts, known_dep, known_now, params["amplification"]), model
        return amm.value_position(model, amounts, known_dep, known_now, **kwargs), model
    except amm.InvalidParameter:
        # e.g. a one-sided deposit into a constant-product pool: value the tokens as held.
        return value_tranche("hold", {}, order, tranche, prices, lower, upper)[0], "hold"


@lru_cache(maxsize=4096)
def _stableswap_unit(amplification: Decimal, prices: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    """Balances of a stableswap pool with invariant D = 1 at which its marginal prices
    equal ``prices`` (``pools.amm.stableswap_balances_at_prices`` on a balanced pool of
    D = 1: 1/n of each coin)."""
    n = len(prices)
    return tuple(amm.stableswap_balances_at_prices([ONE / n] * n, amplification, list(prices)))


def _value_stableswap(
    amounts: Sequence[Decimal], p_dep: Sequence[Decimal], p_now: Sequence[Decimal], amplification: Decimal
) -> amm.PositionValuation:
    """``pools.amm.value_position("stableswap", ...)`` computed once per set of prices.

    The arbitraged balances depend only on the invariant D of the deposited amounts
    and on the prices, and scale linearly with D (the StableSwap invariant is
    homogeneous of degree 1), so the solver runs once for D = 1 per price vector
    and each position only computes its own D: the same result, without a Newton
    solve per position."""
    if any(a <= 0 for a in amounts):
        raise amm.InvalidParameter("amounts", "a stableswap position needs every coin (balances must be > 0)")
    d = amm.stableswap_invariant(list(amounts), amplification)
    unit = _stableswap_unit(amplification, tuple(p_now))
    with localcontext(CTX):
        now = [d * u for u in unit]
        value_at_deposit = sum((a * p for a, p in zip(amounts, p_dep, strict=True)), ZERO)
        value_lp = sum((a * p for a, p in zip(now, p_now, strict=True)), ZERO)
        value_hodl = sum((a * p for a, p in zip(amounts, p_now, strict=True)), ZERO)
        return amm.PositionValuation(
            tuple(amounts),
            tuple(now),
            value_at_deposit,
            value_lp,
            value_hodl,
            value_lp - value_hodl,
            value_lp / value_hodl - ONE,
            None,
        )


def replay(
    p: PositionData, order: Sequence[str], model: str, params: dict, until: datetime | None = None
) -> ReplayState:
    """Apply the position's transactions (up to ``until``) to its tranches."""
    state = ReplayState()
    lp = lp_asset(p.id)
    for tx in sorted(p.transactions, key=lambda t: (t.occurred_at, t.id)):
        if until is not None and tx.occurred_at > until:
            break
        for leg in tx.legs:
            if leg.is_fee:
                state.costs += leg.fiat_value or ZERO
        if tx.kind in DEPOSIT_KINDS:
            amounts: dict[str, Decimal] = {}
            fiat: dict[str, Decimal] = {}
            cost = ZERO
            for leg in tx.legs:
                if leg.is_fee:
                    continue
                if leg.asset == lp:
                    state.units += leg.quantity
                elif leg.quantity < 0 and not is_synthetic_asset(leg.asset):
                    amounts[leg.asset] = amounts.get(leg.asset, ZERO) - leg.quantity
                    fiat[leg.asset] = fiat.get(leg.asset, ZERO) + (leg.fiat_value or ZERO)
                    cost += leg.fiat_value or ZERO
            if not amounts:
                continue
            prices = {a: price_at(tx, a, p.extra_prices) for a in set(order) | set(amounts)}
            taken = fit_range(order, amounts, prices, p.range_lower, p.range_upper) if model == "concentrated" else None
            if taken is not None:
                # What the range leaves out is not in the position: its share of the legs'
                # value comes off the tranche's cost (so off deposited, HODL and PnL).
                with localcontext(CTX):
                    for asset, total in amounts.items():
                        left = total - taken[asset]
                        if left > 0:
                            value = fiat[asset] * left / total
                            state.unused_qty[asset] += left
                            state.unused_value[asset] += value
                            cost -= value
                amounts = taken
            state.tranches.append(Tranche(tx.id, tx.occurred_at, amounts, prices, cost))
            state.deposited += cost
        elif tx.kind in WITHDRAW_KINDS:
            received = ZERO
            burned = ZERO
            for leg in tx.legs:
                if leg.is_fee:
                    continue
                if leg.asset == lp:
                    burned -= leg.quantity
                elif leg.quantity > 0 and not is_synthetic_asset(leg.asset):
                    received += leg.fiat_value or ZERO
            prices = {a: price_at(tx, a, p.extra_prices) for a in order}
            model_value = hodl_value = ZERO
            valued = True
            for tranche in state.tranches:
                if tranche.factor == 0:
                    continue
                val, _ = value_tranche(model, params, order, tranche, prices, p.range_lower, p.range_upper)
                if val is None:
                    valued = False
                    break
                model_value += val.value_lp * tranche.factor
                hodl_value += val.value_hodl * tranche.factor
            with localcontext(CTX):
                if burned > 0 and state.units > 0:
                    fraction = min(ONE, burned / state.units)
                elif valued and model_value > 0:
                    fraction = min(ONE, received / model_value)
                else:
                    fraction = ONE
                state.units -= burned
                state.withdrawn += received
                if valued:
                    state.fees_realised += received - model_value * fraction
                    if model == "concentrated":  # collecting a range position takes all its fees, not a share
                        state.fees_collected_at = tx.occurred_at
                    state.il_realised += (model_value - hodl_value) * fraction
                    state.hodl_realised += hodl_value * fraction
                else:
                    state.warnings.append(
                        f"No price for every token at the withdrawal of {tx.occurred_at:%Y-%m-%d}:"
                        " its fees and impermanent loss are not counted."
                    )
                    state.hodl_realised += received
                for tranche in state.tranches:
                    tranche.factor *= ONE - fraction
        elif tx.kind == TxKind.REWARD and tx.income_type == IncomeType.LP_FEES:
            # Collected LP fees are fees (recorded, replacing the estimate up to now), not reward tokens.
            for leg in tx.legs:
                if leg.quantity > 0 and not leg.is_fee:
                    state.fees_claimed += leg.fiat_value or ZERO
            state.fees_collected_at = tx.occurred_at
        elif tx.kind == TxKind.REWARD:
            for leg in tx.legs:
                if leg.quantity > 0 and not leg.is_fee:
                    state.rewards_at_receipt += leg.fiat_value or ZERO
                    state.rewards_qty[leg.asset] += leg.quantity
            state.last_claim = tx.occurred_at
    return state
