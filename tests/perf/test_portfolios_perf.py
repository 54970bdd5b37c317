# ruff: noqa: F811 - the portfolios fixtures are imported by name and used as arguments
"""Portfolio reads and the nightly revaluation stay fast and flat as data grows.

Time bounds are generous (shared CI machines); the benchmark
(benchmarks/bench_portfolios_revalue.py) measures the real numbers.
"""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolios.models import Portfolio
from portfolios.selectors import portfolio_summary
from portfolios.services.valuation import portfolio_revalue, portfolio_snapshots_write
from tests.portfolios.conftest import (  # noqa: F401 - fixtures used here
    DEPOSIT_AT,
    amm_pool,
    chain,
    crv,
    eth,
    portfolio,
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


def test_a_500_position_dashboard_summary_takes_under_3_seconds(portfolio, pools, eth, usdc, crv, prices):
    add_positions(portfolio, pools, eth, usdc, crv, 500)
    portfolio_summary(portfolio=portfolio)  # warm caches (content types, prepared lookups)
    start = time.perf_counter()
    summary = portfolio_summary(portfolio=portfolio)
    assert time.perf_counter() - start < 3
    assert len(summary.positions) == 500


def test_revaluing_a_chunk_of_200_portfolios_is_one_batch_of_reads(owner, pools, eth, usdc, crv, prices):
    portfolios = [PortfolioFactory(owner=owner) for _ in range(200)]
    for p in portfolios:
        add_positions(p, pools, eth, usdc, crv, 5)
    ids = [p.pk for p in portfolios]
    with CaptureQueriesContext(connection) as ctx:
        start = time.perf_counter()
        assert portfolio_revalue(portfolio_ids=ids) == 200
        elapsed = time.perf_counter() - start
    assert len(ctx.captured_queries) <= 12  # the reads, then one pipelined UPDATE per row is one round
    assert elapsed < 15
    assert Portfolio.objects.filter(valued_at__isnull=False).count() == 200
    with CaptureQueriesContext(connection) as ctx:
        assert portfolio_snapshots_write(day=DEPOSIT_AT.date() + timedelta(days=60), portfolio_ids=ids) == 200
    assert len(ctx.captured_queries) <= 12
