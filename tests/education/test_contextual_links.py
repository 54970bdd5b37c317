"""Pool and position pages link the Learn articles that apply to them: a
liquid staking pool links stETH vs wstETH, a concentrated position links
loss-versus-rebalancing (issue 17, item 4). The articles are loaded from the
real content folder, so a renamed slug breaks these tests."""

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from django.urls import reverse

from education.services import content_load
from pools.models import Pool
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from tests.pools.factories import PoolFactory

# The portfolio app's fixtures (tokens, prices, a v3 pool), used as they are.
from tests.portfolios.conftest import DEPOSIT_AT, chain, crv, eth, portfolio, prices, usdc, v3_pool  # noqa: F401

pytestmark = pytest.mark.django_db

LVR = 'href="/learn/articles/loss-versus-rebalancing-and-mev/"'
STETH = 'href="/learn/articles/steth-vs-wsteth/"'


@pytest.fixture(autouse=True)
def articles(db):
    content_load()


def pool_page(client, pool) -> str:
    pool.history_backfilled_at = datetime.now(UTC)  # no history fetch from the page
    pool.save()
    return client.get(reverse("pools:detail", args=[pool.pk])).content.decode()


def test_a_liquid_staking_pool_links_the_steth_and_wsteth_article(client):
    html = pool_page(client, PoolFactory(symbol="STETH", kind=Pool.Kind.LIQUID_STAKING, il_risk=False))
    assert STETH in html


def test_an_amm_pool_does_not(client):
    html = pool_page(client, PoolFactory(symbol="WETH-USDC", kind=Pool.Kind.AMM, il_risk=True))
    assert STETH not in html
    assert 'href="/learn/articles/impermanent-loss/"' in html


def test_a_concentrated_position_links_loss_versus_rebalancing(owner_client, portfolio, v3_pool, eth, usdc,  # noqa: F811
                                                               prices):  # noqa: F811
    position = position_open(portfolio=portfolio, pool=v3_pool, kind="concentrated_lp", opened_at=DEPOSIT_AT,
                             range_lower=D("1500"), range_upper=D("4000"),
                             deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))])
    html = owner_client.get(reverse("portfolios:position_detail", args=[position.pk])).content.decode()
    assert LVR in html
    assert "What arbitrage costs a range (LVR)" in html
