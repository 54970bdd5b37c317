"""Every non-trivial read of the portfolios app.

Access: one getter per type, always through the owner
(``portfolio_get_for_user``, ``position_get_for_user``,
``transaction_get_for_user``: 404 for anything that is not the user's).

Analytics: ``portfolio_summaries`` loads everything a batch of portfolios needs
in a constant number of queries, whatever the number of positions:

1. positions with pool, chain and protocol (one join);
2. the pools' underlying tokens (prefetch);
3. amount overrides with their tokens (prefetch);
4. transactions, 5. their legs with token price fields (two ``values`` reads);
6. pool snapshot aggregates (mean base / reward APY) for every window the
   analytics need, all pools in one ``GROUP BY`` over a ``VALUES`` list;
7. prices at transaction times a deposit/withdrawal does not carry itself
   (one correlated-subquery read, only when needed);
8. past prices of every token (one read, only for a valuation in the past,
   e.g. the daily snapshot) - otherwise ``Token.last_price_usd`` from (5).

and hands plain dataclasses to the pure ``portfolios.analytics``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from pools.models import Pool, PoolUnderlyingToken, Token, TokenPrice
from portfolios import analytics as an
from portfolios.analytics import ZERO
from portfolios.models import (
    Leg,
    Portfolio,
    PortfolioSnapshot,
    Position,
    PositionAmountOverride,
    Transaction,
)

#: Rows per VALUES statement (PostgreSQL allows 65,535 parameters per statement).
_VALUES_BATCH = 5000


# --------------------------------------------------------------------------- access


def portfolio_list_for_user(*, user) -> QuerySet[Portfolio]:
    """The user's portfolios by name (index: portfolios_portfolio_owner_name_uniq)."""
    return Portfolio.objects.filter(owner=user).select_related("owner")


def portfolio_get_for_user(*, user, portfolio_id: int) -> Portfolio:
    return get_object_or_404(Portfolio.objects.filter(owner=user).select_related("owner"), pk=portfolio_id)


def position_get_for_user(*, user, position_id: int) -> Position:
    return get_object_or_404(
        Position.objects.filter(portfolio__owner=user).select_related("portfolio__owner", "pool__chain",
                                                                      "pool__protocol"),
        pk=position_id,
    )


def transaction_get_for_user(*, user, transaction_id: int) -> Transaction:
    return get_object_or_404(
        Transaction.objects.filter(portfolio__owner=user).select_related("portfolio", "position")
        .prefetch_related(_legs_prefetch()),
        pk=transaction_id,
    )


def _legs_prefetch() -> Prefetch:
    return Prefetch("legs", queryset=Leg.objects.select_related("token__chain").order_by("id"))


def positions_for_portfolio(*, portfolio: Portfolio) -> QuerySet[Position]:
    """A portfolio's positions, newest first (index: portfolios_position_list_idx)."""
    return (Position.objects.filter(portfolio=portfolio)
            .select_related("pool__chain", "pool__protocol").order_by("-opened_at", "-id"))


def positions_for_user(*, user, portfolio_id: int | None = None) -> QuerySet[Position]:
    query = Position.objects.filter(portfolio__owner=user).select_related("pool__chain", "pool__protocol")
    if portfolio_id is not None:
        query = query.filter(portfolio_id=portfolio_id)
    return query.order_by("-opened_at", "-id")


def transactions_for_user(*, user, portfolio_id: int | None = None, position_id: int | None = None,
                          kind: str | None = None) -> QuerySet[Transaction]:
    """The user's transactions newest first, legs prefetched (index: portfolios_txn_list_idx;
    with a position: portfolios_txn_position_idx)."""
    query = Transaction.objects.filter(portfolio__owner=user)
    if portfolio_id is not None:
        query = query.filter(portfolio_id=portfolio_id)
    if position_id is not None:
        query = query.filter(position_id=position_id)
    if kind:
        query = query.filter(kind=kind)
    return query.prefetch_related(_legs_prefetch()).order_by("-occurred_at", "-id")


def transactions_for_portfolio(*, portfolio: Portfolio) -> QuerySet[Transaction]:
    return (Transaction.objects.filter(portfolio=portfolio).select_related("position")
            .prefetch_related(_legs_prefetch()).order_by("-occurred_at", "-id"))


def portfolio_value_history(*, portfolio: Portfolio, since: date | None = None) -> QuerySet[PortfolioSnapshot]:
    """Daily snapshots, oldest first (index: portfolios_snapshot_portfolio_day_uniq)."""
    query = PortfolioSnapshot.objects.filter(portfolio=portfolio)
    if since is not None:
        query = query.filter(day__gte=since)
    return query.order_by("day")


# --------------------------------------------------------------------------- prices


def token_price_at(*, token: Token, when: datetime, max_age: timedelta | None = None) -> Decimal | None:
    """USD price of ``token`` at ``when``: the stored daily price of that UTC day or the
    nearest earlier one (at most ``max_age`` old; ``pools.selectors.token_price_at``),
    else the token's latest quote when ``when`` is today (UTC)."""
    from pools.selectors import token_price_at as pools_token_price_at

    row = pools_token_price_at(token=token, when=when, max_age=max_age)
    if row is not None:
        return row.price_usd
    if token.last_price_usd is not None and when.astimezone(UTC).date() == timezone.now().astimezone(UTC).date():
        return token.last_price_usd
    return None


def token_for_symbol(*, symbol: str) -> Token | None:
    """The token a symbol most likely means (``pools.selectors.token_search``: most-used
    first), or None when we list no token with that symbol."""
    from pools.selectors import token_search

    return token_search(symbol=symbol).first()


def _prices_at(pairs: Sequence[tuple[int, datetime]]) -> list[Decimal | None]:
    """Nearest earlier stored price for each ``(token_id, moment)``, in one query."""
    out: list[Decimal | None] = []
    ops = connection.ops
    for start in range(0, len(pairs), _VALUES_BATCH):
        chunk = pairs[start:start + _VALUES_BATCH]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params: list = []
        for i, (token_id, moment) in enumerate(chunk):
            params += [i, token_id, ops.adapt_datetimefield_value(moment)]
        sql = (
            f"WITH v(k, token_id, ts) AS (VALUES {values}) "  # noqa: S608 - placeholders only
            "SELECT v.k, (SELECT tp.price_usd FROM pools_tokenprice tp WHERE tp.token_id = v.token_id "
            "AND tp.timestamp <= v.ts ORDER BY tp.timestamp DESC LIMIT 1) FROM v ORDER BY v.k"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = dict(cursor.fetchall())
        out += [an.to_decimal(found.get(i)) for i in range(len(chunk))]
    return out


def _token_prices_at(token_ids: Iterable[int], when: datetime) -> dict[int, Decimal | None]:
    """Every token's nearest earlier stored price at ``when`` (one query)."""
    ids = sorted(set(token_ids))
    if not ids:
        return {}
    latest = TokenPrice.objects.filter(token=OuterRef("pk"), timestamp__lte=when).order_by("-timestamp")
    rows = Token.objects.filter(pk__in=ids).annotate(p=Subquery(latest.values("price_usd")[:1])).values_list("pk", "p")
    return {pk: an.to_decimal(p) for pk, p in rows}


def _yield_stats(windows: Sequence[tuple[int, date, date]]) -> dict[tuple[int, date, date], an.YieldStats]:
    """Mean APYs of each pool's daily snapshots over ``[start, end)`` windows.

    One read of the snapshots of the pools involved, from each pool's earliest
    window start to its latest end (``VALUES`` join; index
    pools_snapshot_pool_day_uniq), then prefix sums in Python: every window
    costs two bisections, however many positions share a pool.
    """
    if not windows:
        return {}
    bounds: dict[int, tuple[date, date]] = {}
    for pool_id, start, end in windows:
        lo, hi = bounds.get(pool_id, (start, end))
        bounds[pool_id] = (min(lo, start), max(hi, end))
    ops = connection.ops
    series: dict[int, list[tuple]] = defaultdict(list)
    items = sorted(bounds.items())
    for first in range(0, len(items), _VALUES_BATCH):
        chunk = items[first:first + _VALUES_BATCH]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params: list = []
        for pool_id, (lo, hi) in chunk:
            params += [pool_id, ops.adapt_datefield_value(lo), ops.adapt_datefield_value(hi)]
        sql = (
            f"WITH v(pool_id, s, e) AS (VALUES {values}) "  # noqa: S608 - placeholders only
            "SELECT ps.pool_id, ps.day, ps.apy_base, ps.apy_reward, ps.apy FROM v "
            "JOIN pools_poolsnapshot ps ON ps.pool_id = v.pool_id AND ps.day >= v.s AND ps.day < v.e "
            "ORDER BY ps.pool_id, ps.day"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for pool_id, day, base, reward, apy in cursor.fetchall():
                if isinstance(day, str):  # SQLite
                    day = date.fromisoformat(day)
                series[pool_id].append((day, an.to_decimal(base), an.to_decimal(reward), an.to_decimal(apy)))
    prefix: dict[int, tuple[list[date], list[list[Decimal]], list[list[int]]]] = {}
    for pool_id, rows in series.items():
        days = [r[0] for r in rows]
        sums = [[ZERO] * (len(rows) + 1) for _ in range(3)]
        counts = [[0] * (len(rows) + 1) for _ in range(3)]
        for i, row in enumerate(rows):
            for f in range(3):
                value = row[f + 1]
                sums[f][i + 1] = sums[f][i] + (value if value is not None else ZERO)
                counts[f][i + 1] = counts[f][i] + (value is not None)
        prefix[pool_id] = (days, sums, counts)
    out: dict[tuple[int, date, date], an.YieldStats] = {}
    for key in windows:
        pool_id, start, end = key
        if pool_id not in prefix:
            continue
        days, sums, counts = prefix[pool_id]
        a, b = bisect_left(days, start), bisect_left(days, end)
        if b <= a:
            continue
        means = []
        for f in range(3):
            n = counts[f][b] - counts[f][a]
            means.append((sums[f][b] - sums[f][a]) / n if n else None)
        out[key] = an.YieldStats(days=b - a, apy_base=means[0], apy_reward=means[1], apy=means[2])
    return out


# --------------------------------------------------------------------------- loading


@dataclass
class _Loaded:
    portfolio_id: int
    positions: list[an.PositionData]
    transactions: list[an.TxData]
    asset_prices: dict[str, Decimal | None]  # for loose holdings
    yields: dict[int, dict[tuple[date, date], an.YieldStats]]  # position id -> windows


def _asset_name(symbol: str, address: str) -> str:
    return (symbol or address[:10]).strip().upper()


def _load(*, portfolio_ids: Sequence[int], as_of: datetime, at_close: bool = False,
          position_ids: Sequence[int] | None = None,
          price_overrides: Mapping[str, Decimal] | None = None) -> dict[int, _Loaded]:
    """Everything the analytics of these portfolios need, in a constant number of
    ``values`` reads (no model instances: this runs for every portfolio nightly)."""
    positions_q = Position.objects.filter(portfolio_id__in=portfolio_ids)
    tx_q = Transaction.objects.filter(portfolio_id__in=portfolio_ids, occurred_at__lte=as_of)
    leg_q = Leg.objects.filter(transaction__portfolio_id__in=portfolio_ids, transaction__occurred_at__lte=as_of)
    override_q = PositionAmountOverride.objects.filter(position__portfolio_id__in=portfolio_ids)
    if position_ids is not None:
        positions_q = positions_q.filter(pk__in=position_ids)
        tx_q = tx_q.filter(position_id__in=position_ids)
        leg_q = leg_q.filter(transaction__position_id__in=position_ids)
        override_q = override_q.filter(position_id__in=position_ids)
    position_rows = list(positions_q.order_by("-opened_at", "-id").values_list(
        "id", "portfolio_id", "pool_id", "label", "kind", "opened_at", "closed_at", "range_lower", "range_upper"))
    pool_ids = sorted({row[2] for row in position_rows if row[2] is not None})
    pools: dict[int, an.PoolData] = {}
    pool_assets: dict[int, list[tuple[str, int]]] = defaultdict(list)
    token_price: dict[int, Decimal | None] = {}
    stable_tokens: set[int] = set()
    if pool_ids:
        for pid, kind, symbol, meta, chain, protocol, apy, base, reward in Pool.objects.filter(
                pk__in=pool_ids).values_list("id", "kind", "symbol", "meta", "chain__name", "protocol__name", "apy",
                                             "apy_base", "apy_reward"):
            pools[pid] = an.PoolData(id=pid, kind=kind, symbol=symbol, meta=meta, chain=chain or "",
                                     protocol=protocol or "", apy=apy, apy_base=base, apy_reward=reward)
        for pid, token_id, symbol, address, price, stable in PoolUnderlyingToken.objects.filter(
                pool_id__in=pool_ids).order_by("pool_id", "position", "id").values_list(
                "pool_id", "token_id", "token__symbol", "token__address", "token__last_price_usd",
                "token__is_stablecoin"):
            pool_assets[pid].append((_asset_name(symbol, address), token_id))
            token_price.setdefault(token_id, price)
            if stable:
                stable_tokens.add(token_id)
    overrides: dict[int, dict[str, Decimal]] = defaultdict(dict)
    position_assets: dict[int, dict[str, int]] = defaultdict(dict)
    for pos_id, token_id, symbol, address, qty, price, stable in override_q.values_list(
            "position_id", "token_id", "token__symbol", "token__address", "quantity", "token__last_price_usd",
            "token__is_stablecoin"):
        asset = _asset_name(symbol, address)
        overrides[pos_id][asset] = qty
        position_assets[pos_id].setdefault(asset, token_id)
        token_price[token_id] = price
        if stable:
            stable_tokens.add(token_id)
    tx_rows = list(tx_q.order_by("occurred_at", "id").values_list(
        "id", "portfolio_id", "position_id", "kind", "income_type", "occurred_at"))
    leg_rows = list(leg_q.order_by("id").values_list(
        "transaction_id", "asset", "quantity", "fiat_value", "is_fee", "token_id", "token__last_price_usd",
        "token__is_stablecoin"))

    legs_by_tx: dict[int, list[an.LegData]] = defaultdict(list)
    assets_by_tx: dict[int, dict[str, int]] = defaultdict(dict)
    for tx_id, asset, qty, fiat, is_fee, token_id, last_price, is_stable in leg_rows:
        legs_by_tx[tx_id].append(an.LegData(asset, qty, fiat, token_id, is_fee))
        if token_id is not None:
            token_price[token_id] = last_price
            if is_stable:
                stable_tokens.add(token_id)
            assets_by_tx[tx_id].setdefault(asset, token_id)

    txs_by_position: dict[int, list[an.TxData]] = defaultdict(list)
    txs_by_portfolio: dict[int, list[an.TxData]] = defaultdict(list)
    portfolio_assets: dict[int, dict[str, int]] = defaultdict(dict)
    for tx_id, portfolio_id, position_id, kind, income_type, occurred_at in tx_rows:
        tx = an.TxData(tx_id, kind, occurred_at, tuple(legs_by_tx.get(tx_id, ())), income_type or "", position_id)
        txs_by_portfolio[portfolio_id].append(tx)
        for asset, token_id in assets_by_tx.get(tx_id, {}).items():
            portfolio_assets[portfolio_id].setdefault(asset, token_id)
            if position_id is not None:
                position_assets[position_id].setdefault(asset, token_id)
        if position_id is not None:
            txs_by_position[position_id].append(tx)
    for pos_id, _, pool_id, *_ in position_rows:
        for asset, token_id in pool_assets.get(pool_id, ()):
            position_assets[pos_id].setdefault(asset, token_id)

    if at_close or as_of.astimezone(UTC).date() < timezone.now().astimezone(UTC).date():
        token_price.update(_token_prices_at(token_price.keys(), as_of))

    def asset_prices(assets: Mapping[str, int]) -> dict[str, Decimal | None]:
        prices = {asset: token_price.get(token_id) for asset, token_id in assets.items()}
        if price_overrides:
            prices.update(price_overrides)
        return prices

    data: dict[int, an.PositionData] = {}
    portfolio_of: dict[int, int] = {}
    for pos_id, portfolio_id, pool_id, label, kind, opened_at, closed_at, lower, upper in position_rows:
        assets = position_assets[pos_id]
        pool = pools.get(pool_id) if pool_id is not None else None
        portfolio_of[pos_id] = portfolio_id
        data[pos_id] = an.PositionData(
            id=pos_id, kind=kind, name=label or (pool.symbol if pool else f"Position {pos_id}"), opened_at=opened_at,
            closed_at=closed_at, range_lower=lower, range_upper=upper,
            transactions=tuple(txs_by_position.get(pos_id, ())), prices_now=asset_prices(assets), pool=pool,
            pool_assets=tuple(a for a, _ in pool_assets.get(pool_id, ())),
            stablecoins=frozenset(a for a, t in assets.items() if t in stable_tokens),
            overrides=overrides.get(pos_id, {}),
        )

    # Prices at deposits/withdrawals for model tokens the legs do not price (one query).
    needed: list[tuple[int, int, str, datetime]] = []
    for pos_id, pdata in data.items():
        for tx_id, asset, moment in an.prices_needed(pdata):
            if position_assets[pos_id].get(asset) is not None:
                needed.append((pos_id, tx_id, asset, moment))
    if needed:
        found = _prices_at([(position_assets[pos_id][asset], moment) for pos_id, _, asset, moment in needed])
        extra: dict[int, dict[tuple[int, str], Decimal]] = defaultdict(dict)
        for (pos_id, tx_id, asset, _), price in zip(needed, found, strict=True):
            if price is not None:
                extra[pos_id][(tx_id, asset)] = price
        for pos_id, prices in extra.items():
            data[pos_id] = an.replace_extra_prices(data[pos_id], prices)

    # Pool snapshot aggregates for every window (one query).
    windows_by_position: dict[int, set[tuple[date, date]]] = {}
    keys: set[tuple[int, date, date]] = set()
    for pos_id, pdata in data.items():
        if pdata.pool is None:
            continue
        wins = an.yield_windows(pdata, as_of)
        windows_by_position[pos_id] = wins
        keys.update((pdata.pool.id, s, e) for s, e in wins)
    stats = _yield_stats(sorted(keys))

    out: dict[int, _Loaded] = {
        pid: _Loaded(pid, [], txs_by_portfolio.get(pid, []), asset_prices(portfolio_assets.get(pid, {})), {})
        for pid in portfolio_ids
    }
    for pos_id, pdata in data.items():
        loaded = out[portfolio_of[pos_id]]
        loaded.positions.append(pdata)
        if pdata.pool is not None:
            loaded.yields[pos_id] = {
                (s, e): stats[(pdata.pool.id, s, e)]
                for s, e in windows_by_position.get(pos_id, ()) if (pdata.pool.id, s, e) in stats
            }
    return out


def _asset(token: Token) -> str:
    return _asset_name(token.symbol, token.address)


def _year_start(owner, as_of: datetime) -> datetime:
    tz = ZoneInfo(getattr(owner, "timezone", None) or "UTC")
    local = as_of.astimezone(tz)
    return datetime(local.year, 1, 1, tzinfo=tz)


# --------------------------------------------------------------------------- analytics


def portfolio_summaries(*, portfolios: Sequence[Portfolio], as_of: datetime | None = None,
                        at_close: bool = False, detail: bool = True) -> dict[int, an.PortfolioSummary]:
    """Summaries of many portfolios in one batch of reads (see the module docstring).
    ``at_close``: value with the stored daily prices at ``as_of`` (snapshots).
    ``detail=False``: totals only (``analytics.analyse_position``), for the nightly jobs."""
    as_of = as_of or timezone.now()
    loaded = _load(portfolio_ids=[p.pk for p in portfolios], as_of=as_of, at_close=at_close)
    out = {}
    for portfolio in portfolios:
        data = loaded[portfolio.pk]
        analytics = [an.analyse_position(p, as_of=as_of, yields=data.yields.get(p.id, {}), detail=detail)
                     for p in data.positions]
        holdings = an.holdings_from_transactions(data.transactions, data.asset_prices)
        income = an.income_between(data.transactions, _year_start(portfolio.owner, as_of), as_of)
        out[portfolio.pk] = an.summarise_portfolio(analytics, holdings, as_of=as_of, income_ytd=income,
                                                   portfolio_id=portfolio.pk, name=portfolio.name)
    return out


def portfolio_summary(*, portfolio: Portfolio, as_of: datetime | None = None) -> an.PortfolioSummary:
    """Dashboard figures of one portfolio: totals, allocations, every position's analytics."""
    return portfolio_summaries(portfolios=[portfolio], as_of=as_of)[portfolio.pk]


@dataclass(frozen=True)
class UserSummary:
    total: an.PortfolioSummary  # over every portfolio of the user
    portfolios: tuple[an.PortfolioSummary, ...]


def user_summary(*, user, as_of: datetime | None = None) -> UserSummary:
    as_of = as_of or timezone.now()
    portfolios = list(portfolio_list_for_user(user=user))
    summaries = portfolio_summaries(portfolios=portfolios, as_of=as_of) if portfolios else {}
    ordered = tuple(summaries[p.pk] for p in portfolios)
    return UserSummary(total=an.combine_summaries(ordered, as_of=as_of), portfolios=ordered)


def position_data(*, position: Position, as_of: datetime | None = None,
                  prices: Mapping[str, Decimal] | None = None
                  ) -> tuple[an.PositionData, dict[tuple[date, date], an.YieldStats]]:
    """The analytics input of one position (and its pool yield windows). ``prices``
    (asset -> USD) replace the current prices, e.g. a withdrawal's own prices."""
    as_of = as_of or timezone.now()
    loaded = _load(portfolio_ids=[position.portfolio_id], as_of=as_of, position_ids=[position.pk],
                   price_overrides=prices)[position.portfolio_id]
    data = loaded.positions[0]
    return data, loaded.yields.get(position.pk, {})


def position_analytics(*, position: Position, as_of: datetime | None = None) -> an.PositionAnalytics:
    """Every figure of one position (see ``portfolios.analytics``)."""
    as_of = as_of or timezone.now()
    data, yields = position_data(position=position, as_of=as_of)
    return an.analyse_position(data, as_of=as_of, yields=yields)


def position_value_series(*, position: Position, until: date | None = None) -> list[an.SeriesPoint]:
    """Daily value of the position under its model vs. holding, from its stored daily
    prices (one read of prices for its tokens over its life)."""
    data, _ = position_data(position=position)
    assets = {a for tx in data.transactions for leg in tx.legs for a in [leg.asset] if not an.is_synthetic(a)}
    assets.update(data.pool_assets)
    token_ids = {}
    for tx in data.transactions:
        for leg in tx.legs:
            if leg.token_id is not None:
                token_ids.setdefault(leg.asset, leg.token_id)
    if position.pool is not None:
        for link in position.pool.underlying_links.select_related("token"):
            token_ids.setdefault(_asset(link.token), link.token_id)
    start = datetime.combine(position.opened_at.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    end_day = until or (position.closed_at or timezone.now()).astimezone(UTC).date()
    by_id = {t: a for a, t in token_ids.items()}
    rows = (TokenPrice.objects.filter(token_id__in=list(by_id), timestamp__gte=start,
                                      timestamp__lt=datetime.combine(end_day + timedelta(days=1),
                                                                     datetime.min.time(), tzinfo=UTC))
            .order_by("timestamp").values_list("token_id", "timestamp", "price_usd"))
    daily: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for token_id, ts, price in rows:
        daily[ts.astimezone(UTC).date()][by_id[token_id]] = price
    # Carry the last known price forward over gaps (weekends of a source, missing days).
    filled: dict[date, dict[str, Decimal]] = {}
    last: dict[str, Decimal] = {}
    day = position.opened_at.astimezone(UTC).date()
    while day <= end_day:
        last.update(daily.get(day, {}))
        if last:
            filled[day] = dict(last)
        day += timedelta(days=1)
    return an.position_value_series(data, filled, until=end_day)
