"""Portfolio figures "now" through the summary cache (``PORTFOLIO_SUMMARY_CACHE_SECONDS``).

A summary is stored under its portfolio's ``ledger_version``, which the write services
renew in the database transaction of every change (``services.changes``): once a change
is visible, the summary computed before it is never read again. Prices move the figures
within the cache's lifetime (prices themselves refresh every 5 minutes).

Each summary is stored in two parts: its *head* (totals, allocations, holdings, warnings,
and a :class:`Digest` of what the dashboard reads of every position) and its *positions*.
A dashboard page whose rows are already rendered (``views.dashboard``) reads the head
only; unpickling 500 positions' analytics (~20,000 Decimals) was a third of the page.
With Redis down every read misses and the figures are computed, as without a cache.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from portfolios import analytics as an
from portfolios.explain import out_of_range_warnings
from portfolios.models import Portfolio
from portfolios.selectors.access import RequestUser, portfolio_list_for_user
from portfolios.selectors.summaries import portfolio_summaries


@dataclass(frozen=True)
class Digest:
    """What the dashboard reads of every position, worked out when the summary is."""

    open_count: int
    closed_count: int
    newest_quote: datetime | None  # the newest dated price behind the value (open positions, holdings)
    out_of_range: tuple[str, ...]  # explain.out_of_range_warnings

    @classmethod
    def of(cls, summary: an.PortfolioSummary) -> Digest:
        quotes = [t.priced_at for a in summary.positions if a.is_open for t in a.tokens if t.priced_at]
        quotes += [h.priced_at for h in summary.holdings if h.priced_at]
        open_count = sum(1 for a in summary.positions if a.is_open)
        return cls(
            open_count=open_count,
            closed_count=len(summary.positions) - open_count,
            newest_quote=max(quotes, default=None),
            out_of_range=tuple(out_of_range_warnings(summary.positions)),
        )


@dataclass(frozen=True)
class DashboardFigures:
    """A portfolio's summary for the dashboard: ``summary`` may come without its positions
    (read from the cache); ``positions()`` reads them when a page needs rows it has not
    rendered yet."""

    summary: an.PortfolioSummary
    digest: Digest
    positions: Callable[[], tuple[an.PositionAnalytics, ...]]
    cache_key: str | None  # names this summary (rendered rows are cached under it); None: not cached


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Unpickling a cached summary creates tens of thousands of objects; with the collector
    running it starts several collections mid-way, full ones included, which made the
    slowest reads of the dashboard 4 times the median. Paused for the read only: what was
    created is collected afterwards as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _key(portfolio: Portfolio) -> str:
    # The owner's zone decides where "this year" starts (income_ytd).
    zone = getattr(portfolio.owner, "timezone", "") or "UTC"
    return f"portfolio-summary:v2:{portfolio.pk}:{portfolio.ledger_version.hex}:{zone}"


def _store(fresh: dict[int, an.PortfolioSummary], keys: dict[int, str]) -> None:
    entries: dict[str, object] = {}
    for pk, summary in fresh.items():
        entries[f"{keys[pk]}:head"] = (replace(summary, positions=()), Digest.of(summary))
        entries[f"{keys[pk]}:positions"] = summary.positions
    cache.set_many(entries, settings.PORTFOLIO_SUMMARY_CACHE_SECONDS)


def portfolio_summaries_now(*, portfolios: Sequence[Portfolio]) -> dict[int, an.PortfolioSummary]:
    """``portfolio_summaries`` now, through the summary cache: a portfolio whose ledger
    version is the one a summary was stored under gets that summary (its ``as_of`` says
    when it was computed); the others are computed in one batch and stored.
    ``portfolios`` must have been read from the database in this request (their
    ``ledger_version`` is the key)."""
    if not portfolios:
        return {}
    if not settings.PORTFOLIO_SUMMARY_CACHE_SECONDS:
        return portfolio_summaries(portfolios=portfolios)
    keys = {p.pk: _key(p) for p in portfolios}
    wanted = [f"{key}:{part}" for key in keys.values() for part in ("head", "positions")]
    with _collector_paused():
        found = cache.get_many(wanted)
    out = {}
    for pk, key in keys.items():
        head, positions = found.get(f"{key}:head"), found.get(f"{key}:positions")
        if head is not None and positions is not None:
            out[pk] = replace(head[0], positions=positions)
    missing = [p for p in portfolios if p.pk not in out]
    if missing:
        fresh = portfolio_summaries(portfolios=missing)
        _store(fresh, keys)
        out.update(fresh)
    return out


def portfolio_summary_now(*, portfolio: Portfolio) -> an.PortfolioSummary:
    """One portfolio's ``portfolio_summaries_now`` (the API's summary)."""
    return portfolio_summaries_now(portfolios=[portfolio])[portfolio.pk]


def portfolio_dashboard_now(*, portfolio: Portfolio) -> DashboardFigures:
    """The dashboard's figures of one portfolio: the cached head when there is one (its
    positions read only if asked for), else the summary computed and stored."""
    if settings.PORTFOLIO_SUMMARY_CACHE_SECONDS:
        key = _key(portfolio)
        with _collector_paused():
            head = cache.get(f"{key}:head")
        if head is not None:
            summary, digest = head

            def positions() -> tuple[an.PositionAnalytics, ...]:
                with _collector_paused():
                    stored = cache.get(f"{key}:positions")
                if stored is None:  # evicted on its own: computed again (and stored again)
                    stored = portfolio_summaries_now(portfolios=[portfolio])[portfolio.pk].positions
                return stored

            return DashboardFigures(summary, digest, positions, key)
    summary = portfolio_summary_now(portfolio=portfolio)
    cache_key = _key(portfolio) if settings.PORTFOLIO_SUMMARY_CACHE_SECONDS else None
    return DashboardFigures(summary, Digest.of(summary), lambda: summary.positions, cache_key)


@dataclass(frozen=True)
class UserSummary:
    total: an.PortfolioSummary  # over every portfolio of the user
    portfolios: tuple[an.PortfolioSummary, ...]


def user_summary(*, user: RequestUser, as_of: datetime | None = None) -> UserSummary:
    """Every portfolio of the user and their total: at ``as_of``, or now through the summary
    cache (``portfolio_summaries_now``) when ``as_of`` is None."""
    portfolios = list(portfolio_list_for_user(user=user))
    if as_of is None:
        as_of = timezone.now()
        summaries = portfolio_summaries_now(portfolios=portfolios)
    else:
        summaries = portfolio_summaries(portfolios=portfolios, as_of=as_of) if portfolios else {}
    ordered = tuple(summaries[p.pk] for p in portfolios)
    return UserSummary(total=an.combine_summaries(ordered, as_of=as_of), portfolios=ordered)
