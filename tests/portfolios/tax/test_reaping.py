"""A build whose worker vanished, in process: the reaper puts it back to pending (and queues it)
until its attempts are used up, then fails it with a reason; the claim ignores a live build and
takes over a dead one; a soft time limit is a failure that says so."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from config.heartbeat import reap
from portfolios.tax.build import tax_report_build
from portfolios.tax.models import TaxReport
from portfolios.tax.reaping import STALE_TAX_REPORTS
from portfolios.tax.services import tax_report_request

pytestmark = pytest.mark.django_db
S = TaxReport.Status


@pytest.fixture
def report(owner, ledger):
    with patch("portfolios.tax.tasks.build_tax_report.delay"):  # requested, not built
        made, _ = tax_report_request(owner=owner, year=2024)
    return made


def abandon(report: TaxReport, *, attempts: int, silent_for: timedelta = timedelta(minutes=10)) -> None:
    """The row as a killed worker leaves it: running, its heartbeat stopped long ago."""
    then = timezone.now() - silent_for
    TaxReport.objects.filter(pk=report.pk).update(status=S.RUNNING, progress=40, started_at=then,
                                                  heartbeat_at=then, attempts=attempts)


def test_a_dead_build_goes_back_to_pending_and_is_queued_again(report, django_capture_on_commit_callbacks):
    abandon(report, attempts=1)
    with patch("portfolios.tax.reaping.build_tax_report.delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        reaped = reap(STALE_TAX_REPORTS)
    assert [r.pk for r in reaped] == [report.pk]
    report.refresh_from_db()
    assert (report.status, report.progress, report.error) == (S.PENDING, 0, "")
    delay.assert_called_once_with(report_id=report.pk)


def test_a_build_that_keeps_dying_is_failed_with_a_reason(report, django_capture_on_commit_callbacks):
    abandon(report, attempts=TaxReport.MAX_ATTEMPTS)
    with patch("portfolios.tax.reaping.build_tax_report.delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        reap(STALE_TAX_REPORTS)
    report.refresh_from_db()
    assert report.status == S.FAILED and report.finished_at is not None
    assert "stopped 3 times" in report.error
    delay.assert_not_called()


def test_a_live_build_is_left_alone(report):
    abandon(report, attempts=1, silent_for=timedelta(seconds=5))  # heartbeat recent: alive
    assert reap(STALE_TAX_REPORTS) == []
    assert tax_report_build(report_id=report.pk) == "skipped"  # a second delivery does not take it over
    report.refresh_from_db()
    assert report.status == S.RUNNING


def test_a_redelivered_message_takes_over_a_dead_build_once(report):
    abandon(report, attempts=1)
    assert tax_report_build(report_id=report.pk, task_id="redelivered") == S.DONE
    report.refresh_from_db()
    assert (report.status, report.attempts, report.task_id) == (S.DONE, 2, "redelivered")
    assert report.files.count() == 3
    assert tax_report_build(report_id=report.pk) == "skipped"


def test_the_soft_time_limit_is_a_failure_that_says_so(report):
    with patch("portfolios.tax.build._build", side_effect=SoftTimeLimitExceeded()):
        assert tax_report_build(report_id=report.pk) == S.FAILED
    report.refresh_from_db()
    assert report.status == S.FAILED
    assert "took longer than the time allowed" in report.error
    assert report.heartbeat_at is not None and report.attempts == 1


def test_asking_again_for_a_given_up_report_gives_it_fresh_attempts(report, owner,
                                                                    django_capture_on_commit_callbacks):
    abandon(report, attempts=TaxReport.MAX_ATTEMPTS)
    with patch("portfolios.tax.reaping.build_tax_report.delay"), django_capture_on_commit_callbacks(execute=True):
        reap(STALE_TAX_REPORTS)
    with patch("portfolios.tax.tasks.build_tax_report.delay") as delay, \
            django_capture_on_commit_callbacks(execute=True):
        again, queued = tax_report_request(owner=owner, year=2024)
    assert again.pk == report.pk and queued
    delay.assert_called_once_with(report_id=report.pk)
    again.refresh_from_db()
    assert (again.status, again.attempts) == (S.PENDING, 0)
