"""Rewards are income at fair market value when received; that value is the
new lot's cost basis."""

from datetime import date

import pytest

from portfolios.tax.engine import MissingFiatValue, TaxSettings, compute

from .builders import D, fee, leg, reward, sell, tx

LEDGER = [
    reward("r1", "2024-01-15", "CAKE", "10", "25", "staking", position="cake-pool"),
    reward("r2", "2024-02-20", "CAKE", "5", "15", "liquidity_mining", position="cake-bnb-farm"),
    reward("r3", "2024-02-21", "USDC", "4", "4", "lp_fees", position="usdc-eth-lp"),
    sell("s", "2024-03-01", "CAKE", "12", "36"),
]


def test_rewards_are_income_at_their_value_when_received():
    report = compute(LEDGER)
    assert [
        (e.tx_ref, e.income_type, e.asset, e.quantity, e.fair_market_value, e.received, e.position)
        for e in report.income
    ] == [
        ("r1", "staking", "CAKE", D("10"), D("25"), date(2024, 1, 15), "cake-pool"),
        ("r2", "liquidity_mining", "CAKE", D("5"), D("15"), date(2024, 2, 20), "cake-bnb-farm"),
        ("r3", "lp_fees", "USDC", D("4"), D("4"), date(2024, 2, 21), "usdc-eth-lp"),
    ]


def test_the_value_at_receipt_is_the_cost_basis_of_the_reward_lot():
    # FIFO: 10 CAKE @ 2.50 (25) + 2 CAKE @ 3.00 (6) = 31; proceeds 36 -> gain 5
    report = compute(LEDGER)
    assert [(d.quantity, d.cost_basis, d.gain, d.acquired) for d in report.disposals] == [
        (D("10"), D("25"), D("5"), date(2024, 1, 15)),  # proceeds 30
        (D("2"), D("6"), D("0"), date(2024, 2, 20)),  # proceeds 6
    ]
    cake = [lot for lot in report.lots_at_end_of(2024) if lot.asset == "CAKE"]
    assert [(lot.quantity, lot.cost_basis) for lot in cake] == [(D("3"), D("9"))]


def test_income_totals_by_type_month_and_asset():
    totals = compute(LEDGER).year(2024)
    assert totals.income_total == D("44")
    assert totals.income_by_type == {"liquidity_mining": D("15"), "lp_fees": D("4"), "staking": D("25")}
    assert totals.income_by_month == {"2024-01": D("25"), "2024-02": D("19")}
    assert totals.income_by_asset == {"CAKE": D("40"), "USDC": D("4")}


def test_a_reward_without_a_value_is_refused_rather_than_booked_at_zero():
    with pytest.raises(MissingFiatValue, match="r9"):
        compute([tx("r9", "2024-01-01", "reward", leg("CAKE", "1"), income_type="staking")])


def test_interest_paid_in_fiat_is_income_without_a_lot():
    report = compute([tx("i", "2024-05-01", "reward", leg("USD", "12.5"), income_type="interest")])
    assert [(e.asset, e.fair_market_value) for e in report.income] == [("USD", D("12.5"))]
    assert report.lots_at_end_of(2024) == ()


def test_gas_paid_to_claim_a_reward_is_added_to_the_reward_lot_not_netted_from_income():
    ledger = [
        tx("b", "2024-01-01", "buy", leg("USD", "-100"), leg("ETH", "0.1")),
        tx("claim", "2024-02-01", "reward", leg("CAKE", "10", "30"), fee("ETH", "0.001", "2"), income_type="staking"),
    ]
    report = compute(ledger)
    assert report.year(2024).income_total == D("30")
    cake = [lot for lot in report.lots_at_end_of(2024) if lot.asset == "CAKE"]
    assert cake[0].cost_basis == D("32")
    assert [(d.asset, d.quantity, d.proceeds, d.cost_basis) for d in report.disposals] == [
        ("ETH", D("0.001"), D("2"), D("1"))
    ]


@pytest.mark.parametrize("method", ["fifo", "hifo", "average", "uk"])
def test_income_is_the_same_whatever_the_disposal_method(method):
    settings = TaxSettings(method=method, jurisdiction="uk" if method == "uk" else "us")
    report = compute(LEDGER, settings)
    assert sum((t.income_total for t in report.totals.values()), D(0)) == D("44")
