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

and hands plain dataclasses to the pure ``portfolios.analytics``. Reads 1-5 are
``_read``; ``_at`` builds the input at any moment up to the read's end without a
query, so ``portfolio_summaries_at_closes`` values many day closes from one read
(plus one read of the stored prices in between). A stablecoin whose price at the
valuation is more than ``analytics.PEG_MAX_AGE`` old is valued at its peg
(``analytics.stablecoin_price``), and the analytics say so.

The pages' small reads live here too (``position_tokens``, ``stale_tokens``,
``position_amount_overrides``, ``portfolios_value_history``, ``token_for_symbol``):
views read nothing themselves.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
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
    return [HistoryPoint(r["day"], an.to_decimal(r["v"]), an.to_decimal(r["d"])) for r in rows]


# --------------------------------------------------------------------------- small reads of a position


def position_tokens(*, position: Position) -> list[Token]:
    """Tokens the position holds or held: its pool's underlying tokens (in pool order)
    then the other tokens of its legs (by symbol). The choices of the add / remove /
    override forms."""
    from pools.selectors import pool_tokens

    in_legs = Leg.objects.filter(transaction__position=position, token__isnull=False).values("token_id")
    tokens = list(Token.objects.filter(pk__in=in_legs).select_related("chain").order_by("symbol", "id"))
    if position.pool_id:
        underlying, _ = pool_tokens(pool=position.pool)
        tokens = underlying + [t for t in tokens if t not in underlying]
    return tokens


def position_amount_overrides(*, position: Position) -> dict[int, Decimal]:
    """The user's own current amounts of a position: token id -> quantity."""
    return dict(PositionAmountOverride.objects.filter(position=position).values_list("token_id", "quantity"))


def stale_tokens(*, portfolios: Sequence[Portfolio], older_than: timedelta, limit: int = 20) -> list[Token]:
    """Tokens of open positions and loose transactions of these portfolios whose latest
    price is older than ``older_than`` (or missing), by symbol: one query, whatever
    the number of positions."""
    held = Leg.objects.filter(
        Q(transaction__position__isnull=True) | Q(transaction__position__closed_at__isnull=True),
        transaction__portfolio__in=[p.pk for p in portfolios], token__isnull=False)
    cutoff = timezone.now() - older_than
    return list(Token.objects.filter(pk__in=held.values("token_id"))
                .filter(Q(last_price_at__lt=cutoff) | Q(last_price_at__isnull=True))
                .only("symbol", "address", "last_price_at", "is_stablecoin").order_by("symbol", "id")[:limit])


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


def token_for_symbol(*, symbol: str, chain: str | None = None) -> Token | None:
    """The token a symbol most likely means, or None when we list none.

    With ``chain`` (a slug or name), that chain's token first; then the symbol on
    any chain (``pools.selectors.token_search``: most-used first); then the
    token whose *price symbol* it is, so "ETH" finds WETH (tracked and most
    recently priced first). The one lookup of the services, the CSV import and
    the forms."""
    from pools.selectors import token_search

    symbol = symbol.strip()
    if not symbol:
        return None
    token = token_search(symbol=symbol, chain=chain).first() if chain else None
    if token is None:
        token = token_search(symbol=symbol).first()
    if token is None:
        token = (Token.objects.filter(price_symbol__iexact=symbol).select_related("chain")
                 .order_by("-is_tracked", F("last_price_at").desc(nulls_last=True), "id").first())
    return token


Quote = tuple[Decimal | None, datetime | None]  # a USD price and when it was quoted (None, None: none)


def _prices_at(pairs: Sequence[tuple[int, datetime]]) -> list[Quote]:
    """Nearest earlier stored price (and its timestamp) for each ``(token_id, moment)``, in one query."""
    out: list[Quote] = []
    ops = connection.ops
    for start in range(0, len(pairs), _VALUES_BATCH):
        chunk = pairs[start:start + _VALUES_BATCH]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params: list = []
        for i, (token_id, moment) in enumerate(chunk):
            params += [i, token_id, ops.adapt_datetimefield_value(moment)]
        nearest = ("FROM pools_tokenprice tp WHERE tp.token_id = v.token_id AND tp.timestamp <= v.ts "
                   "ORDER BY tp.timestamp DESC LIMIT 1")
        sql = (
            f"WITH v(k, token_id, ts) AS (VALUES {values}) "  # noqa: S608 - placeholders only
            f"SELECT v.k, (SELECT tp.price_usd {nearest}), (SELECT tp.timestamp {nearest}) FROM v ORDER BY v.k"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = {k: (price, ts) for k, price, ts in cursor.fetchall()}
        for i in range(len(chunk)):
            price, ts = found.get(i, (None, None))
            out.append((an.to_decimal(price), _aware(ts)))
    return out


def _aware(value: object) -> datetime | None:
    """A timestamp from a raw cursor (SQLite hands back text) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def _token_quotes_at(token_ids: Iterable[int], when: datetime) -> dict[int, Quote]:
    """Every token's nearest earlier stored price at ``when``, with its timestamp (one query)."""
    ids = sorted(set(token_ids))
    if not ids:
        return {}
    latest = TokenPrice.objects.filter(token=OuterRef("pk"), timestamp__lte=when).order_by("-timestamp")
    rows = (Token.objects.filter(pk__in=ids)
            .annotate(p=Subquery(latest.values("price_usd")[:1]), t=Subquery(latest.values("timestamp")[:1]))
            .values_list("pk", "p", "t"))
    return {pk: (an.to_decimal(p), t) for pk, p, t in rows}


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
    pegged: frozenset[str] = frozenset()  # loose holdings' stablecoins valued at their peg


def _asset_name(symbol: str, address: str) -> str:
    return (symbol or address[:10]).strip().upper()


@dataclass
class _Rows:
    """What the analytics of some portfolios need, read once (``_read``) up to a moment;
    ``_at`` turns it into the analytics input at that moment or any earlier one."""

    position_rows: list[tuple]
    pools: dict[int, an.PoolData]
    pool_assets: dict[int, list[tuple[str, int]]]  # pool id -> (asset, token id) in pool order
    quotes: dict[int, Quote]  # token id -> latest quote (Token.last_price_usd / last_price_at)
    stable_tokens: set[int]
    overrides: dict[int, dict[str, Decimal]]
    override_assets: dict[int, dict[str, int]]
    txs: list[tuple[int, an.TxData]]  # (portfolio id, transaction), oldest first
    tx_times: list[datetime]  # occurred_at of ``txs`` (bisect)
    assets_by_tx: dict[int, dict[str, int]]


def _read(*, portfolio_ids: Sequence[int], until: datetime, position_ids: Sequence[int] | None = None) -> _Rows:
    """Positions, pools and their tokens, overrides, transactions and legs up to ``until``:
    six ``values`` reads, whatever the number of positions (no model instances: this
    runs for every portfolio nightly)."""
    positions_q = Position.objects.filter(portfolio_id__in=portfolio_ids)
    tx_q = Transaction.objects.filter(portfolio_id__in=portfolio_ids, occurred_at__lte=until)
    leg_q = Leg.objects.filter(transaction__portfolio_id__in=portfolio_ids, transaction__occurred_at__lte=until)
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
    quotes: dict[int, Quote] = {}
    stable_tokens: set[int] = set()
    if pool_ids:
        for pid, kind, symbol, meta, chain, protocol, apy, base, reward in Pool.objects.filter(
                pk__in=pool_ids).values_list("id", "kind", "symbol", "meta", "chain__name", "protocol__name", "apy",
                                             "apy_base", "apy_reward"):
            pools[pid] = an.PoolData(id=pid, kind=kind, symbol=symbol, meta=meta, chain=chain or "",
                                     protocol=protocol or "", apy=apy, apy_base=base, apy_reward=reward)
        for pid, token_id, symbol, address, price, priced_at, stable in PoolUnderlyingToken.objects.filter(
                pool_id__in=pool_ids).order_by("pool_id", "position", "id").values_list(
                "pool_id", "token_id", "token__symbol", "token__address", "token__last_price_usd",
                "token__last_price_at", "token__is_stablecoin"):
            pool_assets[pid].append((_asset_name(symbol, address), token_id))
            quotes[token_id] = (price, priced_at)
            if stable:
                stable_tokens.add(token_id)
    overrides: dict[int, dict[str, Decimal]] = defaultdict(dict)
    override_assets: dict[int, dict[str, int]] = defaultdict(dict)
    for pos_id, token_id, symbol, address, qty, price, priced_at, stable in override_q.values_list(
            "position_id", "token_id", "token__symbol", "token__address", "quantity", "token__last_price_usd",
            "token__last_price_at", "token__is_stablecoin"):
        asset = _asset_name(symbol, address)
        overrides[pos_id][asset] = qty
        override_assets[pos_id].setdefault(asset, token_id)
        quotes[token_id] = (price, priced_at)
        if stable:
            stable_tokens.add(token_id)
    tx_rows = list(tx_q.order_by("occurred_at", "id").values_list(
        "id", "portfolio_id", "position_id", "kind", "income_type", "occurred_at"))
    leg_rows = list(leg_q.order_by("id").values_list(
        "transaction_id", "asset", "quantity", "fiat_value", "is_fee", "token_id", "token__last_price_usd",
        "token__last_price_at", "token__is_stablecoin"))

    legs_by_tx: dict[int, list[an.LegData]] = defaultdict(list)
    assets_by_tx: dict[int, dict[str, int]] = defaultdict(dict)
    for tx_id, asset, qty, fiat, is_fee, token_id, last_price, priced_at, is_stable in leg_rows:
        legs_by_tx[tx_id].append(an.LegData(asset, qty, fiat, token_id, is_fee))
        if token_id is not None:
            quotes[token_id] = (last_price, priced_at)
            if is_stable:
                stable_tokens.add(token_id)
            assets_by_tx[tx_id].setdefault(asset, token_id)
    txs = [(portfolio_id, an.TxData(tx_id, kind, occurred_at, tuple(legs_by_tx.get(tx_id, ())), income_type or "",
                                    position_id))
           for tx_id, portfolio_id, position_id, kind, income_type, occurred_at in tx_rows]
    return _Rows(position_rows=position_rows, pools=pools, pool_assets=pool_assets, quotes=quotes,
                 stable_tokens=stable_tokens, overrides=overrides, override_assets=override_assets, txs=txs,
                 tx_times=[tx.occurred_at for _, tx in txs], assets_by_tx=assets_by_tx)


@dataclass
class _Moment:
    """The analytics input of ``_Rows`` at one valuation moment."""

    as_of: datetime
    portfolio_ids: Sequence[int]
    data: dict[int, an.PositionData]  # position id -> input (extra prices added by ``_complete``)
    portfolio_of: dict[int, int]
    position_assets: dict[int, dict[str, int]]  # position id -> asset -> token id
    loaded: dict[int, _Loaded]  # portfolio id -> everything (filled by ``_complete``)


def _at(rows: _Rows, *, portfolio_ids: Sequence[int], as_of: datetime, quotes: Mapping[int, Quote],
        price_overrides: Mapping[str, Decimal] | None = None) -> _Moment:
    """The analytics input at ``as_of`` (no query): the transactions up to it, each
    asset at its token's quote in ``quotes`` - a stablecoin without a quote from the
    last ``analytics.PEG_MAX_AGE`` at its peg - or at ``price_overrides``."""
    txs = rows.txs[:bisect_right(rows.tx_times, as_of)]
    position_assets: dict[int, dict[str, int]] = defaultdict(dict)
    for pos_id, assets in rows.override_assets.items():
        position_assets[pos_id].update(assets)
    txs_by_position: dict[int, list[an.TxData]] = defaultdict(list)
    txs_by_portfolio: dict[int, list[an.TxData]] = defaultdict(list)
    portfolio_assets: dict[int, dict[str, int]] = defaultdict(dict)
    for portfolio_id, tx in txs:
        txs_by_portfolio[portfolio_id].append(tx)
        for asset, token_id in rows.assets_by_tx.get(tx.id, {}).items():
            portfolio_assets[portfolio_id].setdefault(asset, token_id)
            if tx.position_id is not None:
                position_assets[tx.position_id].setdefault(asset, token_id)
        if tx.position_id is not None:
            txs_by_position[tx.position_id].append(tx)
    for pos_id, _, pool_id, *_ in rows.position_rows:
        for asset, token_id in rows.pool_assets.get(pool_id, ()):
            position_assets[pos_id].setdefault(asset, token_id)

    def asset_prices(assets: Mapping[str, int]) -> tuple[dict[str, Decimal | None], frozenset[str]]:
        prices: dict[str, Decimal | None] = {}
        pegged: set[str] = set()
        for asset, token_id in assets.items():
            price, priced_at = quotes.get(token_id, (None, None))
            if token_id in rows.stable_tokens:
                price, at_peg = an.stablecoin_price(price, priced_at, as_of)
                if at_peg:
                    pegged.add(asset)
            prices[asset] = price
        if price_overrides:
            prices.update(price_overrides)
            pegged.difference_update(price_overrides)
        return prices, frozenset(pegged)

    data: dict[int, an.PositionData] = {}
    portfolio_of: dict[int, int] = {}
    for pos_id, portfolio_id, pool_id, label, kind, opened_at, closed_at, lower, upper in rows.position_rows:
        assets = position_assets[pos_id]
        pool = rows.pools.get(pool_id) if pool_id is not None else None
        portfolio_of[pos_id] = portfolio_id
        prices_now, pegged = asset_prices(assets)
        data[pos_id] = an.PositionData(
            id=pos_id, kind=kind, name=label or (pool.symbol if pool else f"Position {pos_id}"), opened_at=opened_at,
            closed_at=closed_at, range_lower=lower, range_upper=upper,
            transactions=tuple(txs_by_position.get(pos_id, ())), prices_now=prices_now, pool=pool,
            pool_assets=tuple(a for a, _ in rows.pool_assets.get(pool_id, ())),
            stablecoins=frozenset(a for a, t in assets.items() if t in rows.stable_tokens),
            overrides=rows.overrides.get(pos_id, {}), pegged=pegged,
        )
    loaded = {}
    for pid in portfolio_ids:
        prices, pegged = asset_prices(portfolio_assets.get(pid, {}))
        loaded[pid] = _Loaded(pid, [], txs_by_portfolio.get(pid, []), prices, {}, pegged)
    return _Moment(as_of=as_of, portfolio_ids=portfolio_ids, data=data, portfolio_of=portfolio_of,
                   position_assets=position_assets, loaded=loaded)


def _complete(rows: _Rows, moments: Sequence[_Moment]) -> None:
    """Add what depends on the transactions' moments, for every moment at once:
    prices at deposits/withdrawals for model tokens the legs do not price (one
    query) and the pool snapshot aggregates of every yield window (one query)."""
    needed: list[tuple[_Moment, int, int, str, int, datetime]] = []
    for m in moments:
        for pos_id, pdata in m.data.items():
            for tx_id, asset, when in an.prices_needed(pdata):
                token_id = m.position_assets[pos_id].get(asset)
                if token_id is not None:
                    needed.append((m, pos_id, tx_id, asset, token_id, when))
    if needed:
        pairs = sorted({(token_id, when) for *_, token_id, when in needed})
        found = dict(zip(pairs, _prices_at(pairs), strict=True))
        extra: dict[tuple[int, int], dict[tuple[int, str], Decimal]] = defaultdict(dict)
        pegged: dict[tuple[int, int], set[tuple[int, str]]] = defaultdict(set)
        for m, pos_id, tx_id, asset, token_id, when in needed:
            price, priced_at = found[(token_id, when)]
            if token_id in rows.stable_tokens:
                price, at_peg = an.stablecoin_price(price, priced_at, when)
                if at_peg:
                    pegged[(id(m), pos_id)].add((tx_id, asset))
            if price is not None:
                extra[(id(m), pos_id)][(tx_id, asset)] = price
        for m in moments:
            for pos_id in list(m.data):
                key = (id(m), pos_id)
                if key in extra:
                    m.data[pos_id] = replace(an.replace_extra_prices(m.data[pos_id], extra[key]),
                                             pegged_at=frozenset(pegged.get(key, ())))

    windows: dict[tuple[int, int], set[tuple[date, date]]] = {}
    keys: set[tuple[int, date, date]] = set()
    for m in moments:
        for pos_id, pdata in m.data.items():
            if pdata.pool is None:
                continue
            wins = an.yield_windows(pdata, m.as_of)
            windows[(id(m), pos_id)] = wins
            keys.update((pdata.pool.id, s, e) for s, e in wins)
    stats = _yield_stats(sorted(keys))
    for m in moments:
        for pos_id, pdata in m.data.items():
            loaded = m.loaded[m.portfolio_of[pos_id]]
            loaded.positions.append(pdata)
            if pdata.pool is not None:
                loaded.yields[pos_id] = {
                    (s, e): stats[(pdata.pool.id, s, e)]
                    for s, e in windows.get((id(m), pos_id), ()) if (pdata.pool.id, s, e) in stats
                }


def _load(*, portfolio_ids: Sequence[int], as_of: datetime, at_close: bool = False,
          position_ids: Sequence[int] | None = None,
          price_overrides: Mapping[str, Decimal] | None = None) -> _Moment:
    """Everything the analytics of these portfolios need at ``as_of``, in a constant
    number of ``values`` reads (see the module docstring). Latest quotes for a
    valuation today, stored daily prices for one in the past or ``at_close``."""
    rows = _read(portfolio_ids=portfolio_ids, until=as_of, position_ids=position_ids)
    quotes = rows.quotes
    if at_close or as_of.astimezone(UTC).date() < timezone.now().astimezone(UTC).date():
        quotes = {**quotes, **_token_quotes_at(quotes.keys(), as_of)}
    moment = _at(rows, portfolio_ids=portfolio_ids, as_of=as_of, quotes=quotes, price_overrides=price_overrides)
    _complete(rows, [moment])
    return moment


def _asset(token: Token) -> str:
    return _asset_name(token.symbol, token.address)


def _year_start(owner, as_of: datetime) -> datetime:
    tz = ZoneInfo(getattr(owner, "timezone", None) or "UTC")
    local = as_of.astimezone(tz)
    return datetime(local.year, 1, 1, tzinfo=tz)


def day_close(day: date) -> datetime:
    """The last moment of a UTC day: snapshots value a day at its close."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) - timedelta(microseconds=1)


# --------------------------------------------------------------------------- analytics


def _summaries(portfolios: Sequence[Portfolio], moment: _Moment, *, detail: bool) -> dict[int, an.PortfolioSummary]:
    as_of = moment.as_of
    out = {}
    for portfolio in portfolios:
        data = moment.loaded[portfolio.pk]
        analytics = [an.analyse_position(p, as_of=as_of, yields=data.yields.get(p.id, {}), detail=detail)
                     for p in data.positions]
        holdings = an.holdings_from_transactions(data.transactions, data.asset_prices, data.pegged)
        income = an.income_between(data.transactions, _year_start(portfolio.owner, as_of), as_of)
        out[portfolio.pk] = an.summarise_portfolio(analytics, holdings, as_of=as_of, income_ytd=income,
                                                   portfolio_id=portfolio.pk, name=portfolio.name)
    return out


def portfolio_summaries(*, portfolios: Sequence[Portfolio], as_of: datetime | None = None,
                        at_close: bool = False, detail: bool = True) -> dict[int, an.PortfolioSummary]:
    """Summaries of many portfolios in one batch of reads (see the module docstring).
    ``at_close``: value with the stored daily prices at ``as_of`` (snapshots).
    ``detail=False``: totals only (``analytics.analyse_position``), for the nightly jobs."""
    as_of = as_of or timezone.now()
    moment = _load(portfolio_ids=[p.pk for p in portfolios], as_of=as_of, at_close=at_close)
    return _summaries(portfolios, moment, detail=detail)


def portfolio_summaries_at_closes(*, portfolios: Sequence[Portfolio], days: Iterable[date],
                                  detail: bool = False) -> dict[date, dict[int, an.PortfolioSummary]]:
    """What ``portfolio_summaries(as_of=day_close(day), at_close=True)`` gives for each
    day, for many days in one batch of reads: the six reads of ``_read`` once (up to
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
    rows = _read(portfolio_ids=ids, until=last)
    quotes = _token_quotes_at(rows.quotes.keys(), first)
    later = []
    if len(days) > 1 and rows.quotes:
        later = list(TokenPrice.objects.filter(token_id__in=sorted(rows.quotes), timestamp__gt=first,
                                               timestamp__lte=last)
                     .order_by("timestamp", "token_id").values_list("token_id", "timestamp", "price_usd"))
    moments = []
    i = 0
    for day in days:
        close = day_close(day)
        while i < len(later) and later[i][1] <= close:
            token_id, ts, price = later[i]
            quotes[token_id] = (an.to_decimal(price), ts)
            i += 1
        moments.append(_at(rows, portfolio_ids=ids, as_of=close, quotes=dict(quotes)))
    _complete(rows, moments)
    return {day: _summaries(portfolios, m, detail=detail) for day, m in zip(days, moments, strict=True)}


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


def _position_moment(*, position: Position, as_of: datetime,
                     prices: Mapping[str, Decimal] | None = None) -> _Moment:
    return _load(portfolio_ids=[position.portfolio_id], as_of=as_of, position_ids=[position.pk],
                 price_overrides=prices)


def position_data(*, position: Position, as_of: datetime | None = None,
                  prices: Mapping[str, Decimal] | None = None
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
    load of the position's data (``_load``) plus one read of its tokens' daily
    prices - the same number of queries however many transactions it has."""
    as_of = as_of or timezone.now()
    moment = _position_moment(position=position, as_of=as_of)
    data = moment.data[position.pk]
    analytics = an.analyse_position(data, as_of=as_of, yields=moment.loaded[position.portfolio_id].yields.get(
        position.pk, {}))
    return PositionReport(analytics, _value_series(position=position, moment=moment))


def _value_series(*, position: Position, moment: _Moment, until: date | None = None) -> list[an.SeriesPoint]:
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
    rows = (TokenPrice.objects.filter(token_id__in=list(by_id), timestamp__gte=lookback,
                                      timestamp__lt=datetime.combine(end_day + timedelta(days=1),
                                                                     datetime.min.time(), tzinfo=UTC))
            .order_by("timestamp").values_list("token_id", "timestamp", "price_usd"))
    daily: dict[date, dict[str, Decimal]] = defaultdict(dict)
    for token_id, ts, price in rows:
        daily[ts.astimezone(UTC).date()][by_id[token_id]] = price
    stable = {a for a in token_ids if a in data.stablecoins}
    filled: dict[date, dict[str, Decimal]] = {}
    last: dict[str, Decimal] = {}
    last_day: dict[str, date] = {}
    day = min([start_day, *daily])
    while day <= end_day:
        for asset, price in daily.get(day, {}).items():
            last[asset] = price
            last_day[asset] = day
        if day >= start_day:
            prices = dict(last)
            for asset in stable:
                if asset not in last_day or day - last_day[asset] > an.PEG_MAX_AGE:
                    prices[asset] = an.STABLECOIN_PEG
            if prices:
                filled[day] = prices
        day += timedelta(days=1)
    return an.position_value_series(data, filled, until=end_day)
