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

from pools.models import PoolUnderlyingToken, Token, TokenPrice
from portfolios import analytics as an
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
    """Mean APYs of each pool's daily snapshots over ``[start, end)`` windows, one query.
    Index: pools_snapshot_pool_day_uniq (pool_id, day)."""
    out: dict[tuple[int, date, date], an.YieldStats] = {}
    ops = connection.ops
    for start in range(0, len(windows), _VALUES_BATCH):
        chunk = windows[start:start + _VALUES_BATCH]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
        params: list = []
        for i, (pool_id, s, e) in enumerate(chunk):
            params += [i, pool_id, ops.adapt_datefield_value(s), ops.adapt_datefield_value(e)]
        sql = (
            f"WITH v(k, pool_id, s, e) AS (VALUES {values}) "  # noqa: S608 - placeholders only
            "SELECT v.k, COUNT(ps.id), AVG(ps.apy_base), AVG(ps.apy_reward), AVG(ps.apy) "
            "FROM v JOIN pools_poolsnapshot ps ON ps.pool_id = v.pool_id AND ps.day >= v.s AND ps.day < v.e "
            "GROUP BY v.k"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for k, count, base, reward, apy in cursor.fetchall():
                out[chunk[k]] = an.YieldStats(days=count, apy_base=an.to_decimal(base),
                                              apy_reward=an.to_decimal(reward), apy=an.to_decimal(apy))
    return out


# --------------------------------------------------------------------------- loading


@dataclass
class _Loaded:
    portfolio_id: int
    positions: list[an.PositionData]
    transactions: list[an.TxData]
    asset_prices: dict[str, Decimal | None]  # for loose holdings
    yields: dict[int, dict[tuple[date, date], an.YieldStats]]  # position id -> windows


def _pool_data(position: Position) -> an.PoolData | None:
    pool = position.pool
    if pool is None:
        return None
    return an.PoolData(id=pool.pk, kind=pool.kind, symbol=pool.symbol, meta=pool.meta,
                       chain=pool.chain.name if pool.chain_id else "",
                       protocol=pool.protocol.name if pool.protocol_id else "",
                       apy=pool.apy, apy_base=pool.apy_base, apy_reward=pool.apy_reward)


def _load(*, portfolio_ids: Sequence[int], as_of: datetime, at_close: bool = False,
          position_ids: Sequence[int] | None = None,
          price_overrides: Mapping[str, Decimal] | None = None) -> dict[int, _Loaded]:
    positions_q = (
        Position.objects.filter(portfolio_id__in=portfolio_ids)
        .select_related("pool__chain", "pool__protocol")
        .prefetch_related(
            Prefetch("pool__underlying_links", queryset=PoolUnderlyingToken.objects.select_related("token")),
            Prefetch("amount_overrides", queryset=PositionAmountOverride.objects.select_related("token")),
        )
        .order_by("-opened_at", "-id")
    )
    tx_q = Transaction.objects.filter(portfolio_id__in=portfolio_ids, occurred_at__lte=as_of)
    leg_q = Leg.objects.filter(transaction__portfolio_id__in=portfolio_ids, transaction__occurred_at__lte=as_of)
    if position_ids is not None:
        positions_q = positions_q.filter(pk__in=position_ids)
        tx_q = tx_q.filter(position_id__in=position_ids)
        leg_q = leg_q.filter(transaction__position_id__in=position_ids)
    positions = list(positions_q)
    tx_rows = list(tx_q.order_by("occurred_at", "id").values_list(
        "id", "portfolio_id", "position_id", "kind", "income_type", "occurred_at"))
    leg_rows = list(leg_q.order_by("id").values_list(
        "transaction_id", "asset", "quantity", "fiat_value", "is_fee", "token_id", "token__last_price_usd",
        "token__is_stablecoin"))

    # token id -> (latest price, stablecoin); asset -> token id per portfolio/position
    token_price: dict[int, Decimal | None] = {}
    stable_tokens: set[int] = set()
    legs_by_tx: dict[int, list[an.LegData]] = defaultdict(list)
    assets_by_tx: dict[int, dict[str, int]] = defaultdict(dict)
    for tx_id, asset, qty, fiat, is_fee, token_id, last_price, is_stable in leg_rows:
        legs_by_tx[tx_id].append(an.LegData(asset, qty, fiat, token_id, is_fee))
        if token_id is not None:
            token_price[token_id] = last_price
            if is_stable:
                stable_tokens.add(token_id)
            assets_by_tx[tx_id].setdefault(asset, token_id)
    position_assets: dict[int, dict[str, int]] = defaultdict(dict)
    pool_assets: dict[int, tuple[str, ...]] = {}
    for position in positions:
        assets = position_assets[position.pk]
        for override in position.amount_overrides.all():
            token = override.token
            token_price[token.pk] = token.last_price_usd
            if token.is_stablecoin:
                stable_tokens.add(token.pk)
            assets.setdefault(_asset(token), token.pk)
        if position.pool is not None:
            ordered = []
            for link in position.pool.underlying_links.all():
                token = link.token
                token_price.setdefault(token.pk, token.last_price_usd)
                if token.is_stablecoin:
                    stable_tokens.add(token.pk)
                ordered.append(_asset(token))
                assets.setdefault(_asset(token), token.pk)
            pool_assets[position.pk] = tuple(ordered)

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

    if at_close or as_of.astimezone(UTC).date() < timezone.now().astimezone(UTC).date():
        token_price.update(_token_prices_at(token_price.keys(), as_of))

    def asset_prices(assets: Mapping[str, int]) -> dict[str, Decimal | None]:
        prices = {asset: token_price.get(token_id) for asset, token_id in assets.items()}
        if price_overrides:
            prices.update(price_overrides)
        return prices

    data: dict[int, an.PositionData] = {}
    for position in positions:
        assets = position_assets[position.pk]
        data[position.pk] = an.PositionData(
            id=position.pk, kind=position.kind, name=str(position), opened_at=position.opened_at,
            closed_at=position.closed_at, range_lower=position.range_lower, range_upper=position.range_upper,
            transactions=tuple(txs_by_position.get(position.pk, ())), prices_now=asset_prices(assets),
            pool=_pool_data(position), pool_assets=pool_assets.get(position.pk, ()),
            stablecoins=frozenset(a for a, t in assets.items() if t in stable_tokens),
            overrides={_asset(o.token): o.quantity for o in position.amount_overrides.all()},
        )

    # Prices at deposits/withdrawals for model tokens the legs do not price (one query).
    needed: list[tuple[int, int, str, datetime]] = []
    for pid, pdata in data.items():
        for tx_id, asset, moment in an.prices_needed(pdata):
            token_id = position_assets[pid].get(asset)
            if token_id is not None:
                needed.append((pid, tx_id, asset, moment))
    if needed:
        found = _prices_at([(position_assets[pid][asset], moment) for pid, _, asset, moment in needed])
        extra: dict[int, dict[tuple[int, str], Decimal]] = defaultdict(dict)
        for (pid, tx_id, asset, _), price in zip(needed, found, strict=True):
            if price is not None:
                extra[pid][(tx_id, asset)] = price
        for pid, prices in extra.items():
            data[pid] = an.replace_extra_prices(data[pid], prices)

    # Pool snapshot aggregates for every window (one query).
    windows_by_position: dict[int, set[tuple[date, date]]] = {}
    keys: set[tuple[int, date, date]] = set()
    for pid, pdata in data.items():
        if pdata.pool is None:
            continue
        wins = an.yield_windows(pdata, as_of)
        windows_by_position[pid] = wins
        keys.update((pdata.pool.id, s, e) for s, e in wins)
    stats = _yield_stats(sorted(keys)) if keys else {}

    out: dict[int, _Loaded] = {
        pid: _Loaded(pid, [], txs_by_portfolio.get(pid, []), asset_prices(portfolio_assets.get(pid, {})), {})
        for pid in portfolio_ids
    }
    for position in positions:
        pdata = data[position.pk]
        loaded = out[position.portfolio_id]
        loaded.positions.append(pdata)
        if pdata.pool is not None:
            loaded.yields[position.pk] = {
                (s, e): stats[(pdata.pool.id, s, e)]
                for s, e in windows_by_position.get(position.pk, ()) if (pdata.pool.id, s, e) in stats
            }
    return out


def _asset(token: Token) -> str:
    return (token.symbol or token.address[:10]).strip().upper()


def _year_start(owner, as_of: datetime) -> datetime:
    tz = ZoneInfo(getattr(owner, "timezone", None) or "UTC")
    local = as_of.astimezone(tz)
    return datetime(local.year, 1, 1, tzinfo=tz)


# --------------------------------------------------------------------------- analytics


def portfolio_summaries(*, portfolios: Sequence[Portfolio], as_of: datetime | None = None,
                        at_close: bool = False) -> dict[int, an.PortfolioSummary]:
    """Summaries of many portfolios in one batch of reads (see the module docstring).
    ``at_close``: value with the stored daily prices at ``as_of`` (snapshots)."""
    as_of = as_of or timezone.now()
    loaded = _load(portfolio_ids=[p.pk for p in portfolios], as_of=as_of, at_close=at_close)
    out = {}
    for portfolio in portfolios:
        data = loaded[portfolio.pk]
        analytics = [an.analyse_position(p, as_of=as_of, yields=data.yields.get(p.id, {})) for p in data.positions]
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
