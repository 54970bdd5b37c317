"""Refresh runs whose worker died: failed and queued again by the generic reaper
(``config.heartbeat``; registered in ``pools.apps``). Like ``history_requests``, this
module enqueues tasks, so ``pools.tasks`` never imports it."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from config.heartbeat import StaleWork
from pools.models import RefreshRun
from pools.services.runs import run_stale_failure
from pools.tasks import backfill_pool_history, refresh_pools, refresh_prices


def refresh_runs_requeue(runs: Iterable[RefreshRun]) -> None:
    """Queue the work of reaped runs again: one pool refresh and one price refresh at most
    (the next covers everything), and each pool's history backfill."""
    kinds = {run.kind for run in runs}
    if RefreshRun.Kind.POOLS in kinds:
        refresh_pools.delay()
    if RefreshRun.Kind.PRICES in kinds:
        refresh_prices.delay()
    for pool_id in sorted({run.detail.get("pool_id") for run in runs if run.kind == RefreshRun.Kind.HISTORY} - {None}):
        backfill_pool_history.delay(pool_id=pool_id)


STALE_REFRESH_RUNS = StaleWork(
    name="pools.RefreshRun",
    model=RefreshRun,
    running=Q(status=RefreshRun.Status.RUNNING),
    failed=run_stale_failure,
    requeue=refresh_runs_requeue,
)
