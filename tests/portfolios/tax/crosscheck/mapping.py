"""Our transactions decomposed the way both tools need them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from portfolios.tax.engine import LegIn, TxIn


@dataclass
class Shape:
    """A generated transaction decomposed the way both tools need it."""

    tx: TxIn
    principal_out: list[LegIn]
    principal_in: list[LegIn]
    fiat_out: Decimal
    fiat_in: Decimal
    fee_value: Decimal
    fee_token: LegIn | None
    fee_fiat: Decimal


def value(leg: LegIn) -> Decimal:
    """A leg's fiat value: the generated ledgers value every non-fiat leg."""
    if leg.fiat_value is None:
        raise ValueError(f"leg {leg.asset} {leg.quantity} has no fiat value")
    return leg.fiat_value


def shape(tx: TxIn, fiat: str) -> Shape:
    outs, ins = [], []
    fiat_out = fiat_in = fee_value = fee_fiat = Decimal(0)
    fee_token = None
    for leg in tx.legs:
        if leg.is_fee or tx.kind == "fee":
            if leg.asset == fiat:
                fee_value += -leg.quantity
                fee_fiat += -leg.quantity
            else:
                fee_value += value(leg)
                fee_token = leg
        elif leg.asset == fiat:
            if leg.quantity < 0:
                fiat_out += -leg.quantity
            else:
                fiat_in += leg.quantity
        elif leg.quantity < 0:
            outs.append(leg)
        else:
            ins.append(leg)
    return Shape(tx, outs, ins, fiat_out, fiat_in, fee_value, fee_token, fee_fiat)


def iso(moment: datetime, micro: int = 0) -> str:
    return (moment + timedelta(microseconds=micro)).astimezone(UTC).isoformat()


def plain(value: Decimal) -> str:
    return format(value, "f")
