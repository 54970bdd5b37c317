"""``missing_basis="zero"``: a disposal of tokens with no recorded acquisition
completes with a zero cost for the uncovered quantity, and each case is listed.
Expected figures are worked by hand in the comments."""

import pytest

from portfolios.tax.engine import InsufficientHoldings, MissingBasis, TaxSettings, compute

from .builders import D, at, buy, leg, sell, tx

METHODS = ["fifo", "lifo", "hifo", "average", "uk"]


def lenient(method):
    return TaxSettings(method=method, jurisdiction="uk" if method == "uk" else "us", missing_basis="zero")


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="missing_basis"):
        TaxSettings(missing_basis="guess")


@pytest.mark.parametrize("method", METHODS)
def test_default_mode_still_raises(method):
    settings = TaxSettings(method=method, jurisdiction="uk" if method == "uk" else "us")
    with pytest.raises(InsufficientHoldings):
        compute([sell("s", "2024-05-02", "DOGE", "2", "10")], settings)


@pytest.mark.parametrize("method", METHODS)
def test_part_held_part_uncovered_sale_costs_only_what_was_recorded(method):
    # bought 1 ETH for 1000, sold 1.5 ETH for 3000: 0.5 ETH uncovered at zero cost.
    # proceeds 3000, cost 1000, gain 2000.
    ledger = [buy("b1", "2024-05-02", "ETH", "1", "1000"), sell("s7", "2024-06-03", "ETH", "1.5", "3000")]
    report = compute(ledger, lenient(method), tax_year="2024/25" if method == "uk" else 2024)
    label = report.tax_years[0]
    totals = report.year(label)
    assert (totals.proceeds, totals.cost_basis, totals.gain) == (D("3000"), D("1000"), D("2000"))
    assert sum(d.quantity for d in report.disposals) == D("1.5")
    assert report.missing_basis == (
        MissingBasis("s7", "ETH", D("0.5"), D("1"), at("2024-06-03"), label, ""),
    )


@pytest.mark.parametrize("method", ["fifo", "lifo", "hifo", "average"])
def test_the_uncovered_part_is_short_term(method):
    # held 1 ETH since 2020 (long), sells 3: the 2 uncovered ETH count as acquired on the sale day.
    ledger = [buy("b", "2020-01-02", "ETH", "1", "100"), sell("s", "2024-06-03", "ETH", "3", "9000")]
    totals = compute(ledger, lenient(method), tax_year=2024).year(2024)
    # proceeds shared by quantity: long 1/3 of 9000 = 3000 - 100; short 6000 - 0
    assert (totals.gain_long, totals.gain_short) == (D("2900"), D("6000"))


@pytest.mark.parametrize("method", METHODS)
def test_a_pool_deposit_of_coins_never_bought_completes(method):
    # The case: 1 WETH + 2500 USDC into a pool, never bought; later withdrawn and sold.
    deposit = tx("16", "2024-05-02", "lp_deposit", leg("WETH", "-1", "2500"), leg("USDC", "-2500", "2500"),
                 leg("LP#3", "1", "5000"), position="3")
    withdraw = tx("17", "2024-08-01", "lp_withdraw", leg("LP#3", "-1", "5200"), leg("WETH", "1", "2600"),
                  leg("USDC", "2600", "2600"), position="3")
    sale = sell("18", "2024-09-01", "WETH", "1", "2700")
    report = compute([deposit, withdraw, sale], lenient(method))
    assert [(m.tx_ref, m.asset, m.quantity, m.held) for m in report.missing_basis] == [
        ("16", "WETH", D("1"), D("0")),
        ("16", "USDC", D("2500"), D("0")),
    ]
    assert all(m.detail == "moving it into lp_deposit" for m in report.missing_basis)
    # zero basis went into the LP token and came back out as zero-cost WETH: the sale is all gain
    assert sum(d.cost_basis for d in report.disposals) == D("0")
    assert sum(d.gain for d in report.disposals) == D("2700")


@pytest.mark.parametrize("method", METHODS)
def test_a_transfer_out_of_unrecorded_coins_is_not_listed_but_its_sale_is(method):
    ledger = [
        tx("t1", "2024-05-02", "transfer_out", leg("SOL", "-3")),
        tx("t2", "2024-05-03", "transfer_in", leg("SOL", "3")),
        sell("s", "2024-05-04", "SOL", "3", "450"),
    ]
    report = compute(ledger, lenient(method))
    assert [(m.tx_ref, m.quantity) for m in report.missing_basis] == [("s", D("3"))]


def test_missing_basis_until_keeps_earlier_years_and_drops_later_ones():
    ledger = [sell("a", "2023-03-01", "ETH", "1", "10"), sell("b", "2024-03-01", "ETH", "1", "10"),
              sell("c", "2025-03-01", "ETH", "1", "10")]
    report = compute(ledger, lenient("fifo"))
    assert [m.tx_ref for m in report.missing_basis_until(2024)] == ["a", "b"]
