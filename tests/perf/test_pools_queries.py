"""The pool lists and pages run a fixed number of queries, whatever the row count."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from pools.models import Pool, PoolUnderlyingToken
from tests.conftest import clear_cache
from tests.pools.factories import (
    ChainFactory,
    PoolFactory,
    PoolSnapshotFactory,
    ProtocolFactory,
    RefreshRunFactory,
    TokenFactory,
)

pytestmark = pytest.mark.django_db

PAGES = {
    "explorer": lambda: reverse("pools:explorer") + "?ordering=apy&chain=ethereum&stablecoin=&token=usdc",
    "api list": lambda: "/api/v1/pools/?ordering=risk&chain=ethereum&token=usdc",
}


def _pools(n: int) -> None:
    chain, protocol = ChainFactory(), ProtocolFactory()
    for _ in range(n):
        pool = PoolFactory.create(chain=chain, protocol=protocol, symbol="USDC-WETH", risk_score=40, risk_grade="C")
        PoolUnderlyingToken.objects.create(pool=pool, token=TokenFactory.create(chain=chain), position=0)


def _queries(client, url: str) -> int:
    clear_cache()  # the API list is cached for a minute
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# Cold: nothing cached yet (menus, kind counts, freshness, the count); warm: what is cached
# until the data changes is not asked again, so a page is the chain lookup and the rows.
BUDGET = {"explorer": {"cold": 7, "warm": 2}, "api list": {"cold": 3, "warm": 2}}


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("rows", [1, 60])
def test_the_list_stays_within_its_query_budget(client, django_assert_max_num_queries, page, rows):
    _pools(rows)
    RefreshRunFactory()
    with django_assert_max_num_queries(BUDGET[page]["cold"]):
        assert client.get(PAGES[page]()).status_code == 200
    with django_assert_max_num_queries(BUDGET[page]["warm"]):
        assert client.get(PAGES[page]() + "&_uncached=1").status_code == 200  # past the API's page cache


@pytest.mark.parametrize("page", list(PAGES))
def test_the_query_count_is_the_same_for_1_and_60_pools(client, page):
    RefreshRunFactory()
    _pools(1)
    one = _queries(client, PAGES[page]())
    _pools(59)
    assert Pool.objects.count() == 60
    assert _queries(client, PAGES[page]()) == one


def test_a_pool_page_with_a_year_of_history_is_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    pool = PoolFactory(history_backfilled_at="2025-10-06T00:00:00Z")
    start = date(2024, 10, 6)
    for i in range(365):
        PoolSnapshotFactory(pool=pool, day=start + timedelta(days=i), apy=Decimal(i % 17))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("pools:detail", args=[pool.pk]))
    assert response.status_code == 200
