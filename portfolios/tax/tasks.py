"""Celery tasks of the tax reports (autodiscovered with the app).

``build_tax_report(report_id)`` is a thin wrapper around
``build.tax_report_build``, which claims the report with a conditional
update, so a second delivery (acks_late redelivery, a duplicate enqueue) does
nothing. It runs on the ``slow`` queue (``make worker`` consumes it) and
never raises for bad data: the report records the failure.

``services.tax_report_request`` enqueues it with ``delay_on_commit``; this
task's version of that never fails the committed request when the broker is
down (the report stays pending, and asking again re-sends it).
"""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from config.celery import BaseTask
from portfolios.tax.build import tax_report_build


class ReportBuildTask(BaseTask):
    def delay_on_commit(self, *args: object, **kwargs: object) -> None:
        """``delay`` once the transaction commits, as DjangoTask does, but a
        broker error is logged (Django's ``robust`` on_commit), not raised into
        the request whose transaction already committed."""
        delay = self.delay

        def send() -> None:  # a function, not a partial: Django's robust logging names it
            delay(*args, **kwargs)

        transaction.on_commit(send, robust=True)


@shared_task(base=ReportBuildTask, name="portfolios.tax.tasks.build_tax_report", queue="slow", ignore_result=True,
             bind=True)
def build_tax_report(self, report_id: int) -> str:
    return tax_report_build(report_id=report_id, task_id=self.request.id or "")
