"""Access-checked reads: one getter per type, always through the owner (another
user's id is a 404), and the lists of a user's or a portfolio's rows with the
index each one reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet, Sum
from django.shortcuts import get_object_or_404

from config.formatting import to_decimal
from portfolios.models import Leg, Portfolio, PortfolioSnapshot, Position, Transaction

#: ``request.user`` as views and the API hand it over (an anonymous user owns nothing:
#: the filters below compare ``user.pk``, None for an anonymous user).
RequestUser = AbstractBaseUser | AnonymousUser


def portfolio_list_for_user(*, user: RequestUser) -> QuerySet[Portfolio]:
    """The user's portfolios by name (index: portfolios_portfolio_owner_name_uniq)."""
    return Portfolio.objects.filter(owner_id=user.pk).select_related("owner")


def portfolio_get_for_user(*, user: RequestUser, portfolio_id: int) -> Portfolio:
    return get_object_or_404(Portfolio.objects.filter(owner_id=user.pk).select_related("owner"), pk=portfolio_id)


def position_get_for_user(*, user: RequestUser, position_id: int) -> Position:
    return get_object_or_404(
        Position.objects.filter(portfolio__owner_id=user.pk).select_related(
            "portfolio__owner", "pool__chain", "pool__protocol"
        ),
        pk=position_id,
    )


def transaction_get_for_user(*, user: RequestUser, transaction_id: int) -> Transaction:
    return get_object_or_404(
        Transaction.objects.filter(portfolio__owner_id=user.pk)
        .select_related("portfolio", "position")
        .prefetch_related(_legs_prefetch()),
        pk=transaction_id,
    )


def _legs_prefetch() -> Prefetch:
    return Prefetch("legs", queryset=Leg.objects.select_related("token__chain").order_by("id"))


def positions_for_portfolio(*, portfolio: Portfolio) -> QuerySet[Position]:
    """A portfolio's positions, newest first (index: portfolios_position_list_idx)."""
    return (
        Position.objects.filter(portfolio=portfolio)
        .select_related("pool__chain", "pool__protocol")
        .order_by("-opened_at", "-id")
    )


def positions_for_user(*, user: RequestUser, portfolio_id: int | None = None) -> QuerySet[Position]:
    query = Position.objects.filter(portfolio__owner_id=user.pk).select_related("pool__chain", "pool__protocol")
    if portfolio_id is not None:
        query = query.filter(portfolio_id=portfolio_id)
    return query.order_by("-opened_at", "-id")


def transactions_for_user(
    *,
    user: RequestUser,
    portfolio_id: int | None = None,
    position_id: int | None = None,
    kind: str | None = None,
    hidden: bool | None = False,
) -> QuerySet[Transaction]:
    """The user's transactions newest first, legs prefetched (index: portfolios_txn_list_idx;
    with a position: portfolios_txn_position_idx): those that count, with ``hidden=True`` only
    the hidden ones, with ``hidden=None`` all."""
    query = Transaction.objects.filter(portfolio__owner_id=user.pk)
    if hidden is not None:
        query = query.filter(hidden=hidden)
    if portfolio_id is not None:
        query = query.filter(portfolio_id=portfolio_id)
    if position_id is not None:
        query = query.filter(position_id=position_id)
    if kind:
        query = query.filter(kind=kind)
    return query.prefetch_related(_legs_prefetch()).order_by("-occurred_at", "-id")


def transactions_for_portfolio(*, portfolio: Portfolio, with_hidden: bool = False) -> QuerySet[Transaction]:
    """A portfolio's transactions newest first: those that count, or all of them (``with_hidden``)."""
    query = Transaction.objects.filter(portfolio=portfolio)
    if not with_hidden:
        query = query.counted()
    return query.select_related("position").prefetch_related(_legs_prefetch()).order_by("-occurred_at", "-id")


def transactions_hidden_count(*, portfolio: Portfolio) -> int:
    """How many of a portfolio's transactions are hidden (the list's "Show hidden (N)")."""
    return Transaction.objects.filter(portfolio=portfolio, hidden=True).count()


def portfolio_value_history(*, portfolio: Portfolio, since: date | None = None) -> QuerySet[PortfolioSnapshot]:
    """Daily snapshots, oldest first (index: portfolios_snapshot_portfolio_day_uniq)."""
    query = PortfolioSnapshot.objects.filter(portfolio=portfolio)
    if since is not None:
        query = query.filter(day__gte=since)
    return query.order_by("day")


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    day: date
    value: Decimal
    deposited: Decimal


def portfolios_value_history(*, portfolios: Sequence[Portfolio], since: date | None = None) -> list[HistoryPoint]:
    """The daily snapshots of several portfolios summed by day, oldest first: one
    query (``GROUP BY day``; index portfolios_snapshot_portfolio_day_uniq), whatever
    the number of portfolios. A day sums the portfolios that have a snapshot then."""
    query = PortfolioSnapshot.objects.filter(portfolio_id__in=[p.pk for p in portfolios])
    if since is not None:
        query = query.filter(day__gte=since)
    rows = query.order_by().values("day").annotate(v=Sum("value"), d=Sum("deposited")).order_by("day")
    # A day's sums cover at least one snapshot, so they are never NULL.
    return [HistoryPoint(r["day"], to_decimal(r["v"]) or Decimal(0), to_decimal(r["d"]) or Decimal(0)) for r in rows]


def portfolio_ids_all() -> list[int]:
    """Every portfolio's id in id order (the nightly fan-out chunks these)."""
    return list(Portfolio.objects.order_by("pk").values_list("pk", flat=True))
