"""Background history loads asked for by people: the first view of a pool's page, or staff
in the admin. Each enqueues ``pools.tasks.backfill_pool_history`` once the current
transaction commits (``delay_on_commit``), so ``pools.tasks`` never imports this module."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache

from pools.models import Pool
from pools.tasks import backfill_pool_history

HISTORY_REQUEST_TTL = 15 * 60
#: Most pools one admin action may queue (the rest of a larger selection is ignored).
MAX_BACKFILLS_PER_REQUEST = 500


def pool_history_request(*, pool: Pool) -> bool:
    """Ask for a pool's history once (first view of its page): enqueue the
    backfill after the current transaction commits. Returns True if enqueued."""
    if pool.history_backfilled_at is not None:
        return False
    # One request per pool per 15 minutes, however many people open the page.
    if not cache.add(f"pools:history-requested:{pool.pk}", 1, HISTORY_REQUEST_TTL):
        return False
    backfill_pool_history.delay_on_commit(pool_id=pool.pk)
    return True


def pool_histories_request(*, pool_ids: Iterable[int]) -> int:
    """Queue a history backfill for each pool (staff, in the admin), after commit, at most
    ``MAX_BACKFILLS_PER_REQUEST``. Returns how many were queued."""
    ids = list(pool_ids)[:MAX_BACKFILLS_PER_REQUEST]
    for pool_id in ids:
        backfill_pool_history.delay_on_commit(pool_id=pool_id)
    return len(ids)
