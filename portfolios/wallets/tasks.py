"""Celery tasks of wallet sync: thin wrappers around ``services.runner`` (autodiscovered).

``sync_wallet`` runs one queued ``WalletSync`` (claimed with a conditional update: a
redelivered message does nothing); ``sync_active_wallets`` is the beat entry that queues
a sync of every active wallet (``config/schedules.py``).
"""

from __future__ import annotations

from celery import shared_task

from portfolios.wallets.services.runner import wallet_sync_queue, wallet_sync_run, wallets_active


@shared_task(name="portfolios.wallets.tasks.sync_wallet", acks_late=True, soft_time_limit=3300, time_limit=3600)
def sync_wallet(*, sync_id: int) -> str:
    run = wallet_sync_run(sync_id=sync_id)
    return run.status if run is not None else "skipped"


@shared_task(name="portfolios.wallets.tasks.sync_active_wallets", ignore_result=True)
def sync_active_wallets() -> int:
    queued = 0
    for wallet in wallets_active():
        run, created = wallet_sync_queue(wallet=wallet)
        if created:
            sync_wallet.delay_on_commit(sync_id=run.pk)
            queued += 1
    return queued
