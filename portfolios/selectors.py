"""Every non-trivial read of the portfolios app (stub signatures; implementation follows)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from portfolios.models import Portfolio, Position, Transaction


def portfolio_list_for_user(*, user) -> QuerySet[Portfolio]:
    return Portfolio.objects.filter(owner=user)


def portfolio_get_for_user(*, user, portfolio_id: int) -> Portfolio:
    return get_object_or_404(Portfolio.objects.filter(owner=user), pk=portfolio_id)


def position_get_for_user(*, user, position_id: int) -> Position:
    return get_object_or_404(Position.objects.filter(portfolio__owner=user).select_related("portfolio", "pool"),
                             pk=position_id)


def transaction_get_for_user(*, user, transaction_id: int) -> Transaction:
    return get_object_or_404(Transaction.objects.filter(portfolio__owner=user).prefetch_related("legs__token"),
                             pk=transaction_id)


def positions_for_portfolio(*, portfolio: Portfolio) -> QuerySet[Position]:
    return Position.objects.filter(portfolio=portfolio).select_related("pool")


def position_analytics(*, position: Position):
    raise NotImplementedError


def portfolio_summary(*, portfolio: Portfolio):
    raise NotImplementedError


def user_summary(*, user):
    raise NotImplementedError


def portfolio_value_history(*, portfolio: Portfolio):
    raise NotImplementedError


def position_value_series(*, position: Position):
    raise NotImplementedError
