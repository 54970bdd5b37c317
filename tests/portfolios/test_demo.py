"""The demo portfolio: real bundled ETH prices, idempotent loading."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pools.models import Pool
from portfolios import demo
from portfolios.models import Portfolio, PortfolioSnapshot
from portfolios.selectors import portfolio_summary
from tests.portfolios.conftest import _pool
from tests.portfolios.factories import ProtocolFactory, TokenFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bundled_pools(chain):
    """The three bundled pools the demo uses, as pools.demo loads them (ids and tokens)."""
    weth = TokenFactory(chain=chain, symbol="WETH", price_symbol="ETH")  # priced on demand from the bundled file
    usdc = TokenFactory(chain=chain, symbol="USDC", price_symbol="USDC", is_stablecoin=True, last_price_usd=Decimal(1))
    usdt = TokenFactory(chain=chain, symbol="USDT", price_symbol="USDT", is_stablecoin=True, last_price_usd=Decimal(1))
    dai = TokenFactory(chain=chain, symbol="DAI", is_stablecoin=True)
    _pool(Pool.Kind.AMM, "USDC-WETH", [usdc, weth], chain, ProtocolFactory(slug="uniswap-v2", name="Uniswap V2"),
          external_id=demo.UNI_V2_USDC_WETH)
    _pool(Pool.Kind.CONCENTRATED, "USDC-WETH", [usdc, weth], chain,
          ProtocolFactory(slug="pancakeswap-amm-v3", name="PancakeSwap AMM V3"), external_id=demo.PANCAKE_V3_USDC_WETH)
    _pool(Pool.Kind.STABLESWAP, "DAI-USDC-USDT", [dai, usdc, usdt], chain,
          ProtocolFactory(slug="curve-dex", name="Curve DEX"), external_id=demo.CURVE_3POOL)
    return weth


def test_the_demo_loads_once_with_an_out_of_range_position(owner, bundled_pools, monkeypatch):
    monkeypatch.setattr(demo, "SNAPSHOTS_FROM", date(2025, 9, 1))  # a month of the daily history is enough here
    with CaptureQueriesContext(connection) as ctx:
        summary_text = demo.load(owner)
    # The daily history is one upsert (it was one per day), after one batch of reads.
    snapshot_writes = [q for q in ctx.captured_queries
                       if q["sql"].startswith('INSERT INTO "portfolios_portfoliosnapshot"')]
    assert len(snapshot_writes) == 1
    assert summary_text.startswith("Demo portfolio: 5 positions, 15 transactions, 30 daily snapshots")
    assert demo.load(owner) == "demo portfolio already loaded"
    portfolio = Portfolio.objects.get(owner=owner)
    assert PortfolioSnapshot.objects.filter(portfolio=portfolio).count() == 30
    bundled_pools.refresh_from_db()
    summary = portfolio_summary(portfolio=portfolio)
    by_name = {a.name: a for a in summary.positions}
    assert set(by_name) == {"Uniswap V2 (closed)", "USDC-WETH", "DAI-USDC-USDT", "ETH staking (solo validator)"}
    ranged = next(a for a in summary.positions if a.kind == "concentrated_lp")
    assert ranged.in_range is False and ranged.range_status == "above"
    closed = by_name["Uniswap V2 (closed)"]
    assert closed.is_open is False and closed.fees_estimated is False and closed.il < 0
    staking = by_name["ETH staking (solo validator)"]
    assert staking.rewards_claimed_at_receipt > 0
    assert {a.model for a in summary.positions} == {"constant_product", "concentrated", "stableswap", "hold"}
    assert summary.holdings[0].asset == "WETH"  # the loose buy


def test_the_demo_is_skipped_without_the_bundled_pools(owner):
    assert demo.load(owner).startswith("skipped: bundled pools not loaded")
    assert not Portfolio.objects.exists()
