"""Queue and run wallet syncs (the task's body; imports no task, so ``tasks`` may import it)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.heartbeat import Heartbeat
from portfolios.models import Position
from portfolios.wallets.models import Chain, Wallet, WalletSync
from portfolios.wallets.services.limits import chain_slot
from portfolios.wallets.services.sync import wallet_chain_sync
from portfolios.wallets.signals import wallet_synced

logger = logging.getLogger(__name__)


def wallet_chains(wallet: Wallet) -> list[Chain]:
    """The chains a sync scans: the chosen active ones, or every active chain."""
    chosen = [c for c in wallet.chains.all() if c.active]
    return chosen or list(Chain.objects.filter(active=True))


def wallet_sync_queue(*, wallet: Wallet) -> tuple[WalletSync, bool]:
    """A queued run for ``wallet``: the one already queued or running, else a new one (created=True)."""
    with transaction.atomic():
        Wallet.objects.select_for_update().filter(pk=wallet.pk).first()  # one starter at a time per wallet
        pending = WalletSync.objects.filter(
            wallet=wallet, status__in=[WalletSync.Status.QUEUED, WalletSync.Status.RUNNING]
        ).first()
        if pending is not None:
            return pending, False
        return WalletSync.objects.create(wallet=wallet, chains_total=len(wallet_chains(wallet))), True


def wallet_sync_run(*, sync_id: int) -> WalletSync | None:
    """Run a queued sync: every chain in turn, each under the chain's concurrency limit.
    A chain that fails is recorded and the others go on; the run fails if any chain did.
    Claimed with a conditional update, so a redelivered message runs it once."""
    claimed = WalletSync.objects.filter(pk=sync_id, status=WalletSync.Status.QUEUED).update(
        status=WalletSync.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    run = WalletSync.objects.select_related("wallet__portfolio").get(pk=sync_id)
    wallet = run.wallet
    errors: list[str] = []
    with Heartbeat(WalletSync, run.pk):
        chains = wallet_chains(wallet)
        WalletSync.objects.filter(pk=run.pk).update(chains_total=len(chains))
        for chain in chains:
            try:
                with chain_slot(chain.slug):
                    wallet_chain_sync(wallet=wallet, chain=chain, run=run)
            except Exception as exc:  # noqa: BLE001 - one chain's failure is recorded, the others go on
                logger.warning("wallet %s on %s failed", wallet.pk, chain.slug, exc_info=True)
                errors.append(f"{chain.name}: {exc}")
            finally:
                WalletSync.objects.filter(pk=run.pk).update(chains_done=F("chains_done") + 1)
    WalletSync.objects.filter(pk=run.pk).update(
        status=WalletSync.Status.FAILED if errors else WalletSync.Status.DONE,
        error="\n".join(errors)[:5000],
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    pool_ids = sorted(set(Position.objects.filter(portfolio_id=wallet.portfolio_id, pool__isnull=False)
                          .values_list("pool_id", flat=True)))
    wallet_synced.send(sender=Wallet, portfolio_id=wallet.portfolio_id, pool_ids=pool_ids)
    return run


def wallets_active() -> list[Wallet]:
    return list(Wallet.objects.filter(active=True).order_by("pk"))
