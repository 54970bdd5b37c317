"""Wallets: add, change, remove; start a sync (run by ``tasks.sync_wallet`` -> ``runner``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from portfolios.models import Portfolio, Position, Transaction
from portfolios.services.changes import portfolio_ledger_changed
from portfolios.wallets.checksum import AddressError, parse_address
from portfolios.wallets.models import Chain, ChainEvent, SyncedPosition, Wallet, WalletSync
from portfolios.wallets.services.runner import wallet_sync_queue
from portfolios.wallets.tasks import sync_wallet as sync_wallet_task


def _check_chains(chains: Iterable[Chain]) -> list[Chain]:
    chains = list(chains)
    inactive = [c.name for c in chains if not c.active]
    if inactive:
        raise ValidationError({"chains": f"Not an active chain: {', '.join(inactive)}."})
    return chains


def wallet_create(
    *, portfolio: Portfolio, address: str, label: str = "", chains: Iterable[Chain] = (), sync: bool = True
) -> Wallet:
    """Add ``address`` to ``portfolio`` (any case; a mixed-case address must carry a valid
    checksum). ``chains``: the chains to scan, none = every active chain. Starts a first sync."""
    try:
        plain = parse_address(address)
    except AddressError as exc:
        raise ValidationError({"address": str(exc)}) from exc
    chosen = _check_chains(chains)
    with transaction.atomic():
        wallet = Wallet(portfolio=portfolio, address=plain, label=(label or "").strip())
        wallet.full_clean()
        try:
            wallet.save()
        except IntegrityError as exc:
            raise ValidationError({"address": "This wallet is already in the portfolio."}) from exc
        wallet.chains.set(chosen)
        if sync:
            wallet_sync_start(wallet=wallet)
    return wallet


def wallet_update(*, wallet: Wallet, **fields: Any) -> Wallet:
    unknown = set(fields) - {"label", "active", "chains"}
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    with transaction.atomic():
        if "label" in fields:
            wallet.label = (fields["label"] or "").strip()
        if "active" in fields:
            wallet.active = bool(fields["active"])
        wallet.full_clean()
        wallet.save()
        if "chains" in fields:
            wallet.chains.set(_check_chains(fields["chains"]))
    return wallet


def wallet_delete(*, wallet: Wallet) -> None:
    """Remove the wallet and everything its syncs wrote (transactions, the positions it holds)."""
    with transaction.atomic():
        tx_ids = ChainEvent.objects.filter(wallet=wallet, transaction__isnull=False).values("transaction_id")
        Transaction.objects.filter(pk__in=tx_ids, source=Transaction.Source.CHAIN).delete()
        positions = SyncedPosition.objects.filter(wallet=wallet).values("position_id")
        Position.objects.filter(pk__in=positions).delete()
        portfolio_id = wallet.portfolio_id
        wallet.delete()
        portfolio_ledger_changed(portfolio_id=portfolio_id)


def wallet_sync_start(*, wallet: Wallet) -> WalletSync:
    """Queue a sync (the task is sent after commit). A sync already queued or running is returned instead."""
    run, created = wallet_sync_queue(wallet=wallet)
    if created:
        sync_wallet_task.delay_on_commit(sync_id=run.pk)
    return run
