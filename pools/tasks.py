"""Celery tasks: thin wrappers around pools.services (schedules: config/schedules.py).

A ``SourceError`` (timeout, 5xx, malformed or truncated payload) has already
been recorded on a failed RefreshRun by the service; the task retries with
exponential backoff and jitter (``config.celery.BaseTask``: up to 5 retries,
capped at 10 minutes). Every task is safe to run twice.
"""

from __future__ import annotations

from celery import shared_task

from pools.services.fx import fx_refresh
from pools.services.prices import prices_refresh
from pools.services.refresh import pool_history_backfill, pools_refresh
from pools.sources import SourceError


@shared_task(name="pools.tasks.refresh_pools", autoretry_for=(SourceError,), retry_backoff=True)
def refresh_pools() -> dict:
    run = pools_refresh()
    return {"run_id": run.pk, "status": run.status}


@shared_task(name="pools.tasks.refresh_prices", autoretry_for=(SourceError,), retry_backoff=True)
def refresh_prices() -> dict:
    run = prices_refresh()
    return {"run_id": run.pk, "status": run.status}


@shared_task(name="pools.tasks.backfill_pool_history", autoretry_for=(SourceError,), retry_backoff=True)
def backfill_pool_history(*, pool_id: int) -> dict:
    run = pool_history_backfill(pool_id=pool_id)
    return {"run_id": run.pk, "status": run.status}


@shared_task(name="pools.tasks.refresh_fx_rates", autoretry_for=(SourceError,), retry_backoff=True)
def refresh_fx_rates() -> dict:
    run = fx_refresh()
    return {"run_id": run.pk, "status": run.status, "created": run.created, "rejected": run.rejected}
