"""Fees: fiat fees adjust cost (acquisitions) or proceeds (disposals); a fee
paid in a token is also a disposal of that token at its fiat value."""

from portfolios.tax.engine import compute

from .builders import D, buy, fee, leg, sell, tx


def rows(report):
    return [(d.tx_ref, d.asset, d.quantity, d.proceeds, d.cost_basis, d.gain, d.fee) for d in report.disposals]


def test_a_fiat_fee_on_a_buy_is_added_to_the_cost_and_on_a_sell_is_taken_off_the_proceeds():
    ledger = [
        buy("b", "2024-01-02", "ETH", "1", "1000", fee("USD", "10")),
        sell("s", "2024-02-02", "ETH", "1", "1500", fee("USD", "15")),
    ]
    report = compute(ledger)
    assert rows(report) == [("s", "ETH", D("1"), D("1485"), D("1010"), D("475"), D("15"))]
    totals = report.year(2024)
    assert (totals.proceeds, totals.cost_basis, totals.gain, totals.disposal_fees) == (
        D("1485"),
        D("1010"),
        D("475"),
        D("15"),
    )


def test_gas_paid_in_the_token_being_sold_is_a_second_disposal_and_reduces_the_sale_proceeds():
    # 2 ETH at 1,000 each; sell 1 ETH for 2,000 paying 0.01 ETH (20 USD) gas.
    # sale: proceeds 2,000 - 20 = 1,980, cost 1,000 -> 980
    # gas:  proceeds 20, cost 0.01 x 1,000 = 10   -> 10
    ledger = [
        buy("b", "2024-01-02", "ETH", "2", "2000"),
        sell("s", "2024-02-02", "ETH", "1", "2000", fee("ETH", "0.01", "20")),
    ]
    report = compute(ledger)
    assert rows(report) == [
        ("s", "ETH", D("1"), D("1980"), D("1000"), D("980"), D("20")),
        ("s", "ETH", D("0.01"), D("20"), D("10"), D("10"), D("0")),
    ]
    assert report.year(2024).gain == D("990")  # = 2,000 - cost of the 1.01 ETH that left
    (left,) = report.lots_at_end_of(2024)
    assert (left.quantity, left.cost_basis) == (D("0.99"), D("990"))


def test_a_swap_is_priced_at_what_comes_in_and_its_token_fee_reduces_the_disposal():
    # 2 ETH at 1,000. Swap 1 ETH (quoted 3,000) for 2,990 USDC (worth 2,990), gas 0.005 ETH = 15 USD.
    ledger = [
        buy("b", "2024-01-02", "ETH", "2", "2000"),
        tx(
            "sw", "2024-02-02", "swap", leg("ETH", "-1", "3000"), leg("USDC", "2990", "2990"), fee("ETH", "0.005", "15")
        ),
    ]
    report = compute(ledger)
    assert rows(report) == [
        ("sw", "ETH", D("1"), D("2975"), D("1000"), D("1975"), D("15")),
        ("sw", "ETH", D("0.005"), D("15"), D("5"), D("10"), D("0")),
    ]
    usdc = [lot for lot in report.lots_at_end_of(2024) if lot.asset == "USDC"]
    assert [(lot.quantity, lot.cost_basis) for lot in usdc] == [(D("2990"), D("2990"))]


def test_a_swap_whose_incoming_side_has_no_value_is_priced_at_what_goes_out():
    ledger = [
        buy("b", "2024-01-02", "ETH", "1", "1000"),
        tx("sw", "2024-02-02", "swap", leg("ETH", "-1", "3000"), leg("OBSCURE", "500")),
    ]
    report = compute(ledger)
    assert rows(report) == [("sw", "ETH", D("1"), D("3000"), D("1000"), D("2000"), D("0"))]
    assert report.lots_at_end_of(2024)[-1].cost_basis == D("3000")


def test_a_buy_paying_its_fee_in_another_token_capitalises_the_fee_and_disposes_of_that_token():
    ledger = [
        buy("bnb", "2024-01-02", "BNB", "1", "200"),
        buy("eth", "2024-02-02", "ETH", "1", "1000", fee("BNB", "0.01", "3")),
    ]
    report = compute(ledger)
    assert rows(report) == [("eth", "BNB", D("0.01"), D("3"), D("2"), D("1"), D("0"))]
    eth = [lot for lot in report.lots_at_end_of(2024) if lot.asset == "ETH"]
    assert eth[0].cost_basis == D("1003")


def test_a_gas_only_fee_transaction_disposes_of_the_gas_and_the_fee_is_not_deductible():
    ledger = [
        buy("b", "2024-01-02", "ETH", "1", "1000"),
        tx("approve", "2024-02-02", "fee", leg("ETH", "-0.01", "25")),
    ]
    report = compute(ledger)
    assert rows(report) == [("approve", "ETH", D("0.01"), D("25"), D("10"), D("15"), D("0"))]
    assert report.year(2024).fees_unallocated == D("25")


def test_a_fiat_fee_on_a_transfer_is_reported_as_unallocated():
    ledger = [
        buy("b", "2024-01-02", "ETH", "1", "1000"),
        tx("out", "2024-02-02", "transfer_out", leg("ETH", "-1"), fee("USD", "2")),
        tx("in", "2024-02-02T13:00:00+00:00", "transfer_in", leg("ETH", "1")),
    ]
    report = compute(ledger)
    assert report.disposals == ()
    assert report.year(2024).fees_unallocated == D("2")


def test_a_token_fee_without_a_fiat_value_is_refused():
    import pytest

    from portfolios.tax.engine import MissingFiatValue

    ledger = [
        buy("b", "2024-01-02", "ETH", "1", "1000"),
        sell("s", "2024-02-02", "ETH", "0.5", "900", fee("ETH", "0.01")),
    ]
    with pytest.raises(MissingFiatValue, match="transaction s: the ETH leg needs a fiat_value"):
        compute(ledger)
