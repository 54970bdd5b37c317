"""Celery tasks of the tax reports (autodiscovered: config/celery.py).

``build_tax_report(report_id)`` is a thin wrapper around
``tax_services.tax_report_build``, which claims the report with a conditional
update, so a second delivery (acks_late redelivery, a duplicate enqueue) does
nothing. It runs on the ``slow`` queue (``make worker`` consumes it) and
never raises for bad data: the report records the failure.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(name="portfolios.tax_tasks.build_tax_report", queue="slow", ignore_result=True)
def build_tax_report(report_id: int) -> str:
    from portfolios.tax_services import tax_report_build

    return tax_report_build(report_id=report_id)
