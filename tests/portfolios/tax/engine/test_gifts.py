"""Gifts (issue 12): a transfer categorised as a gift, given or received, with hand-worked figures.

US (and "other"): a gift given is not a disposal; its lots leave by the method, their cost carries
to the recipient. UK: a gift is a disposal at market value (TCGA 1992 s.17); to a spouse or civil
partner at no gain and no loss (s.58). A gift received is an acquisition at the leg's value and is
never matched with the user's own transfers in transit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolios.tax.engine import InvalidTransaction, MissingFiatValue, TaxSettings, TxIn, compute
from portfolios.tax.engine.types import GIVEN, RECEIVED

from .builders import D, at, buy, leg, sell

UK = TaxSettings.uk()


def gift_out(
    ref: str, when: str, asset: str, qty: str, value: str | None, category: str = "gift", wallet: str | None = None
) -> TxIn:
    return TxIn(ref, at(when), "transfer_out", (leg(asset, f"-{qty}", value),), category=category, wallet=wallet)


def gift_in(ref: str, when: str, asset: str, qty: str, value: str | None, category: str = "gift") -> TxIn:
    return TxIn(ref, at(when), "transfer_in", (leg(asset, qty, value),), category=category)


def test_a_category_belongs_to_transfers_only():
    with pytest.raises(InvalidTransaction, match="transfer out or a transfer in"):
        TxIn("x", at("2024-01-01"), "buy", (leg("ETH", "1"), leg("USD", "-1")), category="gift")
    with pytest.raises(InvalidTransaction, match="Unknown category"):
        TxIn("x", at("2024-01-01"), "transfer_out", (leg("ETH", "-1"),), category="donation")


def test_us_fifo_gift_takes_the_oldest_lot_and_is_no_disposal():
    ledger = [
        buy("b1", "2024-01-01", "ETH", "1", "1000"),
        buy("b2", "2024-02-01", "ETH", "1", "2000"),
        gift_out("g", "2024-03-01", "ETH", "1", "2500"),
        sell("s", "2024-04-01", "ETH", "1", "3000"),
    ]
    report = compute(ledger, TaxSettings(method="fifo"))
    # The gift took the 1,000 lot: the sale of the other one gains 3,000 - 2,000 = 1,000 (not 2,000).
    assert [(d.tx_ref, d.cost_basis, d.gain) for d in report.disposals] == [("s", D(2000), D(1000))]
    totals = report.year(2024)
    assert totals.disposal_count == 1 and totals.proceeds == D(3000) and totals.gain == D(1000)
    (g,) = report.gifts
    assert (g.direction, g.category, g.asset, g.quantity) == (GIVEN, "gift", "ETH", D(1))
    assert (g.cost_basis, g.market_value, g.disposal, g.tx_ref) == (D(1000), D(2500), False, "g")
    assert report.in_transit == {}  # a gift is no move between own wallets


def test_us_hifo_gift_takes_the_dearest_lot_and_a_gift_without_a_value_is_listed_unvalued():
    ledger = [
        buy("b1", "2024-01-01", "ETH", "1", "1000"),
        buy("b2", "2024-02-01", "ETH", "1", "2000"),
        gift_out("g", "2024-03-01", "ETH", "1", None, category="gift_spouse"),
    ]
    report = compute(ledger, TaxSettings(method="hifo"))
    assert report.disposals == ()
    (g,) = report.gifts
    assert (g.cost_basis, g.market_value, g.category) == (D(2000), None, "gift_spouse")
    (lot,) = report.lots_at_end_of(2024)
    assert (lot.quantity, lot.cost_basis) == (D(1), D(1000))


def test_uk_gift_is_a_disposal_at_market_value():
    # Pool: 2 ETH for 3,000. A gift of 1 ETH worth 2,500: proceeds 2,500, cost 1,500, gain 1,000.
    ledger = [
        buy("b", "2024-05-01", "ETH", "2", "3000", fiat="GBP"),
        gift_out("g", "2024-06-01", "ETH", "1", "2500"),
    ]
    report = compute(ledger, UK)
    (d,) = report.disposals
    assert (d.proceeds, d.cost_basis, d.gain, d.rule, d.tx_ref) == (D(2500), D(1500), D(1000), "section-104", "g")
    totals = report.year("2024/25")
    assert totals.disposal_count == 1 and totals.proceeds == D(2500) and totals.gain == D(1000)
    (g,) = report.gifts
    assert (g.disposal, g.cost_basis, g.market_value) == (True, D(1500), D(2500))


def test_uk_gift_needs_its_market_value():
    ledger = [buy("b", "2024-05-01", "ETH", "2", "3000", fiat="GBP"), gift_out("g", "2024-06-01", "ETH", "1", None)]
    with pytest.raises(MissingFiatValue, match="TCGA 1992 s.17"):
        compute(ledger, UK)


def test_uk_spouse_gift_is_no_gain_no_loss_and_not_counted():
    ledger = [
        buy("b", "2024-05-01", "ETH", "2", "3000", fiat="GBP"),
        gift_out("g", "2024-06-01", "ETH", "1", "2500", category="gift_spouse"),
    ]
    report = compute(ledger, UK)
    assert report.disposals == ()
    totals = report.year("2024/25")
    assert totals.disposal_count == 0 and totals.proceeds == 0 and totals.gain == 0
    (g,) = report.gifts
    assert (g.disposal, g.cost_basis, g.market_value) == (False, D(1500), D(2500))
    (pool,) = report.lots_at_end_of("2024/25")
    assert (pool.quantity, pool.cost_basis) == (D(1), D(1500))  # the pool's cost reduced by 1,500


def test_uk_spouse_gift_follows_the_same_day_rule():
    # Bought 1 ETH for 4,000 on the day of the gift: the gift is matched with it (same day), not the pool.
    ledger = [
        buy("b1", "2024-05-01", "ETH", "2", "3000", fiat="GBP"),
        buy("b2", "2024-06-01T09:00:00+00:00", "ETH", "1", "4000", fiat="GBP"),
        gift_out("g", "2024-06-01T18:00:00+00:00", "ETH", "1", "4100", category="gift_spouse"),
    ]
    report = compute(ledger, UK)
    assert report.disposals == ()
    assert report.gifts[0].cost_basis == D(4000)
    (pool,) = report.lots_at_end_of("2024/25")
    assert (pool.quantity, pool.cost_basis) == (D(2), D(3000))


def test_uk_spouse_gift_and_a_sale_the_same_day_share_the_matching():
    # Pool 3 ETH for 3,000. Same day: sell 1 for 1,800 and give 1 to a spouse. The day's 2 ETH come from
    # the pool at 1,000 each: the gift takes 1,000 at no gain; the sale gains 800.
    ledger = [
        buy("b", "2024-05-01", "ETH", "3", "3000", fiat="GBP"),
        sell("s", "2024-06-01T10:00:00+00:00", "ETH", "1", "1800", fiat="GBP"),
        gift_out("g", "2024-06-01T11:00:00+00:00", "ETH", "1", "1800", category="gift_spouse"),
    ]
    report = compute(ledger, UK)
    (d,) = report.disposals
    assert (d.quantity, d.proceeds, d.cost_basis, d.gain, d.tx_ref) == (D(1), D(1800), D(1000), D(800), "s")
    assert report.gifts[0].cost_basis == D(1000)
    assert report.year("2024/25").disposal_count == 1


def test_a_gift_received_is_an_acquisition_and_never_claims_a_transfer_in_transit():
    ledger = [
        buy("b", "2024-01-01", "ETH", "1", "1000"),
        TxIn("t", at("2024-02-01"), "transfer_out", (leg("ETH", "-1"),)),  # on its way to another own wallet
        gift_in("g", "2024-02-02", "ETH", "1", "2200"),
        sell("s", "2024-03-01", "ETH", "1", "2500"),
    ]
    report = compute(ledger, TaxSettings(method="fifo"))
    assert report.in_transit == {"ETH": D(1)}  # not matched by the gift
    (d,) = report.disposals
    assert (d.cost_basis, d.gain) == (D(1000), D(1500))  # FIFO: the first lot, still held
    (g,) = report.gifts
    assert (g.direction, g.cost_basis, g.market_value) == (RECEIVED, D(2200), D(2200))
    lots = report.lots_at_end_of(2024)
    assert [(lot.quantity, lot.cost_basis) for lot in lots] == [(D(1), D(2200))]


def test_a_gift_received_needs_a_value_and_is_a_uk_pool_acquisition():
    with pytest.raises(MissingFiatValue, match="gift received"):
        compute([gift_in("g", "2024-02-02", "ETH", "1", None)], TaxSettings())
    report = compute([gift_in("g", "2024-05-02", "ETH", "2", "5000", category="gift_spouse")], UK)
    (pool,) = report.lots_at_end_of("2024/25")
    assert (pool.quantity, pool.cost_basis) == (D(2), D(5000))
    assert report.gifts[0].direction == RECEIVED


def test_a_gift_from_a_wallet_takes_that_wallet_s_lots():
    settings_ = TaxSettings(method="fifo", lots_per_wallet_from=date(2024, 1, 1))
    ledger = [
        TxIn("b1", at("2024-01-02"), "buy", (leg("USD", "-1000"), leg("ETH", "1")), wallet="0xa"),
        TxIn("b2", at("2024-01-03"), "buy", (leg("USD", "-2000"), leg("ETH", "1")), wallet="0xb"),
        gift_out("g", "2024-02-01", "ETH", "1", "2500", wallet="0xb"),
        TxIn("s", at("2024-03-01"), "sell", (leg("ETH", "-1"), leg("USD", "3000")), wallet="0xa"),
    ]
    report = compute(ledger, settings_)
    assert report.gifts[0].cost_basis == D(2000)  # wallet 0xb's lot, though FIFO overall would be 1,000
    assert [(d.cost_basis, d.gain) for d in report.disposals] == [(D(1000), D(2000))]
    assert report.lots_at_end_of(2024) == ()


def test_a_gift_from_a_wallet_holding_too_little_is_an_oversell_there():
    from portfolios.tax.engine import InsufficientHoldings

    settings_ = TaxSettings(method="fifo", lots_per_wallet_from=date(2024, 1, 1))
    ledger = [
        TxIn("b1", at("2024-01-02"), "buy", (leg("USD", "-1000"), leg("ETH", "1")), wallet="0xa"),
        gift_out("g", "2024-02-01", "ETH", "1", "2500", wallet="0xb"),
    ]
    with pytest.raises(InsufficientHoldings):
        compute(ledger, settings_)


def test_without_a_category_a_transfer_is_unchanged():
    ledger = [
        buy("b", "2024-01-01", "ETH", "1", "1000"),
        TxIn("t", at("2024-02-01"), "transfer_out", (leg("ETH", "-1", "2000"),)),
    ]
    report = compute(ledger, TaxSettings())
    assert report.gifts == () and report.disposals == () and report.in_transit == {"ETH": D(1)}


@settings(max_examples=60, deadline=None)
@given(
    costs=st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=6),
    method=st.sampled_from(["fifo", "lifo", "hifo", "average"]),
    data=st.data(),
)
def test_property_a_us_gift_removes_exactly_its_basis_from_the_lots(costs, method, data):
    """After a gift, the remaining lots' total cost is the cost before, less the gift's basis."""
    ledger = [buy(f"b{i}", f"2024-01-{i + 1:02d}", "ETH", "1", str(c)) for i, c in enumerate(costs)]
    quantity = data.draw(st.integers(min_value=1, max_value=len(costs)))
    before = compute(ledger, TaxSettings(method=method))
    after = compute([*ledger, gift_out("g", "2024-02-01", "ETH", str(quantity), "1")], TaxSettings(method=method))
    total_before = sum((lot.cost_basis for lot in before.lots_at_end_of(2024)), Decimal(0))
    total_after = sum((lot.cost_basis for lot in after.lots_at_end_of(2024)), Decimal(0))
    (g,) = after.gifts
    if method == "average":
        # One pool: the gift takes quantity x (total / held), a division the 50-digit context
        # rounds, so the remainder may differ from before - basis in the last digit.
        assert abs(total_after - (total_before - g.cost_basis)) <= Decimal("1e-40")
    else:
        assert total_after == total_before - g.cost_basis  # whole lots leave: exact
    assert sum((lot.quantity for lot in after.lots_at_end_of(2024)), Decimal(0)) == len(costs) - quantity
    assert after.disposals == ()
