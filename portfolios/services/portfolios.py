"""Writes of portfolios: create, rename, delete (with everything in them)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from portfolios.models import Portfolio
from portfolios.services.changes import portfolio_ledger_changed


def portfolio_create(*, owner: User, name: str) -> Portfolio:
    portfolio = Portfolio(owner=owner, name=(name or "").strip())
    portfolio.full_clean()
    portfolio.save()
    return portfolio


@transaction.atomic
def portfolio_update(*, portfolio: Portfolio, name: str) -> Portfolio:
    locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
    locked.name = (name or "").strip()
    locked.full_clean()
    locked.save(update_fields=["name", "updated_at"])
    portfolio_ledger_changed(portfolio_id=locked.pk, revalue=False)  # the summaries carry the name
    portfolio.name = locked.name
    return locked


@transaction.atomic
def portfolio_delete(*, portfolio: Portfolio) -> None:
    """Delete a portfolio with its positions, transactions and history."""
    locked = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
    locked.delete()
