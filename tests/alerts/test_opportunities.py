"""Opportunities: ranked by risk-adjusted yield (30-day mean and risk score, never spot
APY), small pools and outliers out by default, other chains flagged as needing a
bridge, the yearly income difference in the user's currency, the risks in words."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.opportunities import opportunities_for_user
from alerts.ranking import income_difference, pool_risks, risk_adjusted_yield
from portfolios.ledger import TxKind
from tests.portfolios.factories import (
    ChainFactory,
    LegFactory,
    PoolFactory,
    PositionFactory,
    ProtocolFactory,
    TokenFactory,
    TransactionFactory,
)

D = Decimal
M5 = D(5_000_000)


def test_risk_adjusted_yield_by_hand():
    assert risk_adjusted_yield(D(10), 40) == D(6)
    assert risk_adjusted_yield(D(8), 10) == D("7.2")
    with pytest.raises(ValueError):
        risk_adjusted_yield(D(8), 101)


def test_income_difference_by_hand():
    # 6,000 moved from an idle wallet (0 %) to an 8 % pool: 480 a year; from 10 % to 8 %: -120.
    assert income_difference(D(6000), D(8), D(0)) == D(480)
    assert income_difference(D(6000), D(8), D(10)) == D(-120)


def test_risks_are_named_in_words_with_learn_articles():
    risks = pool_risks(il_risk=True, apy=D(10), apy_reward=D(6), audit_count=None, protocol="Foo",
                       concentrated=False, bridge_to="Arbitrum")
    slugs = [r.learn_slug for r in risks]
    assert slugs == ["defi-risks", "impermanent-loss", "apr-vs-apy-and-real-yield", "evaluating-a-pool"]
    assert "60 % of today's APY" in risks[2].text
    assert pool_risks(il_risk=False, apy=D(5), apy_reward=D(1), audit_count=3, protocol="Foo",
                      concentrated=False) == []


def _pool(token, *, mean, risk, tvl=M5, chain=None, **extra):
    pool = PoolFactory(chain=chain or token.chain, apy_mean_30d=None if mean is None else D(mean),
                       risk_score=risk, risk_grade="B", tvl_usd=tvl, **extra)
    pool.underlying_links.create(token=token, position=0)
    return pool


@pytest.fixture
def market(eth):
    arbitrum = ChainFactory(slug="arbitrum", name="Arbitrum")
    arb_weth = TokenFactory(chain=arbitrum, symbol="WETH", price_symbol="ETH")
    return {
        "a": _pool(eth, mean="10", risk=40, apy=D(11)),  # adjusted 6
        "b": _pool(eth, mean="8", risk=10, apy=D(2)),  # adjusted 7.2: first, though its spot APY is lowest
        "small": _pool(eth, mean="50", risk=20, tvl=D(100_000)),  # under the TVL floor
        "outlier": _pool(eth, mean="30", risk=20, outlier=True),
        "no_mean": _pool(eth, mean=None, risk=10, apy=D(90)),  # spot APY only: never ranked
        "bridge": _pool(arb_weth, mean="9", risk=10, chain=arbitrum),  # adjusted 8.1, other chain
    }


@pytest.fixture
def holds_two_eth(portfolio, eth):
    txn = TransactionFactory(portfolio=portfolio, kind=TxKind.BUY.value)
    LegFactory(transaction=txn, asset="WETH", token=eth, quantity=D(2), fiat_value=D(6000))
    return txn


@pytest.mark.django_db
def test_pools_taking_a_held_token_are_ranked_by_risk_adjusted_yield(owner, market, holds_two_eth):
    report = opportunities_for_user(user=owner)
    (item,) = report.items
    assert item.holding.symbol == "WETH" and item.holding.value_usd == D(6000)
    names = [(line.pool_id, line.needs_bridge) for line in item.lines]
    assert names == [(market["b"].pk, False), (market["a"].pk, False), (market["bridge"].pk, True)]
    best = item.lines[0]
    assert best.adjusted_yield == D("7.2")
    assert best.income_difference == D("480.00") and report.currency == "USD"  # 6,000 × 8 % from an idle wallet
    assert any("Impermanent loss" in r.text for r in best.risks)
    assert any("Audits unknown" in r.text for r in best.risks)
    assert any("bridge to Arbitrum" in r.text for r in item.lines[2].risks)


@pytest.mark.django_db
def test_show_all_brings_back_small_pools_and_outliers(owner, market, holds_two_eth):
    ids = {line.pool_id for line in opportunities_for_user(user=owner, show_all=True).items[0].lines}
    assert {market["small"].pk, market["outlier"].pk} <= ids


@pytest.mark.django_db
def test_a_position_is_compared_with_the_pool_it_is_in(owner, portfolio, market, eth, holds_two_eth):
    position = PositionFactory(portfolio=portfolio, pool=market["a"], kind="staking")
    deposit = TransactionFactory(portfolio=portfolio, position=position, kind=TxKind.STAKE.value)
    LegFactory(transaction=deposit, asset="WETH", token=eth, quantity=D(-1), fiat_value=D(3000))
    report = opportunities_for_user(user=owner)
    in_pool = next(i for i in report.items if i.holding.current_pool_id == market["a"].pk)
    wallet = next(i for i in report.items if i.holding.current_pool_id is None)
    assert in_pool.holding.quantity == D(1) and wallet.holding.quantity == D(1)
    assert market["a"].pk not in [line.pool_id for line in in_pool.lines]
    b = next(line for line in in_pool.lines if line.pool_id == market["b"].pk)
    assert b.income_difference == D("-60.00")  # 3,000 × (8 % − 10 %)


@pytest.mark.django_db
def test_another_users_holdings_never_show(stranger, market, holds_two_eth):
    assert opportunities_for_user(user=stranger).items == []


@pytest.mark.django_db
def test_the_report_runs_a_constant_number_of_queries(owner, portfolio, chain):
    def hold(n):
        for i in range(n):
            token = TokenFactory(chain=chain, symbol=f"T{i}X", last_price_usd=D(1))
            _pool(token, mean="5", risk=10, protocol=ProtocolFactory())
            txn = TransactionFactory(portfolio=portfolio, kind=TxKind.BUY.value)
            LegFactory(transaction=txn, asset=f"T{i}X", token=token, quantity=D(10), fiat_value=D(10))

    hold(2)
    with CaptureQueriesContext(connection) as few:
        assert len(opportunities_for_user(user=owner).items) == 2
    hold(20)
    with CaptureQueriesContext(connection) as many:
        assert len(opportunities_for_user(user=owner).items) == 22
    assert len(many.captured_queries) == len(few.captured_queries) <= 6


@pytest.mark.django_db
def test_the_page_says_it_is_not_advice(owner_client, market, holds_two_eth):
    page = owner_client.get("/alerts/opportunities/").content.decode()
    assert "not advice" in page
    assert page.count('data-testid="opportunity"') == 3
    assert "needs a bridge" in page
    assert "/learn/articles/impermanent-loss/" in page
    assert "+480.00 USD" in page


@pytest.mark.django_db
def test_the_api_returns_the_same_report(owner_api, market, holds_two_eth):
    body = owner_api.get("/api/v1/opportunities/").json()
    assert body["currency"] == "USD" and "not advice" in body["note"]
    lines = body["items"][0]["lines"]
    assert lines[0]["pool_id"] == market["b"].pk and lines[0]["income_difference"] == "480.00"
    assert lines[0]["risks"][0]["learn_url"].startswith("/learn/articles/")
