"""Celery tasks: revaluation, daily snapshots (idempotent upsert), the beat entry."""

from datetime import date
from decimal import Decimal

import pytest
from django_celery_beat.models import PeriodicTask

from portfolios.models import Portfolio, PortfolioSnapshot
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from portfolios.services.transactions import transaction_record
from portfolios.tasks import revalue_all_portfolios, revalue_portfolio, snapshot_all_portfolios
from tests.portfolios.conftest import DEPOSIT_AT, at
from tests.portfolios.factories import PortfolioFactory

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


def test_the_daily_snapshot_is_seeded_as_a_beat_schedule(db):
    task = PeriodicTask.objects.get(name="snapshot-portfolios")
    assert task.task == "portfolios.tasks.snapshot_all_portfolios"
    assert (task.crontab.minute, task.crontab.hour) == ("15", "0")


def test_revaluing_stores_the_latest_figures_on_the_portfolio(lp, portfolio):
    revalue_portfolio.delay(portfolio_id=portfolio.pk)
    portfolio.refresh_from_db()
    assert portfolio.valued_at is not None
    assert portfolio.deposited == D("4000")
    assert portfolio.value > D("4800")  # 2 x sqrt(3000 x 2000) plus estimated fees
    revalue_all_portfolios.delay()  # the fan-out path (eager here); a rerun gives the same figures
    again = Portfolio.objects.get(pk=portfolio.pk)
    assert (again.deposited, again.pnl is not None) == (D("4000"), True)
    assert abs(again.value - portfolio.value) < D("0.01")  # only the seconds of fee accrual in between


def test_a_snapshot_values_the_portfolio_at_that_days_close(lp, portfolio):
    snapshot_all_portfolios.delay(day="2025-09-01")
    snap = PortfolioSnapshot.objects.get(portfolio=portfolio, day=date(2025, 9, 1))
    # ETH closed at 3000 that day: the model value of the position is 2 x sqrt(2000 x 3000)
    model = 2 * (D(2000) * D(3000)).sqrt()
    assert model < snap.value < model * D("1.03")  # plus ~3 months of fees at 10 %/year
    assert snap.deposited == D("4000")
    earlier = snapshot_all_portfolios.delay(day="2025-06-01")
    assert earlier.get() == 1
    assert PortfolioSnapshot.objects.get(portfolio=portfolio, day=date(2025, 6, 1)).value == pytest.approx(
        D("4000"), abs=D("1")
    )


def test_running_the_snapshot_twice_changes_nothing(lp, portfolio, owner):
    other = PortfolioFactory(owner=owner, name="Empty")
    snapshot_all_portfolios.delay(day="2025-09-01")
    first = list(PortfolioSnapshot.objects.order_by("portfolio_id").values())
    snapshot_all_portfolios.delay(day="2025-09-01")
    again = list(PortfolioSnapshot.objects.order_by("portfolio_id").values())
    assert first == again
    assert [s["portfolio_id"] for s in again] == [portfolio.pk, other.pk]
    assert again[1]["value"] == 0


def test_the_snapshot_counts_rewards_received_this_year_in_the_owners_time_zone(portfolio, owner, crv, prices):
    owner.timezone = "America/New_York"
    owner.save()
    # 2025-01-01 03:00 UTC is still 2024 in New York: not this year's income there.
    transaction_record(
        portfolio=portfolio,
        kind="reward",
        income_type="airdrop",
        occurred_at=at("2025-01-01T03:00"),
        legs=[LegInput(token=crv, quantity=D("10"), fiat_value=D("7"))],
    )
    transaction_record(
        portfolio=portfolio,
        kind="reward",
        income_type="airdrop",
        occurred_at=at("2025-06-01T03:00"),
        legs=[LegInput(token=crv, quantity=D("10"), fiat_value=D("8"))],
    )
    snapshot_all_portfolios.delay(day="2025-07-01")
    assert PortfolioSnapshot.objects.get(portfolio=portfolio).income_ytd == D("8")


def test_the_default_snapshot_day_is_yesterday(portfolio):
    from django.utils import timezone

    snapshot_all_portfolios.delay()
    yesterday = timezone.now().date().toordinal() - 1
    assert PortfolioSnapshot.objects.get(portfolio=portfolio).day.toordinal() == yesterday
