"""Reactions to the pools app's signals: enqueue an evaluation once the refresh's data is committed."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from alerts.tasks import evaluate_alerts, evaluate_alerts_for_tokens
from pools.signals import pools_refreshed, prices_refreshed
from portfolios.wallets.signals import wallet_synced


@receiver(pools_refreshed, dispatch_uid="alerts.after_pools_refresh")
def after_pools_refresh(sender: Any, pool_ids: list[int], rescored_all: bool = False, **kwargs: Any) -> None:
    if pool_ids or rescored_all:
        evaluate_alerts.delay_on_commit(pool_ids=list(pool_ids), rescored_all=rescored_all)


@receiver(prices_refreshed, dispatch_uid="alerts.after_prices_refresh")
def after_prices_refresh(sender: Any, token_ids: list[int], **kwargs: Any) -> None:
    if token_ids:
        evaluate_alerts_for_tokens.delay_on_commit(token_ids=list(token_ids))


@receiver(wallet_synced, dispatch_uid="alerts.after_wallet_sync")
def after_wallet_sync(sender: Any, portfolio_id: int, pool_ids: list[int], **kwargs: Any) -> None:
    """A sync may have opened, moved or closed positions: their pools' rules are checked again."""
    if pool_ids:
        evaluate_alerts.delay_on_commit(pool_ids=list(pool_ids))
