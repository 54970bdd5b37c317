"""A real Celery worker through Redis builds a report; it consumes only the slow queue, where the task goes."""

import time

import pytest

from portfolios.tax.models import TaxReport
from tests.conftest import running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def real_worker():
    with running_worker(queues=["slow"]) as worker:  # the task routes itself to "slow"
        yield worker


def test_a_real_worker_builds_a_requested_report(real_worker, owner, ledger):
    from portfolios.tax.services import tax_report_request

    report, queued = tax_report_request(owner=owner, year=2024)  # autocommit: enqueued at once
    assert queued
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        report.refresh_from_db()
        if report.is_finished:
            break
        time.sleep(0.2)
    assert report.status == "done", report.error
    assert report.summary["totals"]["gain"] == "4780.00"
    assert report.files.count() == 3
    again, queued = tax_report_request(owner=owner, year=2024)
    assert again.pk == report.pk and not queued
    assert TaxReport.objects.count() == 1
