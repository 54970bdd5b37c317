"""The dashboard (every portfolio of the user, or the only one) and a portfolio's page:
totals, allocations, the value history chart and the warnings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from config.charts import Series, bar_chart, line_chart
from portfolios.analytics import AllocationSlice, PortfolioSummary, PositionAnalytics
from portfolios.explain import StalePrice, dashboard_warnings, range_badge
from portfolios.ledger import token_asset
from portfolios.models import Portfolio, Position
from portfolios.selectors import (
    DashboardFigures,
    Digest,
    portfolio_dashboard_now,
    portfolio_get_for_user,
    portfolio_list_for_user,
    portfolios_value_history,
    stale_tokens,
    user_summary,
)
from portfolios.selectors.currency import DisplayCurrency, display_currency_for
from portfolios.selectors.tokens import price_is_stale

KIND_LABELS = dict(Position.Kind.choices)
KIND_SHORT = {**KIND_LABELS, "concentrated_lp": "Concentrated LP"}  # bar chart labels stay short

HistoryRow = tuple[date, Decimal, Decimal]  # day, value, deposited


def _history_points(
    portfolios: Sequence[Portfolio], summary: PortfolioSummary, newest: datetime | None
) -> tuple[list[HistoryRow], date | None]:
    """(day, value, deposited) of the daily snapshots of one or several portfolios (summed
    by day, one query), ending with today's live figures once there is any history to extend -
    or, when even the newest price behind the value (``newest``) is stale, ending on that
    price's day (no flat line to today; the second value is then that day)."""
    points = [(p.day, p.value, p.deposited) for p in portfolios_value_history(portfolios=portfolios)]
    today = summary.as_of.astimezone(UTC).date()  # snapshot days are UTC days
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


def _rows(
    request: HttpRequest, figures: DashboardFigures, fx: DisplayCurrency, *, is_open: bool
) -> tuple[Page, SafeString]:
    """One page of the open (or closed) positions table: the page (of row numbers) for the
    pager, and the table's HTML. A cached summary's pages are rendered once per page,
    currency and time zone: the rows then need neither the positions nor the template."""
    digest = figures.digest
    page = Paginator(range(digest.open_count if is_open else digest.closed_count), ROWS_PER_PAGE).get_page(
        request.GET.get("open" if is_open else "closed")
    )
    if not page.paginator.count:
        return page, SafeString("")
    key = None
    if figures.cache_key is not None:
        zone = timezone.get_current_timezone_name()
        key = (f"dashboard-rows:v1:{figures.cache_key}:{figures.summary.as_of.timestamp()}:"
               f"{'open' if is_open else 'closed'}:{page.number}:{fx.code}:{fx.rate}:{fx.day}:{zone}")
        html = cache.get(key)
        if html is not None:
            return page, mark_safe(html)  # noqa: S308 - our own rendering of this portfolio's rows, stored above
    chosen = [a for a in figures.positions() if a.is_open == is_open]
    rows = [
        PositionRow(a, KIND_LABELS.get(a.kind, a.kind), range_badge(a))
        for a in chosen[page.start_index() - 1 : page.end_index()]
    ]
    caption = "Open positions" if is_open else "Closed positions"
    html = render_to_string("portfolios/_positions_table.html", {"rows": rows, "fx": fx, "caption": caption})
    if key is not None:
        cache.set(key, str(html), settings.PORTFOLIO_SUMMARY_CACHE_SECONDS)
    return page, SafeString(html)


def _dashboard_context(
    *,
    request: HttpRequest,
    figures: DashboardFigures,
    portfolios: list[Portfolio],
    current: Portfolio | None,
) -> dict[str, object]:
    summary = figures.summary
    fx = display_currency_for(user=request.user)
    history, history_ends = _history_points(
        portfolios if current is None else [current], summary, figures.digest.newest_quote
    )
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
    open_rows, open_html = _rows(request, figures, fx, is_open=True)
    closed_rows, closed_html = _rows(request, figures, fx, is_open=False)
    return {
        "summary": summary,
        "fx": fx,
        "portfolios": portfolios,
        "current": current,
        "open_rows": open_rows,
        "open_rows_html": open_html,
        "closed_rows": closed_rows,
        "closed_rows_html": closed_html,
        "warnings": dashboard_warnings(
            summary, stale, stale_after=stale_after, out_of_range=figures.digest.out_of_range
        ),
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


def _all_portfolios(request: HttpRequest) -> DashboardFigures:
    total = user_summary(user=request.user).total
    return DashboardFigures(total, Digest.of(total), lambda: total.positions, None)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    portfolios = list(portfolio_list_for_user(user=request.user))
    if not portfolios:
        return render(request, "portfolios/empty.html", {})
    current = portfolios[0] if len(portfolios) == 1 else None
    figures = portfolio_dashboard_now(portfolio=current) if current is not None else _all_portfolios(request)
    context = _dashboard_context(request=request, figures=figures, portfolios=portfolios, current=current)
    return render(request, "portfolios/dashboard.html", context)


@login_required
def portfolio_detail(request: HttpRequest, portfolio_id: int) -> HttpResponse:
    portfolio = portfolio_get_for_user(user=request.user, portfolio_id=portfolio_id)
    portfolios = list(portfolio_list_for_user(user=request.user))
    context = _dashboard_context(
        request=request, figures=portfolio_dashboard_now(portfolio=portfolio), portfolios=portfolios,
        current=portfolio,
    )
    return render(request, "portfolios/dashboard.html", context)


def tax(request: HttpRequest) -> HttpResponse:
    """The old placeholder address: tax reports live at /tax/ now."""
    return redirect("tax:home", permanent=True)
