"""The dashboard (every portfolio of the user, or the only one) and a portfolio's page:
totals, allocations, the value history chart and the warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString

from config.charts import Series, bar_chart, line_chart
from portfolios.analytics import AllocationSlice, PortfolioSummary, PositionAnalytics
from portfolios.explain import StalePrice, dashboard_warnings, range_badge
from portfolios.ledger import token_asset
from portfolios.models import Portfolio, Position
from portfolios.selectors import (
    portfolio_get_for_user,
    portfolio_list_for_user,
    portfolio_summary_now,
    portfolios_value_history,
    stale_tokens,
    user_summary,
)
from portfolios.selectors.currency import display_currency_for
from portfolios.selectors.tokens import price_is_stale

KIND_LABELS = dict(Position.Kind.choices)
KIND_SHORT = {**KIND_LABELS, "concentrated_lp": "Concentrated LP"}  # bar chart labels stay short

HistoryRow = tuple[date, Decimal, Decimal]  # day, value, deposited


def _newest_quote(summary: PortfolioSummary) -> datetime | None:
    """The newest dated price behind the summary's value (open positions' tokens, loose holdings)."""
    quotes = [t.priced_at for a in summary.positions if a.is_open for t in a.tokens if t.priced_at]
    quotes += [h.priced_at for h in summary.holdings if h.priced_at]
    return max(quotes, default=None)


def _history_points(portfolios: Sequence[Portfolio], summary: PortfolioSummary) -> tuple[list[HistoryRow], date | None]:
    """(day, value, deposited) of the daily snapshots of one or several portfolios (summed
    by day, one query), ending with today's live figures once there is any history to extend -
    or, when even the newest price is stale, ending on that price's day (no flat line to today;
    the second value is then that day)."""
    points = [(p.day, p.value, p.deposited) for p in portfolios_value_history(portfolios=portfolios)]
    today = summary.as_of.astimezone(UTC).date()  # snapshot days are UTC days
    newest = _newest_quote(summary)
    if points and newest is not None and price_is_stale(priced_at=newest, now=summary.as_of):
        end = newest.astimezone(UTC).date()
        return [p for p in points if p[0] <= end], end
    if points and points[-1][0] < today:
        points.append((today, summary.value, summary.deposited))
    return points, None


def _allocation_chart(slices: Sequence[AllocationSlice], title: str) -> SafeString:
    return bar_chart([(s.key or "Other", s.value) for s in slices], title=title)


@dataclass
class PositionRow:
    a: PositionAnalytics
    kind_label: str
    badge: dict[str, str] | None


#: Position rows per page of the dashboard's open and closed tables: a portfolio of hundreds
#: of positions reads (and renders) a page at a time; the totals and charts cover them all.
ROWS_PER_PAGE = 50


def _rows_page(positions: Sequence[PositionAnalytics], number: str | None) -> Page:
    """One page of the table (the rows of that page only are built)."""
    page = Paginator(positions, ROWS_PER_PAGE).get_page(number)
    rows: list[PositionRow] = [PositionRow(a, KIND_LABELS.get(a.kind, a.kind), range_badge(a)) for a in page]
    page.object_list = rows  # type: ignore[assignment]  # the template reads rows, not analytics
    return page


def _dashboard_context(
    *,
    request: HttpRequest,
    summary: PortfolioSummary,
    portfolios: list[Portfolio],
    current: Portfolio | None,
    history: list[HistoryRow],
    history_ends: date | None = None,
) -> dict[str, object]:
    # A held token whose latest price is older than PRICE_STALE_AFTER_HOURS is flagged.
    stale_after = timedelta(hours=settings.PRICE_STALE_AFTER_HOURS)
    stale = [
        StalePrice(t.symbol or t.address[:10], token_asset(t.symbol, t.address), t.last_price_at)
        for t in stale_tokens(portfolios=portfolios if current is None else [current], older_than=stale_after)
    ]
    value_chart = line_chart(
        [
            Series("Value", [(d, v) for d, v, _ in history], kind="area"),
            Series("Deposited", [(d, dep) for d, _, dep in history], dashed=True),
        ],
        title="Portfolio value over time",
        y_kind="usd",
    )
    return {
        "summary": summary,
        "portfolios": portfolios,
        "current": current,
        "open_rows": _rows_page([a for a in summary.positions if a.is_open], request.GET.get("open")),
        # One portfolio's open rows are rendered once per cached summary (and page, currency,
        # zone): the summary's ledger version and time name it. None: rendered every time.
        "rows_cache_key": (
            f"{current.pk}.{current.ledger_version.hex}.{summary.as_of.timestamp()}" if current is not None else None
        ),
        "rows_cache_seconds": settings.PORTFOLIO_SUMMARY_CACHE_SECONDS,
        "closed_rows": _rows_page([a for a in summary.positions if not a.is_open], request.GET.get("closed")),
        "warnings": dashboard_warnings(summary, stale, stale_after=stale_after),
        "value_chart": value_chart,
        "history": history,
        "history_days": len(history),
        "history_ends": history_ends,
        "charts": [
            ("By chain", _allocation_chart(summary.by_chain, "Allocation by chain")),
            ("By protocol", _allocation_chart(summary.by_protocol, "Allocation by protocol")),
            ("By asset", _allocation_chart(summary.by_asset, "Allocation by asset")),
            (
                "By kind",
                _allocation_chart(
                    [AllocationSlice(KIND_SHORT.get(s.key, s.key), s.value, s.share) for s in summary.by_kind],
                    "Allocation by kind",
                ),
            ),
        ],
        "pnl_pct": (summary.pnl / summary.deposited) if summary.deposited else None,
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    portfolios = list(portfolio_list_for_user(user=request.user))
    if not portfolios:
        return render(request, "portfolios/empty.html", {})
    current: Portfolio | None
    if len(portfolios) == 1:
        current = portfolios[0]
        summary = portfolio_summary_now(portfolio=current)
    else:
        current = None
        summary = user_summary(user=request.user).total
    history, history_ends = _history_points(portfolios if current is None else [current], summary)
    context = _dashboard_context(
        request=request,
        summary=summary, portfolios=portfolios, current=current, history=history, history_ends=history_ends
    )
    context["fx"] = display_currency_for(user=request.user)
    return render(request, "portfolios/dashboard.html", context)


@login_required
def portfolio_detail(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    portfolios = list(portfolio_list_for_user(user=request.user))
    summary = portfolio_summary_now(portfolio=portfolio)
    history, history_ends = _history_points([portfolio], summary)
    context = _dashboard_context(
        request=request,
        summary=summary, portfolios=portfolios, current=portfolio, history=history, history_ends=history_ends
    )
    context["fx"] = display_currency_for(user=request.user)
    return render(request, "portfolios/dashboard.html", context)


def tax(request: HttpRequest) -> HttpResponse:
    """The old placeholder address: tax reports live at /tax/ now."""
    return redirect("tax:home", permanent=True)
