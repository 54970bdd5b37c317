"""Figures for pages, the API and the nightly jobs, from the bulk loader
(``selectors.loader``) and the pure ``portfolios.analytics``: portfolio and user
summaries (now, or at many day closes at once), a position's analytics, its
daily value-vs-HODL series, and the position page's report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from config.formatting import to_decimal
from pools.models import TokenPrice
from portfolios import analytics as an
from portfolios.models import Portfolio, Position
from portfolios.selectors.loader import (
    Moment,
    complete_moments,
    day_close,
    load,
    moment_at,
    read_rows,
    token_quotes_at,
    year_start,
)


def _summaries(portfolios: Sequence[Portfolio], moment: Moment, *, detail: bool) -> dict[int, an.PortfolioSummary]:
    as_of = moment.as_of
    out = {}
    for portfolio in portfolios:
        data = moment.loaded[portfolio.pk]
        analytics = [
            an.analyse_position(p, as_of=as_of, yields=data.yields.get(p.id, {}), detail=detail) for p in data.positions
        ]
        holdings = an.holdings_from_transactions(data.transactions, data.asset_prices, data.pegged, data.price_times)
        income = an.income_between(data.transactions, year_start(portfolio.owner, as_of), as_of)
        out[portfolio.pk] = an.summarise_portfolio(
            analytics, holdings, as_of=as_of, income_ytd=income, portfolio_id=portfolio.pk, name=portfolio.name
        )
    return out


def portfolio_summaries(
    *, portfolios: Sequence[Portfolio], as_of: datetime | None = None, at_close: bool = False, detail: bool = True
) -> dict[int, an.PortfolioSummary]:
    """Summaries of many portfolios in one batch of reads (``selectors.loader``).
    ``at_close``: value with the stored daily prices at ``as_of`` (snapshots).
    ``detail=False``: totals only (``analytics.analyse_position``), for the nightly jobs."""
    as_of = as_of or timezone.now()
    moment = load(portfolio_ids=[p.pk for p in portfolios], as_of=as_of, at_close=at_close)
    return _summaries(portfolios, moment, detail=detail)


def portfolio_summaries_at_closes(
    *, portfolios: Sequence[Portfolio], days: Iterable[date], detail: bool = False
) -> dict[date, dict[int, an.PortfolioSummary]]:
    """What ``portfolio_summaries(as_of=day_close(day), at_close=True)`` gives for each
    day, for many days in one batch of reads: the reads of ``loader.read_rows`` once (up to
    the last close), the stored prices once (the nearest at the first close, then
    every later row up to the last close, replayed day by day), one read of prices
    at transactions and one of the yield windows for all the days together.

    A backfill of a year of snapshots (the demo) is then a few queries instead of
    a dozen per day, with the same figures to the last digit."""
    days = sorted(set(days))
    if not days or not portfolios:
        return {}
    ids = [p.pk for p in portfolios]
    first, last = day_close(days[0]), day_close(days[-1])
    rows = read_rows(portfolio_ids=ids, until=last)
    quotes = token_quotes_at(rows.quotes.keys(), first)
    later = []
    if len(days) > 1 and rows.quotes:
        later = list(
            TokenPrice.objects.filter(token_id__in=sorted(rows.quotes), timestamp__gt=first, timestamp__lte=last)
            .order_by("timestamp", "token_id")
            .values_list("token_id", "timestamp", "price_usd")
        )
    moments = []
    i = 0
    for day in days:
        close = day_close(day)
        while i < len(later) and later[i][1] <= close:
            token_id, ts, price = later[i]
            quotes[token_id] = (to_decimal(price), ts)
            i += 1
        moments.append(moment_at(rows, portfolio_ids=ids, as_of=close, quotes=dict(quotes)))
    complete_moments(rows, moments)
    return {day: _summaries(portfolios, m, detail=detail) for day, m in zip(days, moments, strict=True)}


def portfolio_summary(*, portfolio: Portfolio, as_of: datetime | None = None) -> an.PortfolioSummary:
    """Dashboard figures of one portfolio: totals, allocations, every position's analytics."""
    return portfolio_summaries(portfolios=[portfolio], as_of=as_of)[portfolio.pk]


def _position_moment(*, position: Position, as_of: datetime, prices: Mapping[str, Decimal] | None = None) -> Moment:
    return load(portfolio_ids=[position.portfolio_id], as_of=as_of, position_ids=[position.pk], price_overrides=prices)


def position_data(
    *, position: Position, as_of: datetime | None = None, prices: Mapping[str, Decimal] | None = None
) -> tuple[an.PositionData, dict[tuple[date, date], an.YieldStats]]:
    """The analytics input of one position (and its pool yield windows). ``prices``
    (asset -> USD) replace the current prices, e.g. a withdrawal's own prices."""
    moment = _position_moment(position=position, as_of=as_of or timezone.now(), prices=prices)
    return moment.data[position.pk], moment.loaded[position.portfolio_id].yields.get(position.pk, {})


def position_analytics(*, position: Position, as_of: datetime | None = None) -> an.PositionAnalytics:
    """Every figure of one position (see ``portfolios.analytics``)."""
    as_of = as_of or timezone.now()
    data, yields = position_data(position=position, as_of=as_of)
    return an.analyse_position(data, as_of=as_of, yields=yields)


def position_value_series(*, position: Position, until: date | None = None) -> list[an.SeriesPoint]:
    """Daily value of the position under its model vs. holding, from its stored daily
    prices (one read of prices for its tokens over its life)."""
    moment = _position_moment(position=position, as_of=timezone.now())
    return _value_series(position=position, moment=moment, until=until)


@dataclass(frozen=True)
class PositionReport:
    analytics: an.PositionAnalytics
    series: list[an.SeriesPoint]


def position_report(*, position: Position, as_of: datetime | None = None) -> PositionReport:
    """The position page: every figure and the daily value-vs-HODL series from one
    load of the position's data (``loader.load``) plus one read of its tokens' daily
    prices - the same number of queries however many transactions it has."""
    as_of = as_of or timezone.now()
    moment = _position_moment(position=position, as_of=as_of)
    data = moment.data[position.pk]
    analytics = an.analyse_position(
        data, as_of=as_of, yields=moment.loaded[position.portfolio_id].yields.get(position.pk, {})
    )
    return PositionReport(analytics, _value_series(position=position, moment=moment))


def _value_series(*, position: Position, moment: Moment, until: date | None = None) -> list[an.SeriesPoint]:
    """``analytics.position_value_series`` on the stored daily closes of the position's
    model tokens (one query), the last price carried over days without one; a
    stablecoin without a price from the last ``PEG_MAX_AGE`` days is at its peg."""
    data = moment.data[position.pk]
    order = an.token_order(data)
    token_ids = {a: t for a, t in moment.position_assets[position.pk].items() if a in order}
    start_day = position.opened_at.astimezone(UTC).date()
    end_day = until or (position.closed_at or timezone.now()).astimezone(UTC).date()
    by_id = {t: a for a, t in token_ids.items()}
    # From a week before the opening, so the first days have a price to carry over.
    lookback = datetime.combine(start_day, datetime.min.time(), tzinfo=UTC) - an.PEG_MAX_AGE
    rows = (
        TokenPrice.objects.filter(
            token_id__in=list(by_id),
            timestamp__gte=lookback,
            timestamp__lt=datetime.combine(end_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
        )
        .order_by("timestamp")
        .values_list("token_id", "timestamp", "price_usd")
    )
    daily: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for token_id, ts, price in rows:
        daily[ts.astimezone(UTC).date()][by_id[token_id]] = price
    stable = {a for a in token_ids if a in data.stablecoins}
    # The chart ends at the last real price: a token's price is carried over gaps in its
    # history, never past its newest stored price (no flat line from there to today).
    newest: dict[str, date] = {a: t.astimezone(UTC).date() for a, t in data.price_times.items()}  # latest quotes
    for day_, quotes in daily.items():
        for asset in quotes:
            if day_ > newest.get(asset, date.min):
                newest[asset] = day_
    filled: dict[date, dict[str, Decimal]] = {}
    last: dict[str, Decimal] = {}
    last_day: dict[str, date] = {}
    day = min([start_day, *daily])
    while day <= end_day:
        for asset, price in daily.get(day, {}).items():
            last[asset] = price
            last_day[asset] = day
        if day >= start_day:
            prices = {a: p for a, p in last.items() if a in stable or day <= newest[a]}
            for asset in stable:
                if asset not in last_day or day - last_day[asset] > an.PEG_MAX_AGE:
                    prices[asset] = an.STABLECOIN_PEG
            if prices:
                filled[day] = prices
        day += timedelta(days=1)
    return an.position_value_series(data, filled, until=end_day)
