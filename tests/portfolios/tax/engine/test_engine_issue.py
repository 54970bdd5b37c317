"""Regression: selling everything after a "nontaxable" LP round trip.

An LP withdrawal re-denominates the receipt's lots into the returned token.
The engine once did that at 50 significant digits, so its running ``held``
total drifted from the sum of its lots and selling exactly what was held
raised ``IndexError`` (FIFO, HIFO, average) or a 1e-49 shortfall (LIFO).
Quantities are now exact; this is the six-transaction ledger that showed it.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from portfolios.tax.engine import LegIn, TaxSettings, TxIn, compute

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def ledger() -> list[TxIn]:
    def at(hours: int) -> datetime:
        return T0 + timedelta(hours=hours)

    return [
        TxIn("b0", at(1), "buy", (LegIn("USD", D("-19.60")), LegIn("ETH", D("1.96"), D("19.60")))),
        TxIn("b2", at(2), "buy", (LegIn("USD", D("-10.60")), LegIn("ETH", D("1.06"), D("10.60")))),
        TxIn("d3", at(3), "lp_deposit", (LegIn("ETH", D("-1.69"), D("1.69")), LegIn("LP", D("1.69"), D("1.69")))),
        TxIn("d4", at(4), "lp_deposit", (LegIn("ETH", D("-0.80"), D("0.80")), LegIn("LP", D("0.80"), D("0.80")))),
        TxIn("w5", at(5), "lp_withdraw", (LegIn("LP", D("-2.49"), D("2.50")), LegIn("ETH", D("2.50"), D("2.50")))),
        # 1.96 + 1.06 - 1.69 - 0.80 + 2.50 = 3.03 ETH held: sell all of it.
        TxIn("s6", at(6), "sell", (LegIn("ETH", D("-3.03"), D("30")), LegIn("USD", D("30")))),
    ]


def test_selling_everything_after_an_lp_round_trip_works():
    report = compute(ledger(), TaxSettings(method="fifo", lp_treatment="nontaxable"))
    assert report.year("2024").disposal_count >= 1


def test_the_same_ledger_works_when_lp_moves_are_disposals():
    report = compute(ledger(), TaxSettings(method="fifo", lp_treatment="disposal"))
    assert report.year("2024").disposal_count >= 1
