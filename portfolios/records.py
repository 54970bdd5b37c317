"""The ledger's plain input records (pure: standard library and ``portfolios.ledger`` only).

A transaction as plain values, validated on construction: :class:`TxIn` with
its :class:`LegIn` legs. The CSV formats parse into them, imports read them
and the tax engine (``portfolios.tax.engine``, which re-exports them) computes
on them, so the core never imports the tax app for its own records.

Bad data raises :class:`InvalidTransaction` (a :class:`LedgerDataError` and a
``ValueError``) or ``ValueError`` / ``TypeError`` for a malformed leg. The tax
engine's ``TaxEngineError`` is :class:`LedgerDataError`, so one ``except``
catches a bad record and a failed computation alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from portfolios.ledger import IncomeType, TxKind, category_problem

__all__ = ["INCOME_TYPES", "KINDS", "InvalidTransaction", "LedgerDataError", "LegIn", "TxIn", "as_decimal"]

#: The values a record's ``kind`` and a reward's ``income_type`` may take (plain strings).
KINDS = frozenset(k.value for k in TxKind)
INCOME_TYPES = frozenset(t.value for t in IncomeType)


class LedgerDataError(Exception):
    """Base class of every error raised on bad ledger data (the tax engine's ``TaxEngineError``)."""


class InvalidTransaction(LedgerDataError, ValueError):
    def __init__(self, ref: str, message: str):
        self.ref = ref
        super().__init__(f"transaction {ref}: {message}")


def as_decimal(value: object, what: str) -> Decimal:
    """``value`` as a finite Decimal; an int is exact, a float or a bool is refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__} ({value!r})")
    if isinstance(value, int):
        return Decimal(value)
    if not isinstance(value, Decimal):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{what} must be finite, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class LegIn:
    asset: str
    quantity: Decimal  # signed: + received, - sent
    fiat_value: Decimal | None = None  # absolute value in the user's fiat at that moment
    is_fee: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.asset, str) or not self.asset.strip():
            raise ValueError("leg asset must be a non-empty string")
        if self.asset != self.asset.strip():
            object.__setattr__(self, "asset", self.asset.strip())
        object.__setattr__(self, "quantity", as_decimal(self.quantity, "quantity"))
        if self.fiat_value is not None:
            value = as_decimal(self.fiat_value, "fiat_value")
            if value < 0:
                raise ValueError(f"fiat_value is an absolute value and cannot be negative ({value})")
            object.__setattr__(self, "fiat_value", value)
        if not isinstance(self.is_fee, bool):
            raise TypeError("is_fee must be a bool")


@dataclass(frozen=True, slots=True)
class TxIn:
    ref: str
    occurred_at: datetime  # aware
    kind: str
    legs: tuple[LegIn, ...]
    income_type: str | None = None
    position: str | None = None  # LP / farm / validator position key (rewards summary, synthetic assets)
    wallet: str | None = None  # the wallet it happened in (lots per wallet: TaxSettings.lots_per_wallet_from)
    category: str = ""  # a transfer's TxCategory ("gift", "gift_spouse"); blank: a move between own wallets

    def __post_init__(self) -> None:
        if not isinstance(self.ref, str) or not self.ref:
            raise ValueError("ref must be a non-empty string")
        if not isinstance(self.occurred_at, datetime):
            raise InvalidTransaction(self.ref, "occurred_at must be a datetime")
        if self.occurred_at.tzinfo is None or self.occurred_at.utcoffset() is None:
            raise InvalidTransaction(self.ref, "occurred_at must be timezone-aware")
        if self.kind not in KINDS:
            raise InvalidTransaction(self.ref, f"unknown kind {self.kind!r}; expected one of {sorted(KINDS)}")
        if not isinstance(self.legs, tuple):
            object.__setattr__(self, "legs", tuple(self.legs))
        for leg in self.legs:
            if not isinstance(leg, LegIn):
                raise InvalidTransaction(self.ref, f"legs must be LegIn, got {type(leg).__name__}")
        if self.kind == "reward":
            if self.income_type is None:
                object.__setattr__(self, "income_type", "other")
            elif self.income_type not in INCOME_TYPES:
                raise InvalidTransaction(
                    self.ref, f"unknown income_type {self.income_type!r}; expected one of {sorted(INCOME_TYPES)}"
                )
        elif self.income_type is not None:
            raise InvalidTransaction(self.ref, f"income_type is only for rewards, not for a {self.kind}")
        if self.position is not None and (not isinstance(self.position, str) or not self.position):
            raise InvalidTransaction(self.ref, "position must be a non-empty string or None")
        if self.category:
            problem = category_problem(self.kind, self.category)
            if problem is not None:
                raise InvalidTransaction(self.ref, problem)
