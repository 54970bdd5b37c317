"""Tiny builders for hand-written ledgers in tests (amounts as strings -> Decimal)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from portfolios.tax.engine import LegIn, TxIn

D = Decimal


def at(text: str) -> datetime:
    """'2024-03-01' (noon UTC) or a full ISO timestamp with an offset."""
    if len(text) == 10:
        text += "T12:00:00+00:00"
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None
    return value


def leg(asset: str, quantity: str, fiat_value: str | None = None, fee: bool = False) -> LegIn:
    return LegIn(asset, D(quantity), None if fiat_value is None else D(fiat_value), fee)


def tx(
    ref: str, when: str, kind: str, *legs: LegIn, income_type: str | None = None, position: str | None = None
) -> TxIn:
    return TxIn(ref, at(when), kind, tuple(legs), income_type=income_type, position=position)


def buy(ref: str, when: str, asset: str, qty: str, paid: str, *fees: LegIn, fiat: str = "USD") -> TxIn:
    return tx(ref, when, "buy", leg(fiat, f"-{paid}"), leg(asset, qty), *fees)


def sell(ref: str, when: str, asset: str, qty: str, received: str, *fees: LegIn, fiat: str = "USD") -> TxIn:
    return tx(ref, when, "sell", leg(asset, f"-{qty}"), leg(fiat, received), *fees)


def reward(ref: str, when: str, asset: str, qty: str, value: str, income_type: str = "staking", position=None) -> TxIn:
    return tx(ref, when, "reward", leg(asset, qty, value), income_type=income_type, position=position)


def fee(asset: str, qty: str, value: str | None = None) -> LegIn:
    """A fee leg: pays ``qty`` of ``asset`` (give the positive amount)."""
    return leg(asset, f"-{qty}", value, fee=True)
