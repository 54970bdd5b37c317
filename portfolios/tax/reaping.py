"""Tax reports whose worker died mid-build (``config.heartbeat``; registered in
``portfolios.tax.apps``).

The reaper finds ``running`` reports whose heartbeat stopped and puts them back to
``pending`` - or, after ``TaxReport.MAX_ATTEMPTS`` builds, marks them ``failed`` with a
reason, so a report that kills its worker (out of memory, say) does not loop forever -
then queues the pending ones again. The build's conditional claim makes a duplicate
delivery (the broker's own redelivery of the killed message) a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Case, Q, Value, When

from config.heartbeat import StaleWork
from portfolios.tax.models import TaxReport
from portfolios.tax.tasks import build_tax_report

S = TaxReport.Status
GAVE_UP = ("The build stopped {n} times without finishing (its worker was lost each time), so it was "
           "abandoned. Request the report again later; if it keeps failing, a report for one portfolio "
           "may succeed.")


def tax_report_stale_update(now: datetime) -> dict[str, Any]:
    """Back to pending for another build, or failed once the attempts are used up."""
    exhausted = Q(attempts__gte=TaxReport.MAX_ATTEMPTS)
    return {
        "status": Case(When(exhausted, then=Value(S.FAILED)), default=Value(S.PENDING)),
        "progress": 0,
        "finished_at": Case(When(exhausted, then=Value(now)), default=None),
        "error": Case(When(exhausted, then=Value(GAVE_UP.format(n=TaxReport.MAX_ATTEMPTS))), default=Value("")),
    }


def tax_reports_requeue(reports: Iterable[TaxReport]) -> None:
    for report in reports:
        if report.status == S.PENDING:
            build_tax_report.delay(report_id=report.pk)


STALE_TAX_REPORTS = StaleWork(
    name="tax.TaxReport",
    model=TaxReport,
    running=Q(status=S.RUNNING),
    failed=tax_report_stale_update,
    requeue=tax_reports_requeue,
)
