"""A worker process killed (SIGKILL) in the middle of tracked work: after the reaper runs and a
worker is back, the work completes exactly once and nothing stays ``running``.

Each test kills a real worker process (``tests/ops/worker.py``) at a moment it observes in the
database (the row says ``running``), not after a fixed sleep."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import redis

from config.celery import app
from config.heartbeat import reap_all
from portfolios.tax.models import TaxReport, TaxReportFile
from tests.ops.worker import kill, start_worker, stop, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LEDGER_TRANSACTIONS = 20_000  # a build of a few seconds: long enough to be killed in the middle


@pytest.fixture
def through_the_broker(settings):
    if not settings.REDIS_URL:
        pytest.fail("worker tests need REDIS_URL pointing at a real Redis (make test sets it)")
    settings.TASK_STALE_AFTER_SECONDS = 3  # as in the workers' environment (tests/ops/worker.py)
    app.conf.task_always_eager = False
    # Messages an earlier killed worker left in this (test) Redis database: queued ones, and the
    # unacknowledged ones kombu would hand out again once their visibility timeout passes.
    app.control.purge()
    redis.Redis.from_url(settings.REDIS_URL).delete("unacked", "unacked_index", "unacked_mutex")
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def big_ledger_owner(db):
    from benchmarks.bench_tax_task import _seed

    return _seed(LEDGER_TRANSACTIONS, 11, True)


def test_a_tax_report_whose_worker_is_killed_is_built_once_after_the_reaper(
        through_the_broker, big_ledger_owner, tmp_path):
    from portfolios.tax.services import tax_report_request

    log = tmp_path / "worker.log"
    first = start_worker(queues="slow", log=log)
    try:
        report, queued = tax_report_request(owner=big_ledger_owner, year=2024, jurisdiction="us", method="fifo")
        assert queued

        def building() -> bool:
            report.refresh_from_db()
            return report.status == TaxReport.Status.RUNNING and report.progress >= 2

        wait_for(building, timeout=90, what="the build to start")
        kill(first)
    finally:
        kill(first)
    report.refresh_from_db()
    assert report.status == TaxReport.Status.RUNNING  # the dead worker can no longer say otherwise

    # Beat's reaper, once the heartbeat is older than TASK_STALE_AFTER_SECONDS.
    wait_for(lambda: reap_all().get("tax.TaxReport", 0) == 1, timeout=15, every=0.5, what="the reaper")
    report.refresh_from_db()
    assert report.status == TaxReport.Status.PENDING

    second = start_worker(queues="slow", log=log)
    try:
        def finished() -> bool:
            report.refresh_from_db()
            return report.is_finished

        wait_for(finished, timeout=120, every=0.2, what="the rebuilt report")
    finally:
        stop(second)
    assert report.status == TaxReport.Status.DONE, (report.error, log.read_text()[-3000:])
    assert report.attempts == 2
    assert TaxReport.objects.filter(owner=big_ledger_owner).count() == 1
    assert sorted(TaxReportFile.objects.filter(report=report).values_list("kind", flat=True)) == [
        "csv-disposals", "csv-income", "pdf"]
    assert report.summary["counts"]["transactions"] > 0


# ----------------------------------------------------------------------------- pool refresh
def _pools_run():
    from pools.models import RefreshRun

    return RefreshRun.objects.filter(kind=RefreshRun.Kind.POOLS)


def _kill_during_a_pool_refresh(log, env=None):
    """Start a worker, queue the hourly refresh, SIGKILL the worker while its run says running."""
    from pools.models import RefreshRun
    from pools.tasks import refresh_pools

    first = start_worker(queues="default", log=log, env=env)
    try:
        refresh_pools.delay()
        wait_for(lambda: _pools_run().filter(status=RefreshRun.Status.RUNNING).exists(), timeout=90,
                 what="the refresh to start")
        kill(first)
    finally:
        kill(first)
    killed = _pools_run().get()
    assert killed.status == RefreshRun.Status.RUNNING  # the dead worker can no longer say otherwise
    return killed


def _bundled_pool_count() -> int:
    from pools.sources import get_source

    return len({record.pool_id for record in get_source("bundled").fetch_pools().records})


def test_a_pool_refresh_whose_worker_is_killed_is_failed_and_rerun_by_the_reaper(through_the_broker, tmp_path):
    from pools.models import Pool, RefreshRun

    log = tmp_path / "worker.log"
    killed = _kill_during_a_pool_refresh(log)

    wait_for(lambda: reap_all().get("pools.RefreshRun", 0) == 1, timeout=15, every=0.5, what="the reaper")
    killed.refresh_from_db()
    assert killed.status == RefreshRun.Status.FAILED and "stopped heartbeating" in killed.error

    second = start_worker(queues="default", log=log)
    try:
        wait_for(lambda: _pools_run().filter(status=RefreshRun.Status.SUCCEEDED).exists(), timeout=120,
                 every=0.2, what="the queued-again refresh")
    finally:
        stop(second)
    assert not _pools_run().filter(status=RefreshRun.Status.RUNNING).exists()
    assert Pool.objects.count() == _bundled_pool_count()  # every pool once: no duplicate rows


def test_a_whole_worker_kill_is_redelivered_within_the_visibility_timeout(through_the_broker, tmp_path):
    """No reaper here: the broker alone hands the killed worker's unacknowledged message to the
    next worker once the visibility timeout (shortened to 20 s for the test; 18 minutes by
    default) has passed."""
    from pools.models import RefreshRun
    from tests.ops.worker import worker_env

    short = worker_env(CELERY_BROKER_VISIBILITY_TIMEOUT="20", CELERY_UNACKED_RESTORE_INTERVAL="1",
                       CELERY_TASK_TIME_LIMIT="12", CELERY_TASK_SOFT_TIME_LIMIT="10",
                       TASK_RETRY_MAX_DELAY_SECONDS="4",
                       POOL_REFRESH_RETRY_MAX_SECONDS="4", POOL_SOURCE_DEADLINE_SECONDS="5",
                       TASK_STALE_AFTER_SECONDS="600")  # the reaper would not act for 10 minutes
    log = tmp_path / "worker.log"
    killed = _kill_during_a_pool_refresh(log, env=short)
    task_id = killed.task_id
    assert task_id

    second = start_worker(queues="default", log=log, env=short)
    try:
        wait_for(lambda: _pools_run().filter(status=RefreshRun.Status.SUCCEEDED).exists(), timeout=90,
                 every=0.5, what="the redelivered refresh")
    finally:
        stop(second)
    redelivered = _pools_run().get(status=RefreshRun.Status.SUCCEEDED)
    assert redelivered.task_id == task_id  # the same message, not a new one


# ----------------------------------------------------------------------------- revaluation
REVALUED_PORTFOLIOS = 600  # x 10 positions: a chunk of a few seconds of work, killed in the middle


def test_a_revaluation_whose_worker_is_killed_is_redelivered_and_written_once(through_the_broker, tmp_path):
    """A revaluation keeps no row that says ``running``: its whole write is one database
    transaction at the end (``services.valuation.portfolio_revalue``), so a kill leaves every
    portfolio as it was, and the unacknowledged message is handed to the next worker."""
    from benchmarks.bench_portfolios_revalue import build
    from portfolios.models import Portfolio
    from portfolios.selectors import portfolio_summaries
    from portfolios.services.legs import q18
    from portfolios.tasks import revalue_portfolios
    from tests.ops.worker import worker_env

    build(REVALUED_PORTFOLIOS, 10)
    ids = sorted(Portfolio.objects.values_list("pk", flat=True))
    assert not Portfolio.objects.filter(valued_at__isnull=False).exists()
    short = worker_env(CELERY_BROKER_VISIBILITY_TIMEOUT="30", CELERY_UNACKED_RESTORE_INTERVAL="1",
                       CELERY_TASK_TIME_LIMIT="20", CELERY_TASK_SOFT_TIME_LIMIT="18",
                       TASK_RETRY_MAX_DELAY_SECONDS="4", POOL_REFRESH_RETRY_MAX_SECONDS="4",
                       POOL_SOURCE_DEADLINE_SECONDS="5")
    log = tmp_path / "worker.log"
    first = start_worker(queues="slow", log=log, env=short)
    try:
        result = revalue_portfolios.delay(portfolio_ids=ids)
        try:
            wait_for(lambda: log.exists() and f"{result.id}] received" in log.read_text(), timeout=60,
                     what="the worker to take the revaluation")
        except AssertionError as exc:
            raise AssertionError(log.read_text()[-3000:] if log.exists() else "no worker log") from exc
        time.sleep(0.5)  # reading and valuing 6,000 positions takes seconds; the write comes last
        kill(first)
    finally:
        kill(first)
    assert "succeeded" not in log.read_text()
    assert not Portfolio.objects.filter(valued_at__isnull=False).exists()  # nothing half-written

    second = start_worker(queues="slow", log=log, env=short)
    try:
        wait_for(lambda: not Portfolio.objects.filter(valued_at__isnull=True).exists(), timeout=120, every=0.5,
                 what="the redelivered revaluation")
        wait_for(lambda: f"{result.id}] succeeded" in log.read_text(), timeout=30, what="the task to finish")
    finally:
        stop(second)
    assert log.read_text().count(f"{result.id}] received") == 2  # the same message, delivered twice
    portfolios = list(Portfolio.objects.filter(pk__in=ids).select_related("owner").order_by("pk"))
    assert len(portfolios) == REVALUED_PORTFOLIOS
    expected = portfolio_summaries(portfolios=portfolios[:50], detail=False)
    for portfolio in portfolios[:50]:
        assert portfolio.deposited == q18(expected[portfolio.pk].deposited)
        # Valued a few seconds apart: open positions accrue estimated fees by the second.
        assert abs(portfolio.value - expected[portfolio.pk].value) <= expected[portfolio.pk].value * Decimal("1e-6")
