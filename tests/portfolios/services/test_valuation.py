"""A run of daily snapshots written at once: the same rows as one day at a time, one upsert."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolios.models import PortfolioSnapshot
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_claim_rewards, position_open, position_remove_liquidity
from portfolios.services.transactions import transaction_record
from portfolios.services.valuation import portfolio_snapshots_backfill, portfolio_snapshots_write
from tests.portfolios.conftest import DEPOSIT_AT, at
from tests.portfolios.factories import PoolSnapshotFactory, PortfolioFactory

pytestmark = pytest.mark.django_db
D = Decimal
FIRST, LAST = date(2025, 5, 25), date(2025, 10, 5)  # from before the first transaction to after the last price


@pytest.fixture
def portfolios(owner, amm_pool, v3_pool, eth, usdc, crv, prices):
    """Two portfolios with a bit of everything that changes from day to day: positions
    opening, a range, reward claims, a partial withdrawal, a loose buy, pool APY history."""
    for offset in range(0, 120, 3):
        PoolSnapshotFactory(
            pool=amm_pool,
            day=DEPOSIT_AT.date() + timedelta(days=offset),
            apy_base=D(8 + offset % 5),
            apy_reward=D(1),
            apy=D(9 + offset % 5),
        )
    main, other = PortfolioFactory(owner=owner, name="Main"), PortfolioFactory(owner=owner, name="Other")
    lp = position_open(
        portfolio=main,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    position_claim_rewards(
        position=lp, token=crv, quantity=D("40"), income_type="liquidity_mining", occurred_at=at("2025-07-01")
    )
    position_remove_liquidity(
        position=lp,
        occurred_at=at("2025-09-01T12:00:00"),
        withdrawals=[LegInput(token=eth, quantity=D("0.3")), LegInput(token=usdc, quantity=D("900"))],
    )
    position_open(
        portfolio=main,
        pool=v3_pool,
        kind="concentrated_lp",
        opened_at=at("2025-06-20T08:00:00"),
        range_lower=D("1500"),
        range_upper=D("2500"),
        deposits=[
            LegInput(token=eth, quantity=D("1"), fiat_value=D("2000")),
            LegInput(token=usdc, quantity=D("2000"), fiat_value=D("2000")),
        ],
    )
    transaction_record(
        portfolio=other,
        kind="buy",
        occurred_at=at("2025-08-15"),
        legs=[LegInput(asset="USD", quantity=D("-2500")), LegInput(token=eth, quantity=D("1"))],
    )
    return [main, other]


def _rows():
    return list(
        PortfolioSnapshot.objects.order_by("portfolio_id", "day").values_list(
            "portfolio_id", "day", "value", "deposited", "pnl", "income_ytd"
        )
    )


def test_a_backfill_writes_exactly_the_rows_of_one_day_at_a_time(portfolios):
    ids = [p.pk for p in portfolios]
    day = FIRST
    while day <= LAST:
        portfolio_snapshots_write(day=day, portfolio_ids=ids)
        day += timedelta(days=1)
    one_by_one = _rows()
    PortfolioSnapshot.objects.all().delete()
    assert portfolio_snapshots_backfill(first=FIRST, last=LAST, portfolio_ids=ids) == 2 * 134
    assert _rows() == one_by_one
    assert len({r[2] for r in one_by_one}) > 100  # the values do move from day to day


def test_a_backfill_is_one_batch_of_reads_and_one_upsert(portfolios):
    ids = [p.pk for p in portfolios]
    with CaptureQueriesContext(connection) as ctx:
        portfolio_snapshots_backfill(first=FIRST, last=LAST, portfolio_ids=ids)
    inserts = [q for q in ctx.captured_queries if q["sql"].startswith('INSERT INTO "portfolios_portfoliosnapshot"')]
    assert len(inserts) == 1
    # portfolios, the six reads of the data, prices at the first close, the later prices,
    # prices at transactions, pool yields, the upsert (it was ~12 a day: 1,600 here).
    assert len(ctx.captured_queries) <= 13
    before = _rows()
    portfolio_snapshots_backfill(first=FIRST, last=LAST, portfolio_ids=ids)  # a rerun changes nothing
    assert _rows() == before


def test_an_empty_period_writes_nothing(portfolios):
    assert portfolio_snapshots_backfill(first=LAST, last=FIRST) == 0
    assert not PortfolioSnapshot.objects.exists()
