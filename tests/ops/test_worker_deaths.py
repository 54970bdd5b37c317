"""A worker process killed (SIGKILL) in the middle of tracked work: after the reaper runs and a
worker is back, the work completes exactly once and nothing stays ``running``.

Each test kills a real worker process (``tests/ops/worker.py``) at a moment it observes in the
database (the row says ``running``), not after a fixed sleep."""

from __future__ import annotations

import pytest

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
    app.control.purge()  # messages left by an earlier killed run in this Redis database
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
