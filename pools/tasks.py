"""Celery tasks: thin wrappers around pools.services (schedules: config/schedules.py).

A failed refresh (a ``SourceError``: timeout, 5xx, malformed or truncated payload,
the overall deadline; or the task's soft time limit) has already been recorded on
a failed RefreshRun by the service. The task then retries: after
``POOL_REFRESH_RETRY_FIRST_SECONDS`` (60), doubling up to
``POOL_REFRESH_RETRY_MAX_SECONDS`` (600), with as many retries as it takes for
the shortest delays to span ``POOL_REFRESH_RETRY_COVER_SECONDS`` (an hour), so a
source outage of an hour is ridden out without waiting for the next hourly run
(``config.backoff``). Every task is safe to run twice.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from config.backoff import backoff_countdown, backoff_delays
from pools.services.fx import fx_refresh
from pools.services.prices import prices_refresh
from pools.services.refresh import pool_history_backfill, pools_refresh
from pools.sources import SourceError

RETRY_ON = (SourceError, SoftTimeLimitExceeded)
JITTER = 0.1


def retry_delays() -> list[float]:
    """The refresh tasks' retry schedule (seconds before each retry)."""
    return backoff_delays(first=settings.POOL_REFRESH_RETRY_FIRST_SECONDS, cap=settings.POOL_REFRESH_RETRY_MAX_SECONDS,
                          cover=settings.POOL_REFRESH_RETRY_COVER_SECONDS, jitter=JITTER)


def _retry(task, exc: BaseException):
    delays = retry_delays()
    return task.retry(exc=exc, countdown=backoff_countdown(task.request.retries, delays, JITTER),
                      max_retries=len(delays))


@shared_task(name="pools.tasks.refresh_pools", bind=True)
def refresh_pools(self) -> dict:
    try:
        run = pools_refresh(task_id=self.request.id or "")
    except RETRY_ON as exc:
        raise _retry(self, exc) from exc
    return {"run_id": run.pk, "status": run.status}


@shared_task(name="pools.tasks.refresh_prices", bind=True)
def refresh_prices(self) -> dict:
    try:
        run = prices_refresh(task_id=self.request.id or "")
    except RETRY_ON as exc:
        raise _retry(self, exc) from exc
    return {"run_id": run.pk, "status": run.status}


# No result kept: it is asked for from web requests, which must not wait on a result store.
@shared_task(name="pools.tasks.backfill_pool_history", bind=True, ignore_result=True)
def backfill_pool_history(self, *, pool_id: int) -> dict:
    try:
        run = pool_history_backfill(pool_id=pool_id, task_id=self.request.id or "")
    except RETRY_ON as exc:
        raise _retry(self, exc) from exc
    return {"run_id": run.pk, "status": run.status}


@shared_task(name="pools.tasks.refresh_fx_rates", autoretry_for=(SourceError,), retry_backoff=True)
def refresh_fx_rates() -> dict:
    run = fx_refresh()
    return {"run_id": run.pk, "status": run.status, "created": run.created, "rejected": run.rejected}
