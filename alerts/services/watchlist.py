"""The watchlist: starred pools and what they looked like when the user last looked."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from alerts.models import WatchedPool
from pools.models import Pool


def watch_add(*, user: Any, pool: Pool) -> WatchedPool:
    """Star a pool (idempotent). What it looks like now is what later changes are measured against."""
    watched, _ = WatchedPool.objects.get_or_create(
        user=user, pool=pool,
        defaults={"seen_at": timezone.now(), "seen_apy": pool.apy, "seen_apy_mean_30d": pool.apy_mean_30d,
                  "seen_tvl_usd": pool.tvl_usd, "seen_risk_grade": pool.risk_grade})  # fmt: skip
    return watched


def watch_remove(*, user: Any, pool_id: int) -> bool:
    """Unstar a pool; False if it was not starred."""
    deleted, _ = WatchedPool.objects.filter(user=user, pool_id=pool_id).delete()
    return bool(deleted)


def watchlist_mark_seen(*, user: Any) -> int:
    """Remember every watched pool as it is now (one UPDATE; Django cannot set a column
    from a joined one, hence one correlated subquery per column)."""
    pool = Pool.objects.filter(pk=OuterRef("pool_id"))
    return WatchedPool.objects.filter(user=user).update(
        seen_at=timezone.now(),
        seen_apy=Subquery(pool.values("apy")[:1]),
        seen_apy_mean_30d=Subquery(pool.values("apy_mean_30d")[:1]),
        seen_tvl_usd=Subquery(pool.values("tvl_usd")[:1]),
        seen_risk_grade=Subquery(pool.values("risk_grade")[:1]),
    )
