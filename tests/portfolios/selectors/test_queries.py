"""Dashboard and list reads run a constant number of queries, whatever the number of positions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolios.models import Leg, Position, PositionAmountOverride, Transaction
from portfolios.selectors import portfolio_summary, user_summary
from tests.portfolios.conftest import DEPOSIT_AT
from tests.portfolios.factories import PoolSnapshotFactory

pytestmark = pytest.mark.django_db
D = Decimal


def add_positions(portfolio, pools, eth, usdc, crv, n):
    """n LP positions (bulk): a deposit and a reward each, on alternating pools; one override."""
    positions = Position.objects.bulk_create(
        [
            Position(
                portfolio=portfolio, pool=pools[i % len(pools)], kind="lp", opened_at=DEPOSIT_AT + timedelta(hours=i)
            )
            for i in range(n)
        ]
    )
    deposits = Transaction.objects.bulk_create(
        [Transaction(portfolio=portfolio, position=p, kind="lp_deposit", occurred_at=p.opened_at) for p in positions]
    )
    rewards = Transaction.objects.bulk_create(
        [
            Transaction(
                portfolio=portfolio,
                position=p,
                kind="reward",
                income_type="liquidity_mining",
                occurred_at=p.opened_at + timedelta(days=10),
            )
            for p in positions
        ]
    )
    legs = []
    for p, dep, rew in zip(positions, deposits, rewards, strict=True):
        legs += [
            Leg(transaction=dep, asset="WETH", token=eth, quantity=D("-1"), fiat_value=D("2000")),
            Leg(transaction=dep, asset="USDC", token=usdc, quantity=D("-2000"), fiat_value=D("2000")),
            Leg(transaction=dep, asset=f"LP#{p.pk}", quantity=D("4000"), fiat_value=D("4000")),
            Leg(transaction=rew, asset="CRV", token=crv, quantity=D("10"), fiat_value=D("6")),
        ]
    Leg.objects.bulk_create(legs)
    PositionAmountOverride.objects.create(position=positions[0], token=eth, quantity=D("1"), as_of=DEPOSIT_AT)
    return positions


@pytest.fixture
def pools(amm_pool, v3_pool, staking_pool):
    for pool in (amm_pool, v3_pool):
        for offset in range(5):
            PoolSnapshotFactory(pool=pool, day=DEPOSIT_AT.date() + timedelta(days=offset))
    return [amm_pool]


def count(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_the_portfolio_summary_reads_the_same_number_of_queries_for_1_and_500_positions(
    portfolio, pools, eth, usdc, crv, prices, django_assert_max_num_queries, owner
):
    add_positions(portfolio, pools, eth, usdc, crv, 1)
    one = count(lambda: portfolio_summary(portfolio=portfolio))
    assert one <= 10
    add_positions(portfolio, pools, eth, usdc, crv, 499)
    with django_assert_max_num_queries(one):
        summary = portfolio_summary(portfolio=portfolio)
    assert len(summary.positions) == 500
    with django_assert_max_num_queries(one + 1):  # + the user's portfolios
        user_summary(user=owner)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/portfolios/{pid}/summary/",
        "/api/v1/positions/?portfolio={pid}&page_size=200",
        "/api/v1/transactions/?portfolio={pid}&page_size=200",
        "/api/v1/portfolios/",
    ],
)
def test_api_reads_do_not_grow_with_the_number_of_positions(
    url, owner_api, portfolio, pools, eth, usdc, crv, prices, django_assert_max_num_queries
):
    url = url.format(pid=portfolio.pk)
    add_positions(portfolio, pools, eth, usdc, crv, 1)
    one = count(lambda: owner_api.get(url))
    add_positions(portfolio, pools, eth, usdc, crv, 499)
    with django_assert_max_num_queries(one):
        assert owner_api.get(url).status_code == 200
