"""Inputs of the analytics (plain values the selectors build from rows), the shared
constants, and the rule for pricing a stablecoin without a recent quote."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Context, Decimal, localcontext

CTX = Context(prec=50)
ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
YEAR = Decimal(365)
DEFAULT_STABLESWAP_A = Decimal(100)
#: A stablecoin with no price newer than this before the valuation is valued at its peg.
PEG_MAX_AGE = timedelta(days=7)
STABLECOIN_PEG = ONE
HOLD_POSITION_KINDS = frozenset({"staking", "liquid_staking", "lending"})


def stablecoin_price(price: Decimal | None, priced_at: datetime | None, as_of: datetime) -> tuple[Decimal, bool]:
    """The price to value a stablecoin with at ``as_of``: its own when it is at most
    ``PEG_MAX_AGE`` old, else the assumed peg (1.00 USD). ``(price, pegged)``.

    A years-old quote is no better than the peg and says nothing about a de-peg
    today; the caller reports ``pegged`` so the user knows the value is assumed."""
    if price is not None and priced_at is not None and priced_at >= as_of - PEG_MAX_AGE:
        return price, False
    return STABLECOIN_PEG, True


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
        with localcontext(CTX):
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
    # When each price in prices_now was quoted (asset -> aware time); absent: pegged, given, or unknown.
    price_times: Mapping[str, datetime] = field(default_factory=dict)


def replace_extra_prices(p: PositionData, prices: Mapping[tuple[int, str], Decimal]) -> PositionData:
    return replace(p, extra_prices={**p.extra_prices, **prices})
