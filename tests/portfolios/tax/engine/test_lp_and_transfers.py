"""LP deposits/withdrawals and staking under both treatments; own-wallet transfers."""

from datetime import date

import pytest

from portfolios.tax.engine import MissingFiatValue, TaxSettings, compute

from .builders import D, buy, fee, leg, sell, tx

NONTAXABLE = TaxSettings()  # the default
DISPOSAL = TaxSettings(lp_treatment="disposal")


def lots(report, year, asset):
    return [(lot.quantity, lot.cost_basis, lot.acquired) for lot in report.lots_at_end_of(year) if lot.asset == asset]


STAKE = [
    buy("b1", "2023-01-01", "ETH", "1", "1000"),
    buy("b2", "2023-06-01", "ETH", "1", "2000"),
    tx("stake", "2023-07-01", "stake", leg("ETH", "-2", "4000"), leg("stETH", "1.98", "3960")),
]


def test_nontaxable_staking_moves_each_lots_cost_and_date_into_the_receipt_token():
    report = compute(STAKE, NONTAXABLE)
    assert report.disposals == ()
    assert lots(report, 2023, "stETH") == [
        (D("0.99"), D("1000"), date(2023, 1, 1)),
        (D("0.99"), D("2000"), date(2023, 6, 1)),
    ]
    assert lots(report, 2023, "ETH") == []


def test_the_holding_period_carries_over_so_a_later_sale_of_the_receipt_token_can_be_long_term():
    report = compute([*STAKE, sell("s", "2024-02-01", "stETH", "0.99", "2500")], NONTAXABLE)
    (row,) = report.disposals
    assert (row.acquired, row.cost_basis, row.gain, row.term) == (date(2023, 1, 1), D("1000"), D("1500"), "long")


def test_the_disposal_treatment_taxes_the_deposit_at_the_value_received():
    report = compute(STAKE, DISPOSAL)
    assert [(d.asset, d.quantity, d.proceeds, d.cost_basis, d.gain) for d in report.disposals] == [
        ("ETH", D("1"), D("1980"), D("1000"), D("980")),
        ("ETH", D("1"), D("1980"), D("2000"), D("-20")),
    ]
    assert lots(report, 2023, "stETH") == [(D("1.98"), D("3960"), date(2023, 7, 1))]


LP = [
    buy("eth", "2023-01-01", "ETH", "1", "1500"),
    buy("usdc", "2023-01-01", "USDC", "2000", "2000"),
    tx(
        "add",
        "2023-03-01",
        "lp_deposit",
        leg("ETH", "-1", "2000"),
        leg("USDC", "-2000", "2000"),
        leg("UNI-V2", "10", "4000"),
        position="uni-eth-usdc",
    ),
    tx(
        "remove",
        "2023-09-01",
        "lp_withdraw",
        leg("UNI-V2", "-10", "4200"),
        leg("ETH", "1.2", "2400"),
        leg("USDC", "1800", "1800"),
        position="uni-eth-usdc",
    ),
]


def test_a_two_asset_lp_position_carries_the_combined_basis_and_back_out_by_value():
    report = compute(LP[:3], NONTAXABLE)
    assert report.disposals == ()
    assert lots(report, 2023, "UNI-V2") == [(D("10"), D("3500"), date(2023, 3, 1))]
    report = compute(LP, NONTAXABLE)
    # 3,500 of basis shared 2,400 : 1,800 -> 2,000 ETH and 1,500 USDC, new holding period
    assert lots(report, 2023, "ETH") == [(D("1.2"), D("2000"), date(2023, 9, 1))]
    assert lots(report, 2023, "USDC") == [(D("1800"), D("1500"), date(2023, 9, 1))]
    assert report.disposals == ()


def test_a_two_asset_lp_position_under_the_disposal_treatment_realises_gains_both_ways():
    report = compute(LP, DISPOSAL)
    by_tx = {}
    for d in report.disposals:
        by_tx.setdefault(d.tx_ref, []).append((d.asset, d.proceeds, d.cost_basis, d.gain))
    assert by_tx["add"] == [("ETH", D("2000"), D("1500"), D("500")), ("USDC", D("2000"), D("2000"), D("0"))]
    assert by_tx["remove"] == [("UNI-V2", D("4200"), D("4000"), D("200"))]
    assert lots(report, 2023, "ETH") == [(D("1.2"), D("2400"), date(2023, 9, 1))]


def test_gas_for_a_nontaxable_deposit_is_a_disposal_and_is_added_to_the_position_cost():
    ledger = [
        buy("b", "2023-01-01", "ETH", "2", "2000"),
        tx(
            "stake",
            "2023-02-01",
            "stake",
            leg("ETH", "-1", "1500"),
            leg("stETH", "1", "1500"),
            fee("ETH", "0.01", "15"),
        ),
    ]
    report = compute(ledger, NONTAXABLE)
    assert [(d.quantity, d.proceeds, d.cost_basis) for d in report.disposals] == [(D("0.01"), D("15"), D("10"))]
    assert lots(report, 2023, "stETH") == [(D("1"), D("1015"), date(2023, 1, 1))]


FARM = [
    buy("b", "2023-01-05", "CAKE", "100", "200"),
    tx("in", "2023-02-01", "stake", leg("CAKE", "-100", "300"), position="farm-1"),
]


def test_a_one_sided_stake_parks_the_lots_in_a_position_asset_and_the_unstake_brings_them_back():
    report = compute([*FARM, tx("out", "2023-08-01", "unstake", leg("CAKE", "100", "250"), position="farm-1")])
    assert report.disposals == ()
    assert lots(report, 2023, "CAKE") == [(D("100"), D("200"), date(2023, 1, 5))]
    parked = compute(FARM)
    assert lots(parked, 2023, "CAKE@farm-1") == [(D("100"), D("200"), date(2023, 1, 5))]
    assert lots(parked, 2023, "CAKE") == []


def test_more_coming_back_than_went_in_is_an_acquisition_at_its_value_with_a_warning():
    report = compute([*FARM, tx("out", "2023-08-01", "unstake", leg("CAKE", "105", "315"), position="farm-1")])
    assert lots(report, 2023, "CAKE") == [
        (D("100"), D("200"), date(2023, 1, 5)),
        (D("5"), D("15"), date(2023, 8, 1)),
    ]
    assert report.warnings == (
        "transaction out: 5 CAKE returned beyond the 100 held in CAKE@farm-1; "
        "treated as an acquisition at its fiat value",
    )


def test_a_one_sided_stake_under_the_disposal_treatment_disposes_and_reacquires_at_market_value():
    report = compute(
        [*FARM, tx("out", "2023-08-01", "unstake", leg("CAKE", "100", "250"), position="farm-1")], DISPOSAL
    )
    assert [(d.asset, d.proceeds, d.cost_basis, d.gain) for d in report.disposals] == [
        ("CAKE", D("300"), D("200"), D("100")),
        ("CAKE@farm-1", D("250"), D("300"), D("-50")),
    ]
    assert lots(report, 2023, "CAKE") == [(D("100"), D("250"), date(2023, 8, 1))]


# --------------------------------------------------------------------------- transfers


def test_moving_coins_between_own_wallets_is_not_taxable_and_keeps_the_lots():
    ledger = [
        buy("b", "2023-01-01", "ETH", "1", "1000"),
        tx("out", "2023-02-01", "transfer_out", leg("ETH", "-1")),
        tx("in", "2023-02-01T13:00:00+00:00", "transfer_in", leg("ETH", "1")),
        sell("s", "2024-03-01", "ETH", "1", "3000"),
    ]
    report = compute(ledger)
    (row,) = report.disposals
    assert (row.acquired, row.cost_basis, row.term) == (date(2023, 1, 1), D("1000"), "long")
    assert report.in_transit == {}


def test_a_transfer_in_with_no_matching_transfer_out_is_an_acquisition_at_its_stated_value():
    report = compute([tx("in", "2023-02-01", "transfer_in", leg("BTC", "0.5", "12000"))])
    assert lots(report, 2023, "BTC") == [(D("0.5"), D("12000"), date(2023, 2, 1))]
    with pytest.raises(MissingFiatValue, match="transaction in: the BTC leg needs a fiat_value"):
        compute([tx("in", "2023-02-01", "transfer_in", leg("BTC", "0.5"))])


def test_a_partly_matched_transfer_in_acquires_only_the_unmatched_part():
    ledger = [
        buy("b", "2023-01-01", "ETH", "1", "1000"),
        tx("out", "2023-02-01", "transfer_out", leg("ETH", "-1")),
        tx("in", "2023-02-02", "transfer_in", leg("ETH", "1.5", "3000")),
    ]
    report = compute(ledger)
    assert lots(report, 2023, "ETH") == [(D("1"), D("1000"), date(2023, 1, 1)), (D("0.5"), D("1000"), date(2023, 2, 2))]


def test_an_unclaimed_remainder_stays_in_transit_and_is_reported():
    ledger = [
        buy("b", "2023-01-01", "ETH", "1", "1000"),
        tx("out", "2023-02-01", "transfer_out", leg("ETH", "-1")),
        tx("in", "2023-02-02", "transfer_in", leg("ETH", "0.99")),
    ]
    assert compute(ledger).in_transit == {"ETH": D("0.01")}
