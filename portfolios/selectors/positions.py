"""Small reads of one position for its page and forms: the tokens it holds or held,
the user's own current amounts, and what went in over its deposits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from config.formatting import to_decimal
from pools.models import Token
from pools.selectors import pool_tokens
from portfolios.ledger import DEPOSIT_KINDS, LP_PREFIX
from portfolios.models import Leg, Position, PositionAmountOverride


def position_tokens(*, position: Position) -> list[Token]:
    """Tokens the position holds or held: its pool's underlying tokens (in pool order)
    then the other tokens of its legs (by symbol). The choices of the add / remove /
    override forms."""
    in_legs = Leg.objects.filter(transaction__position=position, token__isnull=False).values("token_id")
    tokens = list(Token.objects.filter(pk__in=in_legs).select_related("chain").order_by("symbol", "id"))
    if position.pool_id:
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


def position_deposits(*, position: Position) -> Deposits:
    """The tokens sent into the position by its deposits (``lp_deposit`` / ``stake``:
    outgoing legs, fees and LP receipts left out) and their average price then.
    One grouped query."""
    rows = (Leg.objects.filter(transaction__position=position, transaction__kind__in=sorted(DEPOSIT_KINDS),
                               quantity__lt=0, is_fee=False)
            .exclude(asset__startswith=LP_PREFIX)
            .values("asset").order_by("asset")
            .annotate(sent=Sum("quantity"), value=Sum("fiat_value"),
                      valued=Sum("quantity", filter=Q(fiat_value__isnull=False))))
    quantity: dict[str, Decimal] = {}
    price: dict[str, Decimal] = {}
    for row in rows:
        quantity[row["asset"]] = -(to_decimal(row["sent"]) or Decimal(0))
        valued, value = to_decimal(row["valued"]), to_decimal(row["value"])
        if valued and value is not None:
            price[row["asset"]] = value / -valued
    return Deposits(quantity, price)
