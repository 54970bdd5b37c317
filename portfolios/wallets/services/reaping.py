"""Syncs whose worker died: failed by the generic reaper (``config.heartbeat``), then
queued again as a new run (the sync resumes from its checkpoint, skipping stored events)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Q

from config.heartbeat import StaleWork
from portfolios.wallets.models import WalletSync
from portfolios.wallets.services.wallets import wallet_sync_start


def sync_stale_failure(now: datetime) -> dict[str, Any]:
    return {
        "status": WalletSync.Status.FAILED,
        "finished_at": now,
        "error": "The worker stopped heartbeating (killed, out of memory or lost); the sync was "
        f"queued again at {now:%Y-%m-%d %H:%M:%S} UTC and resumes from its checkpoint.",
    }


def syncs_requeue(runs: Iterable[WalletSync]) -> None:
    for wallet in {run.wallet for run in runs}:
        wallet_sync_start(wallet=wallet)


STALE_WALLET_SYNCS = StaleWork(
    name="wallets.WalletSync",
    model=WalletSync,
    running=Q(status=WalletSync.Status.RUNNING),
    failed=sync_stale_failure,
    requeue=syncs_requeue,
)
