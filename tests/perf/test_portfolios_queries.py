# ruff: noqa: F811 - the portfolios fixtures are imported by name and used as arguments
"""The nightly revaluation and snapshots read a chunk of portfolios in a constant number
of queries. Their speed is measured by benchmarks, not here: the revaluation by
``benchmarks/bench_portfolios_revalue.py`` and the 500-position dashboard summary by
``benchmarks/bench_portfolios_dashboard.py`` (its query count is pinned in
tests/portfolios/selectors/test_queries.py).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolios.models import Portfolio
from portfolios.services.valuation import portfolio_revalue, portfolio_snapshots_write
from tests.portfolios.conftest import (  # noqa: F401 - fixtures used here
    DEPOSIT_AT,
    amm_pool,
    chain,
    crv,
    eth,
    prices,
    protocol,
    usdc,
    v3_pool,
)
from tests.portfolios.factories import PoolSnapshotFactory, PortfolioFactory
from tests.portfolios.selectors.test_queries import add_positions

pytestmark = pytest.mark.django_db


@pytest.fixture
def pools(amm_pool, v3_pool):
    for offset in range(120):
        PoolSnapshotFactory(pool=amm_pool, day=DEPOSIT_AT.date() + timedelta(days=offset))
    return [amm_pool]


def test_revaluing_a_chunk_of_200_portfolios_is_one_batch_of_reads(owner, pools, eth, usdc, crv, prices):
    portfolios = [PortfolioFactory(owner=owner) for _ in range(200)]
    for p in portfolios:
        add_positions(p, pools, eth, usdc, crv, 5)
    ids = [p.pk for p in portfolios]
    with CaptureQueriesContext(connection) as ctx:
        assert portfolio_revalue(portfolio_ids=ids) == 200
    assert len(ctx.captured_queries) <= 12  # the reads, then one pipelined UPDATE per row is one round
    assert Portfolio.objects.filter(valued_at__isnull=False).count() == 200
    with CaptureQueriesContext(connection) as ctx:
        assert portfolio_snapshots_write(day=DEPOSIT_AT.date() + timedelta(days=60), portfolio_ids=ids) == 200
    assert len(ctx.captured_queries) <= 12
