"""The hourly pool refresh and the per-pool history backfill.

Refresh flow (``pools_refresh``, run hourly by ``pools.tasks.refresh_pools``)::

    lock -> RefreshRun(running) -> source.fetch_pools()          (I/O, no transaction)
         -> ingest.pools_ingest(batch)   one transaction, a few set-based statements
         -> stats.pool_stats_refresh()   our 30-day mean and sigma from the snapshots
         -> risk.pool_risk_refresh()     pools.risk for every pool, changed rows only
         -> RefreshRun(succeeded, counts)

A ``SourceError`` (timeout, 5xx, malformed or truncated payload, the overall
deadline) is recorded on a failed RefreshRun and re-raised so the Celery task
retries with backoff; nothing was written, so the last good data stays in place.
So is anything else that ends the run early, the task's soft time limit
included: no run stays ``running`` unless its worker died, and then its
heartbeat stops (``config.heartbeat``) and the reaper fails it and queues the
refresh again.
"""

from __future__ import annotations

import time
from datetime import UTC

from django.core.cache import cache
from django.utils import timezone

from config.heartbeat import Heartbeat
from pools.locking import refresh_lock
from pools.models import Pool, RefreshRun
from pools.services.ingest import LapTimer, pool_snapshots_ingest, pools_ingest
from pools.services.risk import pool_risk_refresh
from pools.services.runs import pool_source, run_failed, run_finish, run_skipped
from pools.services.stats import pool_stats_refresh, pool_stats_refresh_ids
from pools.signals import pools_refreshed

RISK_FULL_DAY_KEY = "pools:risk-full-day"


def _risk_after_refresh(*, changed_ids: set[int]) -> bool:
    """Rescore the pools this refresh changed; every pool once a day, because the
    age-based factors (protocol age, audit age) move with the calendar. If the
    cache forgets the day, the cost is one extra full pass."""
    today = timezone.now().astimezone(UTC).date().isoformat()
    if cache.get(RISK_FULL_DAY_KEY) != today:
        pool_risk_refresh()
        cache.set(RISK_FULL_DAY_KEY, today, 2 * 24 * 3600)
        return True
    if changed_ids:
        pool_risk_refresh(pool_ids=sorted(changed_ids))
    return False


def pools_refresh(*, source=None, use_lock: bool = True, task_id: str = "") -> RefreshRun:
    """Fetch the pool list and ingest it (see the module docstring).

    Returns the RefreshRun (``skipped`` if another refresh holds the lock).
    Raises the source's ``SourceError`` (or whatever stopped it, such as a soft
    time limit) after recording a ``failed`` run.
    """
    source = source or pool_source()
    with refresh_lock(RefreshRun.Kind.POOLS, enabled=use_lock) as acquired:
        if not acquired:
            return run_skipped(RefreshRun.Kind.POOLS, source.name)
        run = RefreshRun.objects.create(kind=RefreshRun.Kind.POOLS, source=source.name, started_at=timezone.now(),
                                        task_id=task_id or "")
        with Heartbeat(RefreshRun, run.pk):
            try:
                started = time.perf_counter()
                batch = source.fetch_pools()  # network I/O: outside any transaction
                fetch_seconds = round(time.perf_counter() - started, 3)
                result = pools_ingest(batch=batch)
                timer = LapTimer(result.timings)
                day = batch.fetched_at.astimezone(UTC).date()
                stats_changed = pool_stats_refresh_ids(as_of=day)
                timer.lap("stats")
                changed_ids = {*result.changed_ids, *stats_changed}
                rescored_all = _risk_after_refresh(changed_ids=changed_ids)
                timer.lap("risk")
            except BaseException as exc:  # a soft time limit, SystemExit on a cold shutdown...
                run_failed(run, exc)
                raise
        counts = result.counts()
        finished = run_finish(
            run,
            RefreshRun.Status.SUCCEEDED,
            data_as_of=batch.fetched_at,
            detail={"fetch_seconds": fetch_seconds, "timings": result.timings, "records": len(batch.records)},
            **counts,
        )
    pools_refreshed.send(sender=RefreshRun, pool_ids=sorted(changed_ids), rescored_all=rescored_all)
    return finished


def pool_history_backfill(*, pool_id: int, source=None, task_id: str = "") -> RefreshRun:
    """Load a pool's daily history from the source into PoolSnapshot (idempotent)."""
    pool = Pool.objects.get(pk=pool_id)
    source = source or pool_source()
    run = RefreshRun.objects.create(
        kind=RefreshRun.Kind.HISTORY,
        source=source.name,
        started_at=timezone.now(),
        detail={"pool_id": pool.pk, "external_id": pool.external_id},
        task_id=task_id or "",
    )
    with Heartbeat(RefreshRun, run.pk):
        try:
            points = source.fetch_history(pool.external_id)
            written = pool_snapshots_ingest(pool_id=pool.pk, points=points)
            Pool.objects.filter(pk=pool.pk).update(history_backfilled_at=timezone.now())
            if points:
                pool_stats_refresh(as_of=max(p.day for p in points), pool_ids=[pool.pk])
            pool_risk_refresh(pool_ids=[pool.pk])
        except BaseException as exc:
            run_failed(run, exc)
            raise
    return run_finish(
        run,
        RefreshRun.Status.SUCCEEDED,
        snapshots_written=written,
        created=written,
        unchanged=len(points) - written,
        data_as_of=max((p.timestamp for p in points), default=None),
    )
