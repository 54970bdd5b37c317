"""Lot selection, hand-worked.

Ledger (USD, UTC):
    2023-01-10 buy 1 ETH for 1,000
    2023-02-10 buy 1 ETH for 3,000
    2023-03-10 buy 1 ETH for 2,000
    2023-04-10 sell 1.5 ETH for 3,750 (2,500 each)
    2023-05-10 sell 1.5 ETH for 3,000 (2,000 each) - everything is gone

First sale, by method:
    FIFO     1 @ 1,000 + 0.5 of the 3,000 lot (1,500) = 2,500 -> gain 1,250
    LIFO     1 @ 2,000 + 0.5 of the 3,000 lot (1,500) = 3,500 -> gain   250
    HIFO     1 @ 3,000 + 0.5 of the 2,000 lot (1,000) = 4,000 -> gain  -250
    average  6,000 / 3 = 2,000 each; 1.5 x 2,000     = 3,000 -> gain   750
Second sale: FIFO -500, LIFO +500, HIFO +1,000, average 0; over both sales
every method realises 6,750 - 6,000 = 750.
"""

from datetime import date

import pytest

from portfolios.tax.engine import TaxSettings, cents, compute

from .builders import D, buy, fee, sell

LEDGER = [
    buy("b1", "2023-01-10", "ETH", "1", "1000"),
    buy("b2", "2023-02-10", "ETH", "1", "3000"),
    buy("b3", "2023-03-10", "ETH", "1", "2000"),
    sell("s1", "2023-04-10", "ETH", "1.5", "3750"),
    sell("s2", "2023-05-10", "ETH", "1.5", "3000"),
]

FIRST_SALE = {
    # method: [(quantity, acquired, proceeds, cost, gain), ...]
    "fifo": [("1", date(2023, 1, 10), "2500", "1000", "1500"), ("0.5", date(2023, 2, 10), "1250", "1500", "-250")],
    "lifo": [("1", date(2023, 3, 10), "2500", "2000", "500"), ("0.5", date(2023, 2, 10), "1250", "1500", "-250")],
    "hifo": [("1", date(2023, 2, 10), "2500", "3000", "-500"), ("0.5", date(2023, 3, 10), "1250", "1000", "250")],
    "average": [("1.5", "various", "3750", "3000", "750")],
}
SECOND_SALE_GAIN = {"fifo": "-500", "lifo": "500", "hifo": "1000", "average": "0"}
LEFT_AFTER_FIRST_SALE = {
    "fifo": [("0.5", date(2023, 2, 10), "1500"), ("1", date(2023, 3, 10), "2000")],
    "lifo": [("1", date(2023, 1, 10), "1000"), ("0.5", date(2023, 2, 10), "1500")],
    "hifo": [("1", date(2023, 1, 10), "1000"), ("0.5", date(2023, 3, 10), "1000")],
    "average": [("1.5", "various", "3000")],
}


@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo", "average"])
def test_each_method_matches_the_hand_worked_first_sale(method):
    report = compute(LEDGER, TaxSettings(method=method))
    rows = [(d.quantity, d.acquired, d.proceeds, d.cost_basis, d.gain) for d in report.disposals if d.tx_ref == "s1"]
    expected = [(D(q), acq, D(p), D(c), D(g)) for q, acq, p, c, g in FIRST_SALE[method]]
    assert rows == expected
    assert all(d.rule == method and d.term == "short" for d in report.disposals)


@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo", "average"])
def test_each_method_matches_the_hand_worked_second_sale(method):
    report = compute(LEDGER, TaxSettings(method=method))
    assert sum(d.gain for d in report.disposals if d.tx_ref == "s2") == D(SECOND_SALE_GAIN[method])


@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo", "average", "uk"])
def test_every_method_realises_the_same_total_once_everything_is_sold(method):
    settings = TaxSettings(method=method, jurisdiction="uk" if method == "uk" else "us")
    report = compute(LEDGER, settings)
    assert sum((t.gain for t in report.totals.values()), D(0)) == D("750")
    assert report.lots_at_end_of(report.tax_years[-1]) == ()


@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo", "average"])
def test_lots_left_at_the_end_of_the_first_sale_month_are_the_hand_worked_ones(method):
    report = compute(LEDGER[:4], TaxSettings(method=method))
    lots = [(lot.quantity, lot.acquired, lot.cost_basis) for lot in report.lots_at_end_of(2023)]
    assert lots == [(D(q), a, D(c)) for q, a, c in LEFT_AFTER_FIRST_SALE[method]]


def test_hifo_breaks_ties_in_unit_cost_by_taking_the_earliest_lot():
    ledger = [
        buy("early", "2023-01-01", "SOL", "2", "40"),
        buy("late", "2023-02-01", "SOL", "1", "20"),
        sell("s", "2023-03-01", "SOL", "1", "30"),
    ]
    (row,) = compute(ledger, TaxSettings(method="hifo")).disposals
    assert row.acquired == date(2023, 1, 1)


def test_hifo_ranks_lots_by_cost_including_fees_not_by_price():
    ledger = [
        buy("cheaper-but-big-fee", "2023-01-01", "SOL", "1", "20", fee("USD", "5")),  # unit cost 25
        buy("dearer", "2023-02-01", "SOL", "1", "21"),  # unit cost 21
        sell("s", "2023-03-01", "SOL", "1", "30"),
    ]
    (row,) = compute(ledger, TaxSettings(method="hifo")).disposals
    assert row.acquired == date(2023, 1, 1)
    assert row.cost_basis == D("25")


def test_average_cost_splits_a_disposal_into_short_and_long_parts_first_in_first_out():
    ledger = [
        buy("old", "2022-01-01", "BTC", "1", "10000"),
        buy("new", "2023-01-01", "BTC", "1", "30000"),
        sell("s", "2023-06-01", "BTC", "1.5", "45000"),
    ]
    report = compute(ledger, TaxSettings(method="average"))
    rows = {d.term: d for d in report.disposals}
    assert set(rows) == {"long", "short"}
    assert rows["long"].quantity == D("1") and rows["short"].quantity == D("0.5")
    assert rows["long"].cost_basis == D("20000") and rows["short"].cost_basis == D("10000")
    assert rows["long"].acquired == rows["short"].acquired == "various"
    assert cents(rows["long"].proceeds + rows["short"].proceeds) == D("45000.00")
