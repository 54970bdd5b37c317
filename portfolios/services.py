"""Every write of the portfolios app (stub signatures; implementation follows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError  # noqa: F401

from portfolios.models import Portfolio, Position, PositionAmountOverride, Transaction  # noqa: F401


class PortfolioError(Exception):
    """A domain error with a message meant for the user."""


class MissingPrice(PortfolioError):
    def __init__(self, token, when):
        self.token = token
        self.when = when
        super().__init__(f"No price for {token} on {when:%Y-%m-%d}; enter its value.")


class InsufficientPosition(PortfolioError):
    pass


@dataclass(frozen=True)
class LegInput:
    """One token movement as a service argument: ``token`` (or ``asset`` for fiat /
    tokens we do not list), ``quantity`` (signed for transaction_record, positive
    for deposits/withdrawals/claims), ``fiat_value`` (absolute; None = look it up)."""

    token: Any = None
    quantity: Decimal = Decimal(0)
    fiat_value: Decimal | None = None
    asset: str = ""
    is_fee: bool = False


def portfolio_create(*, owner, name: str) -> Portfolio:
    raise NotImplementedError


def portfolio_update(*, portfolio: Portfolio, name: str) -> Portfolio:
    raise NotImplementedError


def portfolio_delete(*, portfolio: Portfolio) -> None:
    raise NotImplementedError


def position_open(*, portfolio: Portfolio, kind: str, opened_at: datetime, deposits: list[LegInput], pool=None,
                  label: str = "", range_lower: Decimal | None = None, range_upper: Decimal | None = None,
                  notes: str = "") -> Position:
    raise NotImplementedError


def position_add_liquidity(*, position: Position, deposits: list[LegInput], occurred_at: datetime) -> Transaction:
    raise NotImplementedError


def position_remove_liquidity(*, position: Position, withdrawals: list[LegInput], occurred_at: datetime,
                              close: bool = False) -> Transaction:
    raise NotImplementedError


def position_claim_rewards(*, position: Position, token, quantity: Decimal, income_type: str,
                           occurred_at: datetime, fiat_value: Decimal | None = None) -> Transaction:
    raise NotImplementedError


def position_stake(*, position: Position, deposits: list[LegInput], occurred_at: datetime) -> Transaction:
    raise NotImplementedError


def position_unstake(*, position: Position, withdrawals: list[LegInput], occurred_at: datetime,
                     close: bool = False) -> Transaction:
    raise NotImplementedError


def position_close(*, position: Position, closed_at: datetime) -> Position:
    raise NotImplementedError


def position_update(*, position: Position, **fields) -> Position:
    raise NotImplementedError


def position_delete(*, position: Position) -> None:
    raise NotImplementedError


def position_override_amounts(*, position: Position, amounts: dict, as_of: datetime | None = None) -> Position:
    raise NotImplementedError


def transaction_record(*, portfolio: Portfolio, kind: str, legs: list[LegInput], occurred_at: datetime,
                       position: Position | None = None, income_type: str | None = None, description: str = "",
                       source: str = "manual", dedupe_key: str = "") -> Transaction:
    raise NotImplementedError


def transaction_update(*, transaction: Transaction, **fields) -> Transaction:
    raise NotImplementedError


def transaction_delete(*, transaction: Transaction) -> None:
    raise NotImplementedError


def portfolio_revalue(*, portfolio_id: int) -> None:
    raise NotImplementedError


def portfolio_snapshots_write(*, day=None, portfolio_ids=None) -> int:
    raise NotImplementedError
