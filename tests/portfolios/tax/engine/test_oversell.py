"""Disposing of more than is held is an error naming the transaction, the
asset and the shortfall - never a silent zero-cost lot."""

import pytest

from portfolios.tax.engine import InsufficientHoldings, TaxSettings, compute

from .builders import D, buy, fee, leg, sell, tx

METHODS = ["fifo", "lifo", "hifo", "average", "uk"]


def settings_for(method):
    return TaxSettings(method=method, jurisdiction="uk" if method == "uk" else "us")


@pytest.mark.parametrize("method", METHODS)
def test_selling_more_than_is_held_names_the_transaction_the_asset_and_the_shortfall(method):
    ledger = [buy("b1", "2024-01-02", "ETH", "1", "1000"), sell("sell-7", "2024-02-02", "ETH", "1.5", "3000")]
    with pytest.raises(InsufficientHoldings) as caught:
        compute(ledger, settings_for(method))
    error = caught.value
    assert (error.ref, error.asset, error.requested, error.available, error.shortfall) == (
        "sell-7",
        "ETH",
        D("1.5"),
        D("1"),
        D("0.5"),
    )
    assert str(error) == ("transaction sell-7: cannot dispose of 1.5 ETH: only 1 held, shortfall 0.5 ETH")


@pytest.mark.parametrize("method", METHODS)
def test_selling_something_never_held_is_an_error_too(method):
    with pytest.raises(
        InsufficientHoldings, match=r"transaction s: cannot dispose of 2 DOGE: only 0 held, shortfall 2 DOGE"
    ):
        compute([sell("s", "2024-02-02", "DOGE", "2", "1")], settings_for(method))


def test_a_sale_before_the_purchase_that_would_cover_it_is_an_oversell():
    ledger = [sell("early", "2024-01-01", "ETH", "1", "2000"), buy("late", "2024-01-02", "ETH", "1", "1000")]
    with pytest.raises(InsufficientHoldings, match="early"):
        compute(ledger)


def test_a_token_fee_that_takes_the_balance_below_zero_is_an_oversell():
    ledger = [
        buy("b", "2024-01-02", "ETH", "1", "1000"),
        sell("s", "2024-02-02", "ETH", "1", "2000", fee("ETH", "0.01", "20")),
    ]
    with pytest.raises(InsufficientHoldings, match=r"shortfall 0.01 ETH"):
        compute(ledger)


def test_moving_more_into_a_position_or_transferring_more_than_is_held_is_refused():
    with pytest.raises(InsufficientHoldings, match=r"stake-1.*moving it into stake"):
        compute(
            [
                buy("b", "2024-01-02", "ETH", "1", "1000"),
                tx("stake-1", "2024-02-02", "stake", leg("ETH", "-2"), leg("stETH", "2")),
            ]
        )
    with pytest.raises(InsufficientHoldings, match=r"out-1.*transfer_out"):
        compute(
            [buy("b", "2024-01-02", "ETH", "1", "1000"), tx("out-1", "2024-02-02", "transfer_out", leg("ETH", "-3"))]
        )
