"""Results of the analytics: a position's figures, loose holdings, allocations,
portfolio summaries and the value-vs-HODL series (see the package docstring)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal

from portfolios.analytics.inputs import ZERO


def _quick_pickle[T](cls: type[T]) -> type[T]:
    """Give a slotted dataclass a state of its values in field order. The generic state
    methods ``dataclasses`` adds to slotted classes look the fields up again for every
    object; a cached 500-position summary (``selectors.portfolio_summary_now``) holds a
    thousand such objects, so unpickling it took that lookup a thousand times a view."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]  # a dataclass by construction
    set_attribute = object.__setattr__

    def get_state(self: T) -> list[object]:
        return [getattr(self, name) for name in names]

    def set_state(self: T, state: list[object]) -> None:
        for name, value in zip(names, state, strict=True):
            set_attribute(self, name, value)

    setattr(cls, "__getstate__", get_state)  # noqa: B010 - replacing dataclasses' own
    setattr(cls, "__setstate__", set_state)  # noqa: B010
    return cls


@_quick_pickle
@dataclass(frozen=True, slots=True)
class TokenFigure:
    asset: str
    deposited: Decimal  # quantity still in the position as deposited (remaining share)
    now: Decimal  # quantity now (model or override)
    price_now: Decimal | None
    value_now: Decimal | None
    priced_at: datetime | None = None  # when price_now was quoted (None: peg, override or unknown)


@_quick_pickle
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
    fees_claimed: Decimal = ZERO  # LP fees recorded as claims (income type LP fees), in ``fees``
    # The oldest quote behind value_now (open positions; None when no dated price was used).
    prices_as_of: datetime | None = None

    @property
    def rewards_total(self) -> Decimal:
        """Reward tokens only: claimed (at receipt) plus the unclaimed estimate."""
        return self.rewards_claimed_at_receipt + self.rewards_unclaimed

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


@_quick_pickle
@dataclass(frozen=True, slots=True)
class Holding:
    """A loose asset (transactions not attached to a position)."""

    asset: str
    quantity: Decimal
    price_now: Decimal | None
    value_now: Decimal | None
    assumed_peg: bool = False  # a stablecoin valued at 1.00 USD for want of a recent price
    priced_at: datetime | None = None  # when price_now was quoted


@_quick_pickle
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
    prices_as_of: datetime | None = None  # the oldest quote behind ``value`` (None: no dated price used)


@_quick_pickle
@dataclass(frozen=True, slots=True)
class SeriesPoint:
    day: date
    value: Decimal
    value_hodl: Decimal
