"""Derived figures written by the Celery tasks: the latest valuation of each
portfolio (``Portfolio.value``, ``pnl``...) and the daily ``PortfolioSnapshot``
rows. Each is one batch of reads (``portfolios.selectors.summaries``) and one
bulk write, and safe to run twice.

``portfolios.tasks`` calls these; nothing here enqueues a task (so the tasks
module and this one do not import each other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from portfolios.analytics import PortfolioSummary
from portfolios.models import Portfolio, PortfolioSnapshot
from portfolios.selectors import (
    day_close,
    portfolio_summaries,
    portfolio_summaries_at_closes,
    portfolio_summaries_now,
)
from portfolios.services.legs import q18


def portfolio_revalue(*, portfolio_ids: Sequence[int], warm: bool = False) -> int:
    """Recompute the latest valuation of portfolios (``Portfolio.value``, ``pnl``...)
    in one batch of reads and one bulk update. Safe to run twice.

    ``warm`` (the revaluation a write enqueues for its portfolio): compute the dashboard's
    full summary through the summary cache instead (``selectors.portfolio_summaries_now``),
    so the owner's next dashboard view after the change finds it ready. With the cache off
    there is nothing to warm: the cheaper totals-only summaries are computed."""
    portfolios = list(Portfolio.objects.filter(pk__in=list(portfolio_ids)).select_related("owner"))
    if not portfolios:
        return 0
    now = timezone.now()
    if warm and settings.PORTFOLIO_SUMMARY_CACHE_SECONDS:
        summaries = portfolio_summaries_now(portfolios=portfolios)
    else:
        summaries = portfolio_summaries(portfolios=portfolios, as_of=now, detail=False)
    rows = []
    for p in portfolios:
        s = summaries[p.pk]
        rows.append((_money(s.value), _money(s.deposited), _money(s.pnl), _money(s.income_ytd), s.as_of, p.pk))
    # One statement per row, sent together (psycopg pipelines executemany): far cheaper
    # than bulk_update's CASE WHEN for a few hundred rows. No lock is needed: the figures
    # are derived data and the last writer has the newest.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {Portfolio._meta.db_table} SET value = %s, deposited = %s, pnl = %s, income_ytd = %s, "  # noqa: S608
            "valued_at = %s WHERE id = %s",
            rows,
        )
    return len(portfolios)


def _money(value: Decimal) -> Decimal:
    return q18(value)


def portfolio_snapshots_write(*, day: date, portfolio_ids: Sequence[int] | None = None) -> int:
    """Upsert ``PortfolioSnapshot(portfolio, day)`` for the given portfolios (all when
    None) valued at the close of ``day`` (UTC): that day's closing prices and the
    transactions up to its end. One batch of reads and one INSERT ... ON CONFLICT;
    a rerun writes the same figures (nothing changes)."""
    portfolios = _snapshot_portfolios(portfolio_ids)
    if not portfolios:
        return 0
    summaries = portfolio_summaries(portfolios=portfolios, as_of=day_close(day), at_close=True, detail=False)
    return _snapshots_upsert(portfolios=portfolios, by_day={day: summaries})


def portfolio_snapshots_backfill(*, first: date, last: date, portfolio_ids: Sequence[int] | None = None) -> int:
    """``portfolio_snapshots_write`` for every day from ``first`` to ``last``
    (inclusive) at once: one batch of reads for all the days
    (``selectors.portfolio_summaries_at_closes``) and ONE upsert of every row, the
    same figures as writing the days one by one. Returns the rows written.

    For a handful of portfolios over a long period (the demo's year); the memory it
    takes grows with portfolios x days, so the nightly job keeps one day per call."""
    portfolios = _snapshot_portfolios(portfolio_ids)
    if last < first or not portfolios:
        return 0
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    by_day = portfolio_summaries_at_closes(portfolios=portfolios, days=days, detail=False)
    return _snapshots_upsert(portfolios=portfolios, by_day=by_day)


def _snapshot_portfolios(portfolio_ids: Sequence[int] | None) -> list[Portfolio]:
    query = Portfolio.objects.select_related("owner").order_by("pk")
    if portfolio_ids is not None:
        query = query.filter(pk__in=list(portfolio_ids))
    return list(query)


def _snapshots_upsert(*, portfolios: Sequence[Portfolio], by_day: Mapping[date, Mapping[int, PortfolioSummary]]) -> int:
    rows = [
        PortfolioSnapshot(
            portfolio=p,
            day=day,
            value=_money(s.value),
            deposited=_money(s.deposited),
            pnl=_money(s.pnl),
            income_ytd=_money(s.income_ytd),
        )
        for day, summaries in sorted(by_day.items())
        for p in portfolios
        for s in [summaries[p.pk]]
    ]
    PortfolioSnapshot.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["portfolio", "day"],
        update_fields=["value", "deposited", "pnl", "income_ytd"],
    )
    return len(rows)
