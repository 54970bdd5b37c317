"""Position and portfolio analytics on plain values (pure: standard library + pools.amm/yields).

No Django and no I/O: ``portfolios.selectors`` loads rows, turns them into the
input dataclasses below (``PositionData`` ...), calls these functions and hands
the results (``PositionAnalytics``, ``PortfolioSummary``) to views and the API.
Every amount is a ``Decimal`` in the owner's fiat (USD); APYs from pools are
percent per year (``5`` = 5 %), returns and APYs computed here are fractions
(``0.05`` = 5 %).

How a position is valued
========================
A position is a list of **tranches**, one per deposit (``lp_deposit`` /
``stake`` transaction of the position): the token amounts that went in and
their prices then (``fiat_value / quantity`` of each leg, or a looked-up price
for a token of the model that the deposit did not contain). A withdrawal
(``lp_withdraw`` / ``unstake``) removes the same fraction of every tranche: the
share of the synthetic ``LP#<id>`` units it burns (or, without such a leg, its
value over the position's model value then, capped at 1).

Each tranche is valued with :func:`pools.amm.value_position` under the model
of the pool kind:

=====================  =========================================================
pool / position kind   model
=====================  =========================================================
concentrated_lp        ``concentrated`` with the position's range (price of
                       token0 in token1; token0 is the first deposited token,
                       except that a stablecoin is always token1, so ranges
                       read "USDC per ETH")
weighted               ``weighted``: weights from the pool's meta when it
                       spells them ("80/20", "50-25-25"), else equal
stableswap             ``stableswap`` with amplification A = 100 (Curve's
                       typical value; the pool's own A is not in our data)
amm, farm, unknown,    ``constant_product`` for two tokens, equal-weight
no pool                ``weighted`` for more
staking, liquid        ``hold``: the tokens themselves, no impermanent loss
staking, lending or a
single token
=====================  =========================================================

Figures (``PositionAnalytics``):

* ``deposited`` - value at deposit of every tranche; ``withdrawn`` - fiat value
  of everything withdrawn. For a concentrated range a tranche is what the
  range *took*: like Uniswap v3's mint, the liquidity is the largest the
  deposited amounts allow at the deposit price, the limiting token goes in
  whole, the other only as far as that liquidity needs. The rest
  (``unused``: quantity and value at deposit per token) is not part of the
  position - not in ``deposited``, the HODL value, the IL or the PnL - and a
  warning says so (the user's wallet kept it, or the deposit was typed with
  amounts the range could not take).
* ``value_now`` - remaining share of the tranches under the model at today's
  prices **plus** the fees estimated for it; or, when the user overrode the
  amounts (``PositionAmountOverride``), those amounts at today's prices
  (``overridden`` is then True and the fees are the difference to the model).
* ``value_hodl`` - the deposited tokens at today's prices for the remaining
  share, plus, for what was withdrawn, the deposited tokens at the prices of
  the withdrawal.
* ``il`` / ``il_pct`` - model value minus HODL value (realised at withdrawals
  plus unrealised now), fees and rewards excluded; ``il_pct`` = il / value_hodl.
* ``fees`` - *actual* for withdrawn shares (withdrawn value minus the model's
  value of that share then) plus, for an open position, an *estimate* for the
  remaining share: model value x ((1 + mean base APY) ** (days / 365) - 1), the
  mean taken over the pool's daily ``apy_base`` snapshots between the deposit
  and today (the pool's current base APY when there is no history).
  ``fees_estimated`` says whether any part is an estimate. For lending and
  liquid staking the base APY is the interest/staking yield accruing in the
  position (reported the same way, as ``fees``).
* ``rewards_claimed_at_receipt`` / ``rewards_claimed_now`` - claims (reward
  transactions of the position) at their value when received and at today's
  prices. ``rewards_unclaimed`` - estimate for an open position since the last
  claim: model value x mean reward APY x days / 365 (simple, rewards are not
  compounded). For plain ``staking`` positions, whose whole yield is paid as
  claimable rewards, base and reward APY both count as rewards.
* ``costs`` - fiat value of fee legs (gas) of the position's transactions.
* ``pnl`` = value_now + withdrawn + rewards (claimed at receipt + unclaimed)
  - deposited - costs; ``pnl_vs_hodl`` = il + fees + rewards - costs.
* ``annualised_return`` - pnl / deposited compounded to a year over the days
  held (``pools.yields.annualise_return``; None under a day).
  ``realised_apy`` - the yield alone: (fees + rewards) / value_hodl annualised
  the same way; compare with ``advertised_apy`` (mean pool APY while held).

Prices (the selectors decide, :func:`stablecoin_price` is the rule): a token
flagged as a stablecoin whose latest price is older than ``PEG_MAX_AGE`` (7
days) before the valuation, or that has none, is valued at its assumed peg of
1.00 USD instead of a stale quote; such assets are listed in
``PositionData.pegged`` (prices now) / ``pegged_at`` (prices at a deposit or
withdrawal), and the analytics name them in ``assumed_peg`` and a warning.

Limits (said plainly): open positions' fees are estimated from the pool's
published base APY, which is pool-wide and says nothing about the user's own
share of the volume; a concentrated position earns fees only while in range,
which the estimate does not know (it is too high for a position that spent time
out of range - the withdrawal's actual figure replaces it); the stableswap
amplification is assumed (A = 100) because our data does not carry the pool's.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from functools import lru_cache

from pools import amm
from pools.yields import annualise_return, period_days

__all__ = [
    "DEFAULT_STABLESWAP_A",
    "PEG_MAX_AGE",
    "AllocationSlice",
    "Holding",
    "LegData",
    "PoolData",
    "PortfolioSummary",
    "PositionAnalytics",
    "PositionData",
    "SeriesPoint",
    "TokenFigure",
    "TxData",
    "UnusedDeposit",
    "YieldStats",
    "analyse_position",
    "choose_model",
    "holdings_from_transactions",
    "income_between",
    "position_value_series",
    "prices_needed",
    "replace_extra_prices",
    "stablecoin_price",
    "summarise_portfolio",
    "weights_from_meta",
    "yield_windows",
]

_CTX = Context(prec=50)
ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
YEAR = Decimal(365)
DEFAULT_STABLESWAP_A = Decimal(100)
#: A stablecoin with no price newer than this before the valuation is valued at its peg.
PEG_MAX_AGE = timedelta(days=7)
STABLECOIN_PEG = ONE
#: Amounts a range leaves out below this share of the deposited amount are rounding, not a remainder.
_FIT_TOLERANCE = Decimal("1e-20")
_UNUSED_REPORTED = Decimal("0.005")  # USD at deposit: what rounds to a cent is worth telling

DEPOSIT_KINDS = frozenset({"lp_deposit", "stake"})
WITHDRAW_KINDS = frozenset({"lp_withdraw", "unstake"})
HOLD_POSITION_KINDS = frozenset({"staking", "liquid_staking", "lending"})
FIAT_ASSETS = frozenset({"USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD"})


def lp_asset(position_id: int) -> str:
    return f"LP#{position_id}"


def is_synthetic(asset: str) -> bool:
    return asset.startswith("LP#") or "@" in asset


def stablecoin_price(price: Decimal | None, priced_at: datetime | None, as_of: datetime) -> tuple[Decimal, bool]:
    """The price to value a stablecoin with at ``as_of``: its own when it is at most
    ``PEG_MAX_AGE`` old, else the assumed peg (1.00 USD). ``(price, pegged)``.

    A years-old quote is no better than the peg and says nothing about a de-peg
    today; the caller reports ``pegged`` so the user knows the value is assumed."""
    if price is not None and priced_at is not None and priced_at >= as_of - PEG_MAX_AGE:
        return price, False
    return STABLECOIN_PEG, True


def _fmt_qty(value: Decimal) -> str:
    """A quantity for sentences, as the pages print it (``portfolio_format.qty``)."""
    magnitude = abs(value)
    places = 2 if magnitude >= 1000 else 6 if magnitude >= 1 else 10
    text = f"{magnitude.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):,.{places}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    if text in ("0", ""):
        text = f"{magnitude:.3g}"
    return ("-" if value < 0 else "") + text


def _fmt_usd(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class LegData:
    asset: str
    quantity: Decimal  # signed
    fiat_value: Decimal | None = None
    token_id: int | None = None
    is_fee: bool = False

    @property
    def unit_price(self) -> Decimal | None:
        if self.fiat_value is None or self.quantity == 0:
            return None
        with localcontext(_CTX):
            return self.fiat_value / abs(self.quantity)


@dataclass(frozen=True, slots=True)
class TxData:
    id: int
    kind: str
    occurred_at: datetime
    legs: tuple[LegData, ...]
    income_type: str = ""
    position_id: int | None = None


@dataclass(frozen=True, slots=True)
class PoolData:
    id: int
    kind: str
    symbol: str = ""
    meta: str = ""
    chain: str = ""
    protocol: str = ""
    apy: Decimal | None = None  # current, percent
    apy_base: Decimal | None = None
    apy_reward: Decimal | None = None


@dataclass(frozen=True, slots=True)
class YieldStats:
    """Means of a pool's daily snapshots over a window (percent), and how many days had data."""

    days: int = 0
    apy_base: Decimal | None = None
    apy_reward: Decimal | None = None
    apy: Decimal | None = None


@dataclass(frozen=True)
class PositionData:
    id: int
    kind: str
    opened_at: datetime
    transactions: tuple[TxData, ...]  # this position's, any order
    prices_now: Mapping[str, Decimal | None]  # asset -> latest USD price (None = unknown)
    name: str = ""
    closed_at: datetime | None = None
    range_lower: Decimal | None = None
    range_upper: Decimal | None = None
    pool: PoolData | None = None
    pool_assets: tuple[str, ...] = ()  # the pool's underlying tokens, in pool order
    stablecoins: frozenset[str] = frozenset()
    overrides: Mapping[str, Decimal] = field(default_factory=dict)  # asset -> quantity now (user's)
    # Prices at a transaction for model tokens its legs do not price: (tx id, asset) -> price.
    extra_prices: Mapping[tuple[int, str], Decimal] = field(default_factory=dict)
    # Stablecoins valued at their assumed peg (no recent price): in prices_now, and in extra_prices.
    pegged: frozenset[str] = frozenset()
    pegged_at: frozenset[tuple[int, str]] = frozenset()


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class TokenFigure:
    asset: str
    deposited: Decimal  # quantity still in the position as deposited (remaining share)
    now: Decimal  # quantity now (model or override)
    price_now: Decimal | None
    value_now: Decimal | None


@dataclass(frozen=True, slots=True)
class UnusedDeposit:
    """Part of a concentrated deposit the range could not take at the deposit price."""

    asset: str
    quantity: Decimal
    value_at_deposit: Decimal


@dataclass(frozen=True)
class PositionAnalytics:
    position_id: int
    name: str
    kind: str
    model: str
    is_open: bool
    opened_at: datetime
    closed_at: datetime | None
    as_of: datetime
    days_held: Decimal
    tokens: tuple[TokenFigure, ...]
    deposited: Decimal
    withdrawn: Decimal
    remaining_cost: Decimal  # value at deposit of the share still in the position
    value_now: Decimal | None
    value_model: Decimal | None  # model value of the remaining share, fees excluded
    value_hodl: Decimal | None
    il: Decimal | None
    il_pct: Decimal | None
    fees: Decimal | None
    fees_realised: Decimal
    fees_estimated: bool
    rewards_claimed_at_receipt: Decimal
    rewards_claimed_now: Decimal | None
    rewards_unclaimed: Decimal
    rewards_by_asset: Mapping[str, Decimal]  # quantity claimed per asset
    costs: Decimal
    pnl: Decimal | None
    pnl_vs_hodl: Decimal | None
    annualised_return: Decimal | None
    realised_apy: Decimal | None
    advertised_apy: Decimal | None  # fraction
    overridden: bool
    in_range: bool | None = None
    range_status: str | None = None  # below | in_range | above
    current_price: Decimal | None = None  # token0 in token1 (concentrated)
    distance_to_lower: Decimal | None = None  # relative price move to touch the bound
    distance_to_upper: Decimal | None = None
    warnings: tuple[str, ...] = ()
    chain: str = ""
    protocol: str = ""
    # Quantities that went into the position over all its deposits (for a range: what it took).
    deposited_amounts: Mapping[str, Decimal] = field(default_factory=dict)
    unused: tuple[UnusedDeposit, ...] = ()  # what a range did not take (see the module docstring)
    assumed_peg: tuple[str, ...] = ()  # stablecoins valued at 1.00 USD for want of a recent price

    @property
    def unused_value(self) -> Decimal:
        """Value at deposit of what the range did not take."""
        return sum((u.value_at_deposit for u in self.unused), ZERO)

    @property
    def income(self) -> Decimal:
        """Fees plus rewards (claimed at receipt plus unclaimed estimate)."""
        return (self.fees or ZERO) + self.rewards_claimed_at_receipt + self.rewards_unclaimed

    @property
    def principal(self) -> Decimal:
        """Staking / lending: value at deposit of what is still staked."""
        return self.remaining_cost


@dataclass(frozen=True, slots=True)
class Holding:
    """A loose asset (transactions not attached to a position)."""

    asset: str
    quantity: Decimal
    price_now: Decimal | None
    value_now: Decimal | None
    assumed_peg: bool = False  # a stablecoin valued at 1.00 USD for want of a recent price


@dataclass(frozen=True, slots=True)
class AllocationSlice:
    key: str
    value: Decimal
    share: Decimal  # fraction of the total


@dataclass(frozen=True)
class PortfolioSummary:
    as_of: datetime
    value: Decimal
    deposited: Decimal
    pnl: Decimal
    il: Decimal
    fees: Decimal
    rewards: Decimal
    costs: Decimal
    income_ytd: Decimal
    positions: tuple[PositionAnalytics, ...]
    holdings: tuple[Holding, ...]
    by_chain: tuple[AllocationSlice, ...]
    by_protocol: tuple[AllocationSlice, ...]
    by_asset: tuple[AllocationSlice, ...]
    by_kind: tuple[AllocationSlice, ...]
    open_positions: int
    warnings: tuple[str, ...] = ()
    portfolio_id: int | None = None
    name: str = ""
    assumed_peg: tuple[str, ...] = ()  # assets valued at their peg (open positions and holdings)


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    day: date
    value: Decimal
    value_hodl: Decimal


# --------------------------------------------------------------------------- model choice


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
            if leg.quantity < 0 and not leg.is_fee and not is_synthetic(leg.asset) and leg.asset not in order:
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
class _Tranche:
    tx_id: int
    at: datetime
    amounts: dict[str, Decimal]
    prices: dict[str, Decimal | None]
    cost: Decimal  # value at deposit (sum of fiat values)
    factor: Decimal = ONE  # share still in the position


@dataclass
class _State:
    tranches: list[_Tranche] = field(default_factory=list)
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
    last_claim: datetime | None = None
    warnings: list[str] = field(default_factory=list)


def _price_at(tx: TxData, asset: str, extra: Mapping[tuple[int, str], Decimal]) -> Decimal | None:
    for leg in tx.legs:
        if leg.asset == asset and not leg.is_fee and leg.unit_price is not None:
            return leg.unit_price
    for leg in tx.legs:  # a fee paid in the same token also prices it
        if leg.asset == asset and leg.unit_price is not None:
            return leg.unit_price
    return extra.get((tx.id, asset))


def _fit_range(order: Sequence[str], amounts: Mapping[str, Decimal], prices: Mapping[str, Decimal | None],
               lower: Decimal | None, upper: Decimal | None) -> dict[str, Decimal] | None:
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
    with localcontext(_CTX):
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


def _value_tranche(model: str, params: dict, order: Sequence[str], tranche: _Tranche,
                   prices: Mapping[str, Decimal | None], lower: Decimal | None,
                   upper: Decimal | None) -> tuple[amm.PositionValuation | None, str]:
    """Value one tranche under ``model`` at ``prices`` (None when a price is missing)."""
    amounts = [tranche.amounts.get(a, ZERO) for a in order]
    p_dep = [tranche.prices.get(a) for a in order]
    p_now = [prices.get(a) for a in order]
    if model == "hold" or any(p is None or p <= 0 for p in p_now) or any(p is None or p <= 0 for p in p_dep):
        if any(p is None for p in p_now):
            return None, "hold"
        with localcontext(_CTX):
            value_now = sum((amt * p for amt, p in zip(amounts, p_now, strict=True)), ZERO)
            value_dep = sum((amt * (p or ZERO) for amt, p in zip(amounts, p_dep, strict=True)), ZERO)
        return amm.PositionValuation(tuple(amounts), tuple(amounts), value_dep, value_now, value_now, ZERO, ZERO,
                                     None), "hold"
    kwargs = dict(params)
    if model == "concentrated":
        kwargs.update(lower=lower, upper=upper)
    try:
        if model == "stableswap":
            return _value_stableswap(amounts, p_dep, p_now, params["amplification"]), model
        return amm.value_position(model, amounts, p_dep, p_now, **kwargs), model
    except amm.InvalidParameter:
        # e.g. a one-sided deposit into a constant-product pool: value the tokens as held.
        return _value_tranche("hold", {}, order, tranche, prices, lower, upper)[0], "hold"


@lru_cache(maxsize=4096)
def _stableswap_unit(amplification: Decimal, prices: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
    """Balances of a stableswap pool with invariant D = 1 at which its marginal prices
    equal ``prices`` (``pools.amm.stableswap_balances_at_prices`` on a balanced pool of
    D = 1: 1/n of each coin)."""
    n = len(prices)
    return tuple(amm.stableswap_balances_at_prices([ONE / n] * n, amplification, list(prices)))


def _value_stableswap(amounts: Sequence[Decimal], p_dep: Sequence[Decimal], p_now: Sequence[Decimal],
                      amplification: Decimal) -> amm.PositionValuation:
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
    with localcontext(_CTX):
        now = [d * u for u in unit]
        value_at_deposit = sum((a * p for a, p in zip(amounts, p_dep, strict=True)), ZERO)
        value_lp = sum((a * p for a, p in zip(now, p_now, strict=True)), ZERO)
        value_hodl = sum((a * p for a, p in zip(amounts, p_now, strict=True)), ZERO)
        return amm.PositionValuation(tuple(amounts), tuple(now), value_at_deposit, value_lp, value_hodl,
                                     value_lp - value_hodl, value_lp / value_hodl - ONE, None)


def _replay(p: PositionData, order: Sequence[str], model: str, params: dict,
            until: datetime | None = None) -> _State:
    """Apply the position's transactions (up to ``until``) to its tranches."""
    state = _State()
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
                elif leg.quantity < 0 and not is_synthetic(leg.asset):
                    amounts[leg.asset] = amounts.get(leg.asset, ZERO) - leg.quantity
                    fiat[leg.asset] = fiat.get(leg.asset, ZERO) + (leg.fiat_value or ZERO)
                    cost += leg.fiat_value or ZERO
            if not amounts:
                continue
            prices = {a: _price_at(tx, a, p.extra_prices) for a in set(order) | set(amounts)}
            taken = _fit_range(order, amounts, prices, p.range_lower, p.range_upper) if model == "concentrated" \
                else None
            if taken is not None:
                # What the range leaves out is not in the position: its share of the legs'
                # value comes off the tranche's cost (so off deposited, HODL and PnL).
                with localcontext(_CTX):
                    for asset, total in amounts.items():
                        left = total - taken[asset]
                        if left > 0:
                            value = fiat[asset] * left / total
                            state.unused_qty[asset] += left
                            state.unused_value[asset] += value
                            cost -= value
                amounts = taken
            state.tranches.append(_Tranche(tx.id, tx.occurred_at, amounts, prices, cost))
            state.deposited += cost
        elif tx.kind in WITHDRAW_KINDS:
            received = ZERO
            burned = ZERO
            for leg in tx.legs:
                if leg.is_fee:
                    continue
                if leg.asset == lp:
                    burned -= leg.quantity
                elif leg.quantity > 0 and not is_synthetic(leg.asset):
                    received += leg.fiat_value or ZERO
            prices = {a: _price_at(tx, a, p.extra_prices) for a in order}
            model_value = hodl_value = ZERO
            valued = True
            for tranche in state.tranches:
                if tranche.factor == 0:
                    continue
                val, _ = _value_tranche(model, params, order, tranche, prices, p.range_lower, p.range_upper)
                if val is None:
                    valued = False
                    break
                model_value += val.value_lp * tranche.factor
                hodl_value += val.value_hodl * tranche.factor
            with localcontext(_CTX):
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
                    state.il_realised += (model_value - hodl_value) * fraction
                    state.hodl_realised += hodl_value * fraction
                else:
                    state.warnings.append(f"No price for every token at the withdrawal of {tx.occurred_at:%Y-%m-%d}:"
                                          " its fees and impermanent loss are not counted.")
                    state.hodl_realised += received
                for tranche in state.tranches:
                    tranche.factor *= ONE - fraction
        elif tx.kind == "reward":
            for leg in tx.legs:
                if leg.quantity > 0 and not leg.is_fee:
                    state.rewards_at_receipt += leg.fiat_value or ZERO
                    state.rewards_qty[leg.asset] += leg.quantity
            state.last_claim = tx.occurred_at
    return state


# --------------------------------------------------------------------------- yield windows


def _end(p: PositionData, as_of: datetime) -> datetime:
    return p.closed_at if p.closed_at is not None and p.closed_at < as_of else as_of


def yield_windows(p: PositionData, as_of: datetime) -> set[tuple[date, date]]:
    """The ``[start, end)`` day windows of pool snapshots :func:`analyse_position` needs
    (the selector aggregates them in one query and passes ``YieldStats`` back)."""
    if p.pool is None:
        return set()
    end = _end(p, as_of).date()
    windows = {(p.opened_at.date(), end)}
    last_claim = p.opened_at
    for tx in p.transactions:
        if tx.kind in DEPOSIT_KINDS and tx.occurred_at <= as_of:
            windows.add((tx.occurred_at.date(), end))
        if tx.kind == "reward" and tx.occurred_at <= as_of and tx.occurred_at > last_claim:
            last_claim = tx.occurred_at
    windows.add((last_claim.date(), end))
    return {(s, e) for s, e in windows if s <= e}


def prices_needed(p: PositionData) -> set[tuple[int, str, datetime]]:
    """``(tx id, asset, moment)`` for model tokens a deposit/withdrawal does not price itself."""
    order = token_order(p)
    needed = set()
    for tx in p.transactions:
        if tx.kind in DEPOSIT_KINDS | WITHDRAW_KINDS:
            for asset in order:
                if _price_at(tx, asset, {}) is None:
                    needed.add((tx.id, asset, tx.occurred_at))
    return needed


_GROWTH_CTX = Context(prec=28)  # an estimate: 28 significant digits are plenty and ln/exp are 3x faster


def _growth(apy_percent: Decimal | None, days: Decimal) -> Decimal:
    """(1 + APY) ** (days / 365) for an APY in percent (None or <= -100 % -> 1)."""
    if apy_percent is None or days <= 0 or apy_percent == 0:
        return ONE
    with localcontext(_GROWTH_CTX):
        base = ONE + apy_percent / HUNDRED
        if base <= 0:
            return ONE
        return (base.ln() * days / YEAR).exp()


def _stats(yields: Mapping[tuple[date, date], YieldStats], start: date, end: date) -> YieldStats:
    return yields.get((start, end)) or YieldStats()


# --------------------------------------------------------------------------- analyse


def _q(value: Decimal | None) -> Decimal | None:
    return None if value is None else +value


def analyse_position(p: PositionData, *, as_of: datetime,
                     yields: Mapping[tuple[date, date], YieldStats] | None = None,
                     detail: bool = True) -> PositionAnalytics:
    """Every figure of one position at ``as_of`` (see the module docstring).

    ``detail=False`` (nightly revaluation and snapshots of every portfolio) skips
    what only a page shows and costs 60-digit logarithms: the annualised return,
    the realised APY and the distances to the range bounds (left None)."""
    yields = yields or {}
    order = token_order(p)
    model, params = choose_model(p.kind, p.pool, len(order))
    state = _replay(p, order, model, params, until=as_of)
    warnings = list(state.warnings)
    is_open = p.closed_at is None or p.closed_at > as_of
    end = _end(p, as_of)
    with localcontext(_CTX):
        days_held = max(ZERO, period_days(p.opened_at, end))
        pool = p.pool
        # ---- value now (remaining share) ------------------------------------------------
        amounts_dep: dict[str, Decimal] = defaultdict(Decimal)
        amounts_now: dict[str, Decimal] = defaultdict(Decimal)
        model_value: Decimal | None = ZERO
        hodl_now: Decimal | None = ZERO
        fees_est = ZERO
        remaining_cost = ZERO
        used_model = model
        base_is_reward = p.kind == "staking"
        for tranche in state.tranches:
            if tranche.factor == 0:
                continue
            remaining_cost += tranche.cost * tranche.factor
            for a, qty in tranche.amounts.items():
                amounts_dep[a] += qty * tranche.factor
            if not is_open:
                continue
            val, used_model = _value_tranche(model, params, order, tranche, p.prices_now, p.range_lower,
                                             p.range_upper)
            if val is None:
                model_value = hodl_now = None
                continue
            for a, qty in zip(order, val.amounts_now, strict=False):
                amounts_now[a] += qty * tranche.factor
            if model_value is not None and hodl_now is not None:
                model_value += val.value_lp * tranche.factor
                hodl_now += val.value_hodl * tranche.factor
                if pool is not None and not base_is_reward:
                    stats = _stats(yields, tranche.at.date(), end.date())
                    apy_base = stats.apy_base if stats.days else pool.apy_base
                    tranche_days = max(ZERO, period_days(tranche.at, end))
                    fees_est += val.value_lp * tranche.factor * (_growth(apy_base, tranche_days) - ONE)
        if not is_open:
            model_value = hodl_now = ZERO
        if model_value is None:
            warnings.append("No current price for every token of this position: its value now is unknown.")

        overridden = bool(p.overrides) and is_open
        value_now: Decimal | None
        if overridden:
            override_value = ZERO
            for a, qty in p.overrides.items():
                price = p.prices_now.get(a)
                if price is None:
                    override_value = None
                    warnings.append(f"No current price for {a}: the overridden value is unknown.")
                    break
                override_value += qty * price
            value_now = override_value
            if value_now is not None and model_value is not None:
                fees_est = value_now - model_value  # what the wallet holds beyond the model
            amounts_now = defaultdict(Decimal, p.overrides)
        else:
            value_now = None if model_value is None else model_value + fees_est
        fees_estimated = is_open and (overridden or fees_est != 0 or (pool is not None and not base_is_reward))

        # ---- rewards ------------------------------------------------------------------------
        rewards_now: Decimal | None = ZERO
        for a, qty in state.rewards_qty.items():
            price = p.prices_now.get(a)
            if price is None:
                rewards_now = None
                break
            rewards_now += qty * price
        unclaimed = ZERO
        if is_open and pool is not None and model_value:
            since = state.last_claim if state.last_claim and state.last_claim > p.opened_at else p.opened_at
            stats = _stats(yields, since.date(), end.date())
            apy_reward = stats.apy_reward if stats.days else pool.apy_reward
            if base_is_reward:
                apy_base = stats.apy_base if stats.days else pool.apy_base
                apy_reward = (apy_reward or ZERO) + (apy_base or ZERO)
            unclaimed = model_value * (apy_reward or ZERO) / HUNDRED * max(ZERO, period_days(since, end)) / YEAR

        # ---- totals ---------------------------------------------------------------------------
        fees: Decimal | None = state.fees_realised + (fees_est if is_open else ZERO)
        il: Decimal | None = None
        il_pct: Decimal | None = None
        value_hodl: Decimal | None = None
        pnl: Decimal | None = None
        pnl_vs_hodl: Decimal | None = None
        rewards_total = state.rewards_at_receipt + unclaimed
        if model_value is not None and hodl_now is not None:
            il = state.il_realised + (model_value - hodl_now)
            value_hodl = state.hodl_realised + hodl_now
            il_pct = il / value_hodl if value_hodl else ZERO
        if value_now is not None or not is_open:
            pnl = (value_now or ZERO) + state.withdrawn + rewards_total - state.deposited - state.costs
        if pnl is not None and value_hodl is not None:
            pnl_vs_hodl = (value_now or ZERO) + state.withdrawn + rewards_total - state.costs - value_hodl
        if value_now is None and is_open:
            fees = None if not state.fees_realised else state.fees_realised

        annualised = realised_apy = None
        if detail and pnl is not None and state.deposited > 0 and days_held >= 1:
            total_return = pnl / state.deposited
            annualised = -ONE if total_return <= -1 else annualise_return(total_return, days_held)
        if detail and value_hodl and days_held >= 1 and fees is not None:
            yield_return = (fees + rewards_total) / value_hodl
            if yield_return > -1:
                realised_apy = annualise_return(yield_return, days_held)
        advertised = None
        if pool is not None:
            stats = _stats(yields, p.opened_at.date(), end.date())
            apy = stats.apy if stats.days else pool.apy
            advertised = None if apy is None else apy / HUNDRED

        # ---- range --------------------------------------------------------------------------
        in_range = status = current = to_lower = to_upper = None
        if p.kind == "concentrated_lp" and p.range_lower and p.range_upper and len(order) == 2:
            p0, p1 = p.prices_now.get(order[0]), p.prices_now.get(order[1])
            if p0 and p1:
                current = p0 / p1
                status = amm.range_status(current, p.range_lower, p.range_upper)
                in_range = status == "in_range"
                if detail:
                    distances = amm.range_bound_distances(current, p.range_lower, p.range_upper)
                    to_lower, to_upper = distances.to_lower, distances.to_upper
                if not in_range and is_open:
                    side = order[0] if status == "below" else order[1]
                    warnings.append(f"Out of range: the position holds only {side} and earns no fees until the "
                                    "price returns to the range.")

        # ---- what a range did not take; stablecoins at their peg ----------------------------
        # A remainder worth less than half a cent is left out of the figures like any
        # other, but not reported (unless its value is unknown).
        unused = tuple(UnusedDeposit(a, state.unused_qty[a], state.unused_value[a])
                       for a in sorted(state.unused_qty)
                       if state.unused_value[a] >= _UNUSED_REPORTED or not state.unused_value[a])
        for u in unused:
            worth = f" (worth {_fmt_usd(u.value_at_deposit)} then)" if u.value_at_deposit else ""
            warnings.append(f"{_fmt_qty(u.quantity)} {u.asset} of your deposit did not fit your range at the "
                            f"deposit price and was not counted as in the pool{worth}: the deposited value, "
                            "the HODL value, impermanent loss and profit leave it out.")
        priced_now = set(state.rewards_qty)
        if is_open:
            priced_now.update(order, p.overrides)
        assumed_peg = tuple(sorted(a for a in p.pegged if a in priced_now))
        for a in assumed_peg:
            warnings.append(f"No {a} price from the last {PEG_MAX_AGE.days} days: {a} is valued at "
                            f"{_fmt_usd(STABLECOIN_PEG)}, its assumed peg.")
        moments = {tx.id: tx.occurred_at for tx in p.transactions if tx.occurred_at <= as_of}
        for tx_id, a in sorted(k for k in p.pegged_at if k[0] in moments):
            warnings.append(f"No {a} price within {PEG_MAX_AGE.days} days of {moments[tx_id]:%Y-%m-%d}: {a} is "
                            f"valued at {_fmt_usd(STABLECOIN_PEG)} (its assumed peg) for that transaction.")
        deposited_amounts: dict[str, Decimal] = defaultdict(Decimal)
        for tranche in state.tranches:
            for a, qty in tranche.amounts.items():
                deposited_amounts[a] += qty

        tokens = []
        for a in dict.fromkeys(list(order) + list(amounts_now)):
            price = p.prices_now.get(a)
            qty_now = amounts_now.get(a, ZERO)
            tokens.append(TokenFigure(asset=a, deposited=amounts_dep.get(a, ZERO), now=qty_now, price_now=price,
                                      value_now=None if price is None else qty_now * price))
        return PositionAnalytics(
            position_id=p.id, name=p.name, kind=p.kind, model=used_model if state.tranches else model,
            is_open=is_open, opened_at=p.opened_at, closed_at=p.closed_at, as_of=as_of, days_held=days_held,
            tokens=tuple(tokens), deposited=state.deposited, withdrawn=state.withdrawn,
            remaining_cost=remaining_cost if is_open else ZERO,
            value_now=(value_now if is_open else ZERO), value_model=model_value, value_hodl=value_hodl, il=il,
            il_pct=il_pct, fees=fees, fees_realised=state.fees_realised, fees_estimated=bool(fees_estimated),
            rewards_claimed_at_receipt=state.rewards_at_receipt, rewards_claimed_now=rewards_now,
            rewards_unclaimed=unclaimed, rewards_by_asset=dict(state.rewards_qty), costs=state.costs,
            pnl=pnl, pnl_vs_hodl=pnl_vs_hodl, annualised_return=annualised, realised_apy=realised_apy,
            advertised_apy=advertised, overridden=overridden, in_range=in_range, range_status=status,
            current_price=current, distance_to_lower=to_lower, distance_to_upper=to_upper,
            warnings=tuple(warnings), chain=pool.chain if pool else "", protocol=pool.protocol if pool else "",
            deposited_amounts=dict(deposited_amounts), unused=unused, assumed_peg=assumed_peg,
        )


# --------------------------------------------------------------------------- series


def position_value_series(p: PositionData, daily_prices: Mapping[date, Mapping[str, Decimal]],
                          *, until: date | None = None) -> list[SeriesPoint]:
    """Daily value of the position under its model vs. holding the deposited tokens.

    ``daily_prices`` maps each day to ``{asset: price}`` (the day's close). Days
    without a price for every token are skipped. Fees and rewards are not
    included: this is the impermanent-loss picture the position page charts.
    """
    order = token_order(p)
    model, params = choose_model(p.kind, p.pool, len(order))
    last = until or (p.closed_at.date() if p.closed_at else max(daily_prices, default=p.opened_at.date()))
    points: list[SeriesPoint] = []
    day = p.opened_at.date()
    with localcontext(_CTX):
        while day <= last:
            prices = daily_prices.get(day)
            if prices:
                moment = datetime.combine(day, datetime.max.time(), tzinfo=p.opened_at.tzinfo)
                state = _replay(p, order, model, params, until=moment)
                value = hodl = ZERO
                ok = bool(state.tranches)
                for tranche in state.tranches:
                    if tranche.factor == 0:
                        continue
                    val, _ = _value_tranche(model, params, order, tranche, prices, p.range_lower, p.range_upper)
                    if val is None:
                        ok = False
                        break
                    value += val.value_lp * tranche.factor
                    hodl += val.value_hodl * tranche.factor
                if ok:
                    points.append(SeriesPoint(day, value, hodl))
            day += timedelta(days=1)
    return points


# --------------------------------------------------------------------------- portfolio


def holdings_from_transactions(transactions: Iterable[TxData], prices_now: Mapping[str, Decimal | None],
                               pegged: frozenset[str] = frozenset()) -> list[Holding]:
    """Loose holdings: net quantity of each asset over transactions not attached to a
    position; positive balances only (a negative one means the history is incomplete),
    fiat and synthetic assets excluded. ``pegged``: stablecoins priced at their assumed peg."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for tx in transactions:
        if tx.position_id is not None:
            continue
        for leg in tx.legs:
            if leg.asset in FIAT_ASSETS or is_synthetic(leg.asset):
                continue
            totals[leg.asset] += leg.quantity
    out = []
    with localcontext(_CTX):
        for asset in sorted(totals):
            qty = totals[asset]
            if qty <= 0:
                continue
            price = prices_now.get(asset)
            out.append(Holding(asset, qty, price, None if price is None else qty * price, asset in pegged))
    return out


def income_between(transactions: Iterable[TxData], start: datetime, end: datetime) -> Decimal:
    """Fiat value of rewards received in ``[start, end)``."""
    total = ZERO
    for tx in transactions:
        if tx.kind == "reward" and start <= tx.occurred_at < end:
            for leg in tx.legs:
                if leg.quantity > 0 and not leg.is_fee:
                    total += leg.fiat_value or ZERO
    return total


def _slices(values: Mapping[str, Decimal], total: Decimal) -> tuple[AllocationSlice, ...]:
    items = sorted(((k, v) for k, v in values.items() if v), key=lambda kv: (-kv[1], kv[0]))
    with localcontext(_CTX):
        return tuple(AllocationSlice(k, v, (v / total) if total else ZERO) for k, v in items)


def _peg_warning(assets: Iterable[str]) -> str:
    names = sorted(assets)
    return (f"{', '.join(names)}: no price from the last {PEG_MAX_AGE.days} days, so "
            f"{'it is' if len(names) == 1 else 'each is'} valued at {_fmt_usd(STABLECOIN_PEG)} (assumed peg).")


def summarise_portfolio(positions: Sequence[PositionAnalytics], holdings: Sequence[Holding], *,
                        as_of: datetime, income_ytd: Decimal, portfolio_id: int | None = None,
                        name: str = "") -> PortfolioSummary:
    """Totals and allocations over positions (open and closed) and loose holdings.

    value = open positions' value now + loose holdings; deposited = cost of what is
    still in open positions; pnl = sum of position PnL (closed ones realised).
    """
    by_chain: dict[str, Decimal] = defaultdict(Decimal)
    by_protocol: dict[str, Decimal] = defaultdict(Decimal)
    by_asset: dict[str, Decimal] = defaultdict(Decimal)
    by_kind: dict[str, Decimal] = defaultdict(Decimal)
    value = deposited = pnl = il = fees = rewards = costs = ZERO
    warnings: list[str] = []
    pegged: set[str] = set()
    open_count = 0
    with localcontext(_CTX):
        for a in positions:
            pnl += a.pnl or ZERO
            il += a.il or ZERO
            fees += a.fees or ZERO
            rewards += a.rewards_claimed_at_receipt + a.rewards_unclaimed
            costs += a.costs
            if not a.is_open:
                continue
            pegged.update(a.assumed_peg)
            open_count += 1
            deposited += a.remaining_cost
            if a.value_now is None:
                warnings.append(f"{a.name}: value unknown (missing price).")
                continue
            value += a.value_now
            by_chain[a.chain or "Other"] += a.value_now
            by_protocol[a.protocol or "Other"] += a.value_now
            by_kind[a.kind] += a.value_now
            token_total = sum((t.value_now or ZERO for t in a.tokens), ZERO)
            # Split the position's value over its tokens (fees included pro rata).
            for t in a.tokens:
                if t.value_now and token_total:
                    by_asset[t.asset] += a.value_now * t.value_now / token_total
        for h in holdings:
            if h.value_now is None:
                warnings.append(f"{h.asset}: no current price, not counted in the value.")
                continue
            if h.assumed_peg:
                pegged.add(h.asset)
            value += h.value_now
            by_chain["Wallet"] += h.value_now
            by_protocol["Wallet"] += h.value_now
            by_kind["wallet"] += h.value_now
            by_asset[h.asset] += h.value_now
        if pegged:
            warnings.append(_peg_warning(pegged))
        return PortfolioSummary(
            as_of=as_of, value=value, deposited=deposited, pnl=pnl, il=il, fees=fees, rewards=rewards, costs=costs,
            income_ytd=income_ytd, positions=tuple(positions), holdings=tuple(holdings),
            by_chain=_slices(by_chain, value), by_protocol=_slices(by_protocol, value),
            by_asset=_slices(by_asset, value), by_kind=_slices(by_kind, value), open_positions=open_count,
            warnings=tuple(warnings), portfolio_id=portfolio_id, name=name, assumed_peg=tuple(sorted(pegged)),
        )


def combine_summaries(summaries: Sequence[PortfolioSummary], *, as_of: datetime) -> PortfolioSummary:
    """A user's summary over all their portfolios."""
    positions = tuple(a for s in summaries for a in s.positions)
    holdings = tuple(h for s in summaries for h in s.holdings)
    income = sum((s.income_ytd for s in summaries), ZERO)
    combined = summarise_portfolio(positions, holdings, as_of=as_of, income_ytd=income, name="All portfolios")
    own_peg = {_peg_warning(s.assumed_peg) for s in summaries if s.assumed_peg}
    warnings = [w for s in summaries for w in s.warnings if w not in own_peg]
    if combined.assumed_peg:  # one sentence for every portfolio's pegged assets
        warnings.append(_peg_warning(combined.assumed_peg))
    return replace(combined, warnings=tuple(warnings))


def replace_extra_prices(p: PositionData, prices: Mapping[tuple[int, str], Decimal]) -> PositionData:
    return replace(p, extra_prices={**p.extra_prices, **prices})


def to_decimal(value: object) -> Decimal | None:
    """Decimal from a database aggregate (SQLite returns floats); None stays None."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
