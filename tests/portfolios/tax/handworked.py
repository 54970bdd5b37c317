"""A hand-worked US ledger for the tax report tests.

Alice (``owner``) in portfolio "Main", FIFO, UTC:

=========== ========================================== =====================================
2023-03-01  buy 2 ETH for 3,000 USD + 10 USD fee        lot A: 2 ETH, cost 3,010 (1,505/ETH)
2024-01-10  buy 1 ETH for 2,500 USD                     lot B: 1 ETH, cost 2,500
2024-02-15  reward 100 CRV (liquidity mining), 80 USD   lot C: 100 CRV, cost 80; income 80
2024-03-15  reward 0.05 ETH (staking), 150 USD          lot D: 0.05 ETH, cost 150; income 150
2024-04-01  sell 1.5 ETH for 5,250 USD                  1.5 of A: cost 2,257.50, long, gain 2,992.50
2024-06-01  sell 1 ETH for 3,800 USD                    0.5 of A: 752.50, long, gain 1,147.50
                                                        0.5 of B: 1,250, short, gain 650
2024-07-01  swap 50 CRV for 30 USDC (30 USD)            50 of C: cost 40, short, loss -10
2025-02-01  sell 0.05 ETH for 200 USD                   (after the year: must not matter)
=========== ========================================== =====================================

2024: proceeds 9,080; cost 4,300; gain 4,780 = short 640 + long 4,140; income 230
(liquidity mining 80 in February, staking 150 in March).
End of 2024: 0.55 ETH (cost 1,400), 50 CRV (cost 40), 30 USDC (cost 30). ETH is 3,400
on 2024-12-31 (value 1,870, unrealised 470), USDC 1, CRV has no price that day.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from portfolios.models import Leg, Portfolio, Transaction
from portfolios.tax.engine import LegIn, TxIn

D = Decimal

# (when, kind, income_type, [(asset, quantity, fiat_value, is_fee)])
LEDGER = [
    ("2023-03-01T10:00", "buy", "", [("USD", "-3000", "3000", False), ("ETH", "2", "3000", False),
                                    ("USD", "-10", "10", True)]),
    ("2024-01-10T10:00", "buy", "", [("USD", "-2500", "2500", False), ("ETH", "1", "2500", False)]),
    ("2024-02-15T10:00", "reward", "liquidity_mining", [("CRV", "100", "80", False)]),
    ("2024-03-15T10:00", "reward", "staking", [("ETH", "0.05", "150", False)]),
    ("2024-04-01T10:00", "sell", "", [("ETH", "-1.5", "5250", False), ("USD", "5250", "5250", False)]),
    ("2024-06-01T10:00", "sell", "", [("ETH", "-1", "3800", False), ("USD", "3800", "3800", False)]),
    ("2024-07-01T10:00", "swap", "", [("CRV", "-50", "30", False), ("USDC", "30", "30", False)]),
    ("2025-02-01T10:00", "sell", "", [("ETH", "-0.05", "200", False), ("USD", "200", "200", False)]),
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def record(portfolio: Portfolio, when: str, kind: str, income_type: str, legs, tokens=None, position=None):
    """A transaction and its legs straight into the tables (the services' shape checks are
    not what these tests are about; the engine validates again anyway)."""
    tokens = tokens or {}
    txn = Transaction.objects.create(portfolio=portfolio, kind=kind, income_type=income_type, occurred_at=at(when),
                                     position=position)
    Leg.objects.bulk_create([
        Leg(transaction=txn, asset=asset, quantity=D(qty), fiat_value=None if value is None else D(value),
            value_source=Leg.ValueSource.MISSING if value is None else Leg.ValueSource.ENTERED, is_fee=fee,
            token=tokens.get(asset))
        for asset, qty, value, fee in legs
    ])
    return txn


def engine_ledger(transactions: list[Transaction]) -> list[TxIn]:
    """The same ledger as engine inputs, built independently of the report code."""
    out = []
    for (when, kind, income_type, legs), txn in zip(LEDGER, transactions, strict=True):
        out.append(TxIn(str(txn.pk), at(when), kind,
                        tuple(LegIn(a, D(q), None if v is None else D(v), f) for a, q, v, f in legs),
                        income_type or None))
    return out
