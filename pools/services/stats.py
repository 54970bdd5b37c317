"""Our own 30-day APY mean and sigma, computed from the stored daily snapshots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from pools import bulk
from pools.models import Pool, PoolSnapshot
from pools.risk import MIN_SIGMA_OBSERVATIONS
from pools.services.ingest import Q_PCT, quantize
from pools.sources.stats import compute_apy_stats
from pools.versioning import data_version_bump


def pool_stats_refresh(*, as_of: date, pool_ids: Sequence[int] | None = None, window_days: int = 30) -> int:
    """See ``pool_stats_refresh_ids``; returns how many pools changed."""
    return len(pool_stats_refresh_ids(as_of=as_of, pool_ids=pool_ids, window_days=window_days))


def pool_stats_refresh_ids(*, as_of: date, pool_ids: Sequence[int] | None = None, window_days: int = 30) -> list[int]:
    """Our own 30-day APY mean and sample σ from PoolSnapshot, for every pool (or
    ``pool_ids``). The mean is stored only where the source gives none; σ always,
    once the window holds ``pools.risk.MIN_SIGMA_OBSERVATIONS`` (5) days (the
    source's ``sigma`` is another quantity, see pools.sources.stats).
    Returns the ids of the pools whose statistics changed."""
    start = as_of - timedelta(days=window_days)
    stats: list[tuple[int, Decimal | None, Decimal | None]] = []
    if bulk.is_postgres():
        sql = (
            "SELECT pool_id, AVG(apy), STDDEV_SAMP(apy), COUNT(apy) FROM pools_poolsnapshot "
            "WHERE day > %s AND day <= %s AND apy IS NOT NULL"
        )
        params: list[Any] = [start, as_of]
        if pool_ids is not None:
            sql += " AND pool_id = ANY(%s)"
            params.append(list(pool_ids))
        with connection.cursor() as cursor:
            cursor.execute(sql + " GROUP BY pool_id", params)
            stats = [
                (pid, quantize(mean, Q_PCT), quantize(sigma, Q_PCT) if n >= MIN_SIGMA_OBSERVATIONS else None)
                for pid, mean, sigma, n in cursor.fetchall()
            ]
    else:
        qs = PoolSnapshot.objects.filter(day__gt=start, day__lte=as_of, apy__isnull=False)
        if pool_ids is not None:
            qs = qs.filter(pool_id__in=list(pool_ids))
        series: dict[int, list[tuple[date, Decimal | None]]] = defaultdict(list)
        for pid, day, apy in qs.values_list("pool_id", "day", "apy").iterator(chunk_size=5000):
            series[pid].append((day, apy))
        for pid, points in series.items():
            s = compute_apy_stats(points, as_of=as_of, window_days=window_days)
            sigma = s.sigma_30d if s.window_count >= MIN_SIGMA_OBSERVATIONS else None
            stats.append((pid, quantize(s.mean_30d, Q_PCT), quantize(sigma, Q_PCT)))
    if not stats:
        return []
    with transaction.atomic():
        changed = bulk.update_from(
            table=Pool._meta.db_table,
            key="id",
            columns=["id", "apy_mean_30d", "apy_sigma_30d"],
            rows=stats,
            update={
                "apy_sigma_30d": "{S}.apy_sigma_30d",
                "apy_mean_30d": "CASE WHEN {T}.apy_mean_30d IS NULL OR {T}.apy_mean_30d_computed "
                "THEN {S}.apy_mean_30d ELSE {T}.apy_mean_30d END",
                "apy_mean_30d_computed": "({T}.apy_mean_30d IS NULL OR {T}.apy_mean_30d_computed)",
            },
        )
    if changed:
        data_version_bump()
    return [row[0] for row in changed]
