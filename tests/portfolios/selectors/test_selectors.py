"""The small reads of the pages, in the selectors: a position's tokens and amount
overrides, stale held tokens, value history of several portfolios, token by symbol."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portfolios.models import Position, PositionAmountOverride
from portfolios.selectors import (
    portfolios_value_history,
    position_amount_overrides,
    position_tokens,
    stale_tokens,
    token_for_symbol,
)
from portfolios.services.csv_import import csv_import_preview
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_claim_rewards, position_open
from tests.portfolios.conftest import DEPOSIT_AT, at
from tests.portfolios.factories import ChainFactory, PortfolioFactory, PortfolioSnapshotFactory, TokenFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def lp(portfolio, amm_pool, eth, usdc, prices):
    return position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )


def test_a_positions_tokens_are_its_pools_in_pool_order_then_the_others_by_symbol(lp, eth, usdc, crv):
    position_claim_rewards(
        position=lp, token=crv, quantity=D("5"), income_type="liquidity_mining", occurred_at=at("2025-07-01")
    )
    assert position_tokens(position=lp) == [eth, usdc, crv]


def test_a_positions_amount_overrides_by_token(lp, eth):
    assert position_amount_overrides(position=lp) == {}
    PositionAmountOverride.objects.create(position=lp, token=eth, quantity=D("0.9"), as_of=DEPOSIT_AT)
    assert position_amount_overrides(position=lp) == {eth.pk: D("0.9")}


def test_stale_tokens_are_those_held_with_an_old_price_in_one_query(
    lp, portfolio, eth, usdc, django_assert_num_queries
):
    type(usdc).objects.filter(pk=usdc.pk).update(last_price_at=timezone.now())
    with django_assert_num_queries(1):
        assert stale_tokens(portfolios=[portfolio], older_than=timedelta(hours=24)) == [eth]
    Position.objects.filter(pk=lp.pk).update(closed_at=timezone.now())
    assert stale_tokens(portfolios=[portfolio], older_than=timedelta(hours=24)) == []


def test_the_value_history_of_several_portfolios_is_one_query_summed_by_day(owner, django_assert_num_queries):
    portfolios = [PortfolioFactory(owner=owner) for _ in range(3)]
    for i, p in enumerate(portfolios):
        for day in range(i + 1):  # portfolio i has i + 1 days of history
            PortfolioSnapshotFactory(
                portfolio=p, day=date(2025, 9, 1) + timedelta(days=day), value=D(100 * (i + 1)), deposited=D(10)
            )
    PortfolioSnapshotFactory(portfolio=PortfolioFactory(), day=date(2025, 9, 1))  # another user's
    with django_assert_num_queries(1):
        history = portfolios_value_history(portfolios=portfolios)
    assert [(h.day, h.value, h.deposited) for h in history] == [
        (date(2025, 9, 1), D(600), D(30)),
        (date(2025, 9, 2), D(500), D(20)),
        (date(2025, 9, 3), D(300), D(10)),
    ]
    assert portfolios_value_history(portfolios=portfolios, since=date(2025, 9, 3))[0].value == D(300)


def test_a_symbol_finds_its_token_then_the_token_it_is_the_price_symbol_of(eth, usdc):
    assert token_for_symbol(symbol="usdc") == usdc
    assert token_for_symbol(symbol=" ETH ") == eth  # WETH's price symbol
    assert token_for_symbol(symbol="NOPE") is None and token_for_symbol(symbol="") is None


def test_a_symbol_prefers_the_given_chain(eth, usdc):
    base = ChainFactory(slug="base", name="Base")
    on_base = TokenFactory(chain=base, symbol="USDC", is_stablecoin=True)
    assert token_for_symbol(symbol="USDC", chain="base") == on_base
    assert token_for_symbol(symbol="USDC") == usdc  # the most used (in a pool) otherwise


def test_the_csv_import_uses_the_shared_lookup_and_prefers_a_priced_token(portfolio, chain):
    # Two untracked tokens priced as ETH, one never priced: the priced one is meant.
    # (PostgreSQL sorts NULL first in a plain descending order: the old import lookup took the unpriced one.)
    TokenFactory(chain=chain, symbol="ETHX", price_symbol="ETH", last_price_at=None)
    priced = TokenFactory(
        chain=chain, symbol="WETH.E", price_symbol="ETH", last_price_usd=D(3000), last_price_at=at("2025-10-01")
    )
    assert token_for_symbol(symbol="ETH") == priced
    preview = csv_import_preview(
        portfolio=portfolio,
        fmt="native",
        file=(
            b"tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
            b"t1,2025-06-01T12:00:00Z,transfer_in,,ETH,1,2000,false,,\n"
        ),
    )
    assert preview.rows[0].legs[0].token == priced
