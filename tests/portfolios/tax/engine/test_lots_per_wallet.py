"""Lots tracked wallet by wallet from a cut-over date (US rules from 2025-01-01),
worked by hand; without the setting nothing changes."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolios.tax.engine import InsufficientHoldings, TaxSettings, compute
from tests.portfolios.tax.engine.builders import buy, leg, sell, tx

D = Decimal
CUTOVER = date(2025, 1, 1)
PER_WALLET = TaxSettings(method="fifo", lots_per_wallet_from=CUTOVER)
UNIVERSAL = TaxSettings(method="fifo")


def w(t, wallet):
    return replace(t, wallet=wallet)


def ledger_two_wallets():
    return [
        w(buy("a1", "2024-01-10", "ETH", "1", "100"), "0xa"),
        w(buy("b1", "2024-06-10", "ETH", "1", "200"), "0xb"),
        w(sell("b2", "2025-03-01", "ETH", "1", "300"), "0xb"),
    ]


def test_without_the_setting_one_pool_serves_every_wallet():
    (d,) = compute(ledger_two_wallets(), UNIVERSAL).disposals
    assert (d.cost_basis, d.gain, d.acquired) == (D(100), D(200), date(2024, 1, 10))  # FIFO across wallets


def test_from_the_cut_over_a_wallet_sells_its_own_lots():
    (d,) = compute(ledger_two_wallets(), PER_WALLET).disposals
    # At the cut-over 0xa holds 1 ETH and takes the oldest lot (100); 0xb holds 1 and takes the next (200).
    assert (d.cost_basis, d.gain, d.acquired) == (D(200), D(100), date(2024, 6, 10))


def test_before_the_cut_over_nothing_changes():
    ledger = [
        w(buy("a1", "2024-01-10", "ETH", "1", "100"), "0xa"),
        w(buy("b1", "2024-06-10", "ETH", "1", "200"), "0xb"),
        w(sell("b2", "2024-09-01", "ETH", "1", "300"), "0xb"),
    ]
    assert compute(ledger, PER_WALLET).disposals == compute(ledger, UNIVERSAL).disposals


def test_a_wallet_cannot_sell_what_only_another_wallet_holds():
    ledger = [
        w(buy("a1", "2025-02-01", "ETH", "2", "200"), "0xa"),
        w(sell("b1", "2025-03-01", "ETH", "1", "150"), "0xb"),
    ]
    assert len(compute(ledger, UNIVERSAL).disposals) == 1
    with pytest.raises(InsufficientHoldings) as exc:
        compute(ledger, PER_WALLET)
    assert exc.value.asset == "ETH"


def test_a_move_between_own_wallets_is_no_disposal_and_carries_cost_and_date():
    ledger = [
        w(buy("a1", "2025-02-01", "ETH", "1", "100"), "0xa"),
        w(buy("b0", "2025-02-02", "ETH", "1", "500"), "0xb"),
        w(tx("a2", "2025-03-01", "transfer_out", leg("ETH", "-1")), "0xa"),
        w(tx("b2", "2025-03-01T13:00:00+00:00", "transfer_in", leg("ETH", "1")), "0xb"),
        w(sell("b3", "2025-04-01", "ETH", "1", "150"), "0xb"),
    ]
    report = compute(ledger, PER_WALLET)
    (d,) = report.disposals
    # 0xb's FIFO: its own lot of 2025-02-02 (500) first: the moved lot (100, 2025-02-01) joined after it.
    assert (d.cost_basis, d.acquired, d.tx_ref) == (D(500), date(2025, 2, 2), "b3")
    ledger.append(w(sell("b4", "2025-05-01", "ETH", "1", "150"), "0xb"))
    second = compute(ledger, PER_WALLET).disposals[1]
    assert (second.cost_basis, second.gain, second.acquired) == (D(100), D(50), date(2025, 2, 1))
    # And the sender has nothing left.
    ledger.append(w(sell("a3", "2025-06-01", "ETH", "1", "150"), "0xa"))
    with pytest.raises(InsufficientHoldings):
        compute(ledger, PER_WALLET)


def test_uk_pooling_refuses_the_setting():
    with pytest.raises(ValueError, match="UK pooling"):
        TaxSettings.uk(lots_per_wallet_from=CUTOVER)


trades = st.lists(
    st.tuples(st.sampled_from(["0xa", "0xb"]), st.booleans(), st.integers(1, 5), st.integers(1, 400),
              st.integers(0, 700)),
    min_size=1, max_size=25,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(trades)
def test_per_wallet_lots_conserve_cost_and_never_invent_holdings(rows):
    """Random buys and (affordable, per wallet) sells over the cut-over: every disposal's
    cost comes from that wallet's lots, and cost in = cost disposed + cost still held."""
    ledger, held, bought = [], {"0xa": 0, "0xb": 0}, D(0)
    for i, (wallet, is_buy, qty, price, day) in enumerate(rows):
        when = date(2024, 6, 1).fromordinal(date(2024, 6, 1).toordinal() + day).isoformat()
        if is_buy or held[wallet] < qty:
            ledger.append(w(buy(f"t{i}", when, "ETH", str(qty), str(qty * price)), wallet))
            held[wallet] += qty
            bought += qty * price
        else:
            ledger.append(w(sell(f"t{i}", when, "ETH", str(qty), "1"), wallet))
            held[wallet] -= qty
    ledger.sort(key=lambda t: t.occurred_at)
    # Re-check affordability in time order (the list was built in draw order); skip ledgers that oversell.
    balance = {"0xa": 0, "0xb": 0}
    for t in ledger:
        balance[t.wallet] += int(sum(leg_.quantity for leg_ in t.legs if leg_.asset == "ETH"))
        if balance[t.wallet] < 0:
            return
    report = compute(ledger, PER_WALLET)
    disposed = sum((d.cost_basis for d in report.disposals), D(0))
    sold = sum(-leg_.quantity for t in ledger if t.kind == "sell" for leg_ in t.legs if leg_.asset == "ETH")
    assert sum((d.quantity for d in report.disposals), D(0)) == sold
    last_year = max(report.lots_at_year_end)
    still_held = sum((lot.cost_basis for lot in report.lots_at_year_end[last_year]), D(0))
    assert disposed + still_held == bought  # no cost lost or invented by the allocation and moves
    assert sum((lot.quantity for lot in report.lots_at_year_end[last_year]), D(0)) == sum(balance.values())
