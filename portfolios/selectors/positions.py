"""Small reads of one position for its page and forms: the tokens it holds or held,
the user's own current amounts, and what went in over its deposits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from pools.models import Token
from pools.selectors import pool_tokens
from portfolios.ledger import DEPOSIT_KINDS, is_lp_asset
from portfolios.models import Leg, Position, PositionAmountOverride, Transaction

ZERO = Decimal(0)


def position_tokens(*, position: Position) -> list[Token]:
    """Tokens the position holds or held: its pool's underlying tokens (in pool order)
    then the other tokens of its legs (by symbol). The choices of the add / remove /
    override forms."""
    in_legs = Leg.objects.filter(transaction__position=position, token__isnull=False).values("token_id")
    tokens = list(Token.objects.filter(pk__in=in_legs).select_related("chain").order_by("symbol", "id"))
    if position.pool is not None:
        underlying, _ = pool_tokens(pool=position.pool)
        tokens = underlying + [t for t in tokens if t not in underlying]
    return tokens


def position_amount_overrides(*, position: Position) -> dict[int, Decimal]:
    """The user's own current amounts of a position: token id -> quantity."""
    return dict(PositionAmountOverride.objects.filter(position=position).values_list("token_id", "quantity"))


@dataclass(frozen=True)
class Deposits:
    """What went into a position over all its deposits, per asset."""

    quantity: dict[str, Decimal]  # tokens sent in (positive)
    price: dict[str, Decimal]  # average price paid: value at deposit / quantity, over the valued legs


def position_deposits(*, transactions: Iterable[Transaction]) -> Deposits:
    """What a position's deposits (``lp_deposit`` / ``stake``) sent in, per asset: the
    outgoing legs, fees and LP receipts left out, and their average price then (value
    over quantity of the legs that carry a value). ``transactions``: the position's,
    legs prefetched, as the position page loads them (no query here)."""
    quantity: dict[str, Decimal] = {}
    value: dict[str, Decimal] = {}
    valued: dict[str, Decimal] = {}
    for txn in transactions:
        if txn.kind not in DEPOSIT_KINDS:
            continue
        for leg in txn.legs.all():
            if leg.quantity >= 0 or leg.is_fee or is_lp_asset(leg.asset):
                continue
            quantity[leg.asset] = quantity.get(leg.asset, ZERO) - leg.quantity
            if leg.fiat_value is not None:
                value[leg.asset] = value.get(leg.asset, ZERO) + leg.fiat_value
                valued[leg.asset] = valued.get(leg.asset, ZERO) - leg.quantity
    return Deposits(quantity, {a: value[a] / q for a, q in valued.items() if q})
