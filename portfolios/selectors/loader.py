"""The bulk valuation loader: everything the analytics of a batch of portfolios
need, in a constant number of queries whatever the number of positions:

1. positions with pool, chain and protocol (one join);
2. the pools' underlying tokens;
3. amount overrides with their tokens;
4. transactions, 5. their legs with token price fields (two ``values`` reads);
6. pool snapshot aggregates (mean base / reward APY) for every window the
   analytics need, all pools in one read over a ``VALUES`` list;
7. prices at transaction times a deposit/withdrawal does not carry itself
   (one correlated-subquery read, only when needed);
8. past prices of every token (one read, only for a valuation in the past,
   e.g. the daily snapshot) - otherwise ``Token.last_price_usd`` from (5).

Reads 1-5 are :func:`read_rows`; :func:`moment_at` builds the analytics input
(plain dataclasses of ``portfolios.analytics``) at any moment up to the read's
end without a query, so ``summaries.portfolio_summaries_at_closes`` values many
day closes from one read; :func:`complete_moments` adds reads 6-7 for every
moment at once; :func:`load` is the three for one moment. A stablecoin whose
price at the valuation is more than ``analytics.PEG_MAX_AGE`` old is valued at
its peg (``analytics.stablecoin_price``), and the analytics say so.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import cast
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from config.formatting import to_decimal
from pools.fx import FxRateUnavailable
from pools.models import Pool, PoolUnderlyingToken, Token, TokenPrice
from pools.selectors_fx import fx_table
from portfolios import analytics as an
from portfolios.analytics import ZERO
from portfolios.ledger import token_asset
from portfolios.models import Leg, Position, PositionAmountOverride, Transaction

logger = logging.getLogger(__name__)

#: The currency of the price history: analytics value everything in it, legs entered in
#: another currency are converted at their day's ECB rate (pages convert the results).
VALUATION_CURRENCY = "USD"
#: Rows per VALUES statement (PostgreSQL allows 65,535 parameters per statement).
_VALUES_BATCH = 5000

Quote = tuple[Decimal | None, datetime | None]  # a USD price and when it was quoted (None, None: none)


def _prices_at(pairs: Sequence[tuple[int, datetime]]) -> list[Quote]:
    """Nearest earlier stored price (and its timestamp) for each ``(token_id, moment)``, in one query."""
    out: list[Quote] = []
    ops = connection.ops
    for start in range(0, len(pairs), _VALUES_BATCH):
        chunk = pairs[start : start + _VALUES_BATCH]
        values = ", ".join(["(%s, %s, %s)"] * len(chunk))
        params: list = []
        for i, (token_id, moment) in enumerate(chunk):
            params += [i, token_id, ops.adapt_datetimefield_value(moment)]
        nearest = (
            "FROM pools_tokenprice tp WHERE tp.token_id = v.token_id AND tp.timestamp <= v.ts "
            "ORDER BY tp.timestamp DESC LIMIT 1"
        )
        sql = (
            f"WITH v(k, token_id, ts) AS (VALUES {values}) "  # noqa: S608 - placeholders only
            f"SELECT v.k, (SELECT tp.price_usd {nearest}), (SELECT tp.timestamp {nearest}) FROM v ORDER BY v.k"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = {k: (price, ts) for k, price, ts in cursor.fetchall()}
        for i in range(len(chunk)):
            price, ts = found.get(i, (None, None))
            out.append((to_decimal(price), _aware(ts)))
    return out


def _aware(value: object) -> datetime | None:
    """A timestamp from a raw cursor (SQLite hands back text) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return cast(datetime, value)  # the database hands back a datetime (or text, parsed above)


def token_quotes_at(token_ids: Iterable[int], when: datetime) -> dict[int, Quote]:
    """Every token's nearest earlier stored price at ``when``, with its timestamp (one query)."""
    ids = sorted(set(token_ids))
    if not ids:
        return {}
    latest = TokenPrice.objects.filter(token=OuterRef("pk"), timestamp__lte=when).order_by("-timestamp")
    rows = (
        Token.objects.filter(pk__in=ids)
        .annotate(p=Subquery(latest.values("price_usd")[:1]), t=Subquery(latest.values("timestamp")[:1]))
        .values_list("pk", "p", "t")
    )
    return {pk: (to_decimal(p), t) for pk, p, t in rows}


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
        chunk = items[first : first + _VALUES_BATCH]
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
                series[pool_id].append((day, to_decimal(base), to_decimal(reward), to_decimal(apy)))
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
class Loaded:
    portfolio_id: int
    positions: list[an.PositionData]
    transactions: list[an.TxData]
    asset_prices: dict[str, Decimal | None]  # for loose holdings
    yields: dict[int, dict[tuple[date, date], an.YieldStats]]  # position id -> windows
    pegged: frozenset[str] = frozenset()  # loose holdings' stablecoins valued at their peg
    price_times: dict[str, datetime] = field(default_factory=dict)  # loose holdings: when each price was quoted


@dataclass
class Rows:
    """What the analytics of some portfolios need, read once (:func:`read_rows`) up to a moment;
    :func:`moment_at` turns it into the analytics input at that moment or any earlier one."""

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


def read_rows(*, portfolio_ids: Sequence[int], until: datetime, position_ids: Sequence[int] | None = None) -> Rows:
    """Positions, pools and their tokens, overrides, transactions and legs up to ``until``:
    six ``values`` reads, whatever the number of positions (no model instances: this
    runs for every portfolio nightly)."""
    positions_q = Position.objects.filter(portfolio_id__in=portfolio_ids)
    # Hidden transactions count nowhere (Transaction.hidden; the ``counted`` querysets).
    tx_q = Transaction.objects.counted().filter(portfolio_id__in=portfolio_ids, occurred_at__lte=until)
    leg_q = Leg.objects.counted().filter(
        transaction__portfolio_id__in=portfolio_ids, transaction__occurred_at__lte=until
    )
    override_q = PositionAmountOverride.objects.filter(position__portfolio_id__in=portfolio_ids)
    if position_ids is not None:
        positions_q = positions_q.filter(pk__in=position_ids)
        tx_q = tx_q.filter(position_id__in=position_ids)
        leg_q = leg_q.filter(transaction__position_id__in=position_ids)
        override_q = override_q.filter(position_id__in=position_ids)
    position_rows = list(
        positions_q.order_by("-opened_at", "-id").values_list(
            "id", "portfolio_id", "pool_id", "label", "kind", "opened_at", "closed_at", "range_lower", "range_upper"
        )
    )
    pool_ids = sorted({row[2] for row in position_rows if row[2] is not None})
    pools: dict[int, an.PoolData] = {}
    pool_assets: dict[int, list[tuple[str, int]]] = defaultdict(list)
    quotes: dict[int, Quote] = {}
    stable_tokens: set[int] = set()
    if pool_ids:
        for pid, kind, symbol, meta, chain, protocol, apy, base, reward in Pool.objects.filter(
            pk__in=pool_ids
        ).values_list("id", "kind", "symbol", "meta", "chain__name", "protocol__name", "apy", "apy_base", "apy_reward"):
            pools[pid] = an.PoolData(
                id=pid,
                kind=kind,
                symbol=symbol,
                meta=meta,
                chain=chain or "",
                protocol=protocol or "",
                apy=apy,
                apy_base=base,
                apy_reward=reward,
            )
        for pid, token_id, symbol, address, price, priced_at, stable in (
            PoolUnderlyingToken.objects.filter(pool_id__in=pool_ids)
            .order_by("pool_id", "position", "id")
            .values_list(
                "pool_id",
                "token_id",
                "token__symbol",
                "token__address",
                "token__last_price_usd",
                "token__last_price_at",
                "token__is_stablecoin",
            )
        ):
            pool_assets[pid].append((token_asset(symbol, address), token_id))
            quotes[token_id] = (price, priced_at)
            if stable:
                stable_tokens.add(token_id)
    overrides: dict[int, dict[str, Decimal]] = defaultdict(dict)
    override_assets: dict[int, dict[str, int]] = defaultdict(dict)
    for pos_id, token_id, symbol, address, qty, price, priced_at, stable in override_q.values_list(
        "position_id",
        "token_id",
        "token__symbol",
        "token__address",
        "quantity",
        "token__last_price_usd",
        "token__last_price_at",
        "token__is_stablecoin",
    ):
        asset = token_asset(symbol, address)
        overrides[pos_id][asset] = qty
        override_assets[pos_id].setdefault(asset, token_id)
        quotes[token_id] = (price, priced_at)
        if stable:
            stable_tokens.add(token_id)
    tx_rows = list(
        tx_q.order_by("occurred_at", "id").values_list(
            "id", "portfolio_id", "position_id", "kind", "income_type", "occurred_at"
        )
    )
    leg_rows = list(
        leg_q.order_by("id").values_list(
            "transaction_id",
            "asset",
            "quantity",
            "fiat_value",
            "is_fee",
            "token_id",
            "token__last_price_usd",
            "token__last_price_at",
            "token__is_stablecoin",
            "fiat_currency",
        )
    )
    to_usd = _usd_converter(leg_rows, {tx_id: when for tx_id, *_rest, when in tx_rows})

    legs_by_tx: dict[int, list[an.LegData]] = defaultdict(list)
    assets_by_tx: dict[int, dict[str, int]] = defaultdict(dict)
    for tx_id, asset, qty, fiat, is_fee, token_id, last_price, priced_at, is_stable, currency in leg_rows:
        if currency != VALUATION_CURRENCY and fiat is not None:
            fiat = to_usd(fiat, currency, tx_id)
        legs_by_tx[tx_id].append(an.LegData(asset, qty, fiat, token_id, is_fee))
        if token_id is not None:
            quotes[token_id] = (last_price, priced_at)
            if is_stable:
                stable_tokens.add(token_id)
            assets_by_tx[tx_id].setdefault(asset, token_id)
    txs = [
        (
            portfolio_id,
            an.TxData(tx_id, kind, occurred_at, tuple(legs_by_tx.get(tx_id, ())), income_type or "", position_id),
        )
        for tx_id, portfolio_id, position_id, kind, income_type, occurred_at in tx_rows
    ]
    return Rows(
        position_rows=position_rows,
        pools=pools,
        pool_assets=pool_assets,
        quotes=quotes,
        stable_tokens=stable_tokens,
        overrides=overrides,
        override_assets=override_assets,
        txs=txs,
        tx_times=[tx.occurred_at for _, tx in txs],
        assets_by_tx=assets_by_tx,
    )


def _usd_converter(leg_rows: Sequence[tuple], when_of: Mapping[int, datetime]):
    """``convert(value, currency, tx_id)``: a leg value entered in another currency, in USD
    (the currency of the price history the analytics value with) at the ECB rates of its
    transaction's UTC day (a weekend or holiday: the last rate before it). One query, and
    only when some leg is in another currency. A value without a rate stays as it is (logged)."""
    foreign = [(row[0], row[9]) for row in leg_rows if row[9] != VALUATION_CURRENCY and row[3] is not None]
    if not foreign:
        return lambda value, currency, tx_id: value
    days = [when_of[tx_id].astimezone(UTC).date() for tx_id, _ in foreign if tx_id in when_of]
    if not days:
        return lambda value, currency, tx_id: value
    table = fx_table(currencies={c for _, c in foreign} | {VALUATION_CURRENCY}, start=min(days), end=max(days))

    def convert(value: Decimal, currency: str, tx_id: int) -> Decimal:
        when = when_of.get(tx_id)
        if when is None:
            return value
        try:
            return table.convert(value, currency, VALUATION_CURRENCY, when.astimezone(UTC).date()).amount
        except (FxRateUnavailable, ValueError):
            logger.warning("no ECB rate to value %s %s of transaction %s in USD", value, currency, tx_id)
            return value

    return convert


@dataclass
class Moment:
    """The analytics input of ``Rows`` at one valuation moment."""

    as_of: datetime
    portfolio_ids: Sequence[int]
    data: dict[int, an.PositionData]  # position id -> input (extra prices added by ``complete_moments``)
    portfolio_of: dict[int, int]
    position_assets: dict[int, dict[str, int]]  # position id -> asset -> token id
    loaded: dict[int, Loaded]  # portfolio id -> everything (filled by ``complete_moments``)


def moment_at(
    rows: Rows,
    *,
    portfolio_ids: Sequence[int],
    as_of: datetime,
    quotes: Mapping[int, Quote],
    price_overrides: Mapping[str, Decimal] | None = None,
) -> Moment:
    """The analytics input at ``as_of`` (no query): the transactions up to it, each
    asset at its token's quote in ``quotes`` - a stablecoin without a quote from the
    last ``analytics.PEG_MAX_AGE`` at its peg - or at ``price_overrides``."""
    txs = rows.txs[: bisect_right(rows.tx_times, as_of)]
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

    def asset_prices(
        assets: Mapping[str, int],
    ) -> tuple[dict[str, Decimal | None], frozenset[str], dict[str, datetime]]:
        prices: dict[str, Decimal | None] = {}
        pegged: set[str] = set()
        times: dict[str, datetime] = {}  # when each price was quoted (not for a peg or a given price)
        for asset, token_id in assets.items():
            price, priced_at = quotes.get(token_id, (None, None))
            at_peg = False
            if token_id in rows.stable_tokens:
                price, at_peg = an.stablecoin_price(price, priced_at, as_of)
                if at_peg:
                    pegged.add(asset)
            prices[asset] = price
            if price is not None and priced_at is not None and not at_peg:
                times[asset] = priced_at
        if price_overrides:
            prices.update(price_overrides)
            pegged.difference_update(price_overrides)
            for asset in price_overrides:
                times.pop(asset, None)
        return prices, frozenset(pegged), times

    data: dict[int, an.PositionData] = {}
    portfolio_of: dict[int, int] = {}
    for pos_id, portfolio_id, pool_id, label, kind, opened_at, closed_at, lower, upper in rows.position_rows:
        assets = position_assets[pos_id]
        pool = rows.pools.get(pool_id) if pool_id is not None else None
        portfolio_of[pos_id] = portfolio_id
        prices_now, pegged, price_times = asset_prices(assets)
        data[pos_id] = an.PositionData(
            id=pos_id,
            kind=kind,
            name=label or (pool.symbol if pool else f"Position {pos_id}"),
            opened_at=opened_at,
            closed_at=closed_at,
            range_lower=lower,
            range_upper=upper,
            transactions=tuple(txs_by_position.get(pos_id, ())),
            prices_now=prices_now,
            pool=pool,
            pool_assets=tuple(a for a, _ in rows.pool_assets.get(pool_id, ())),
            stablecoins=frozenset(a for a, t in assets.items() if t in rows.stable_tokens),
            overrides=rows.overrides.get(pos_id, {}),
            pegged=pegged,
            price_times=price_times,
        )
    loaded = {}
    for pid in portfolio_ids:
        prices, pegged, price_times = asset_prices(portfolio_assets.get(pid, {}))
        loaded[pid] = Loaded(pid, [], txs_by_portfolio.get(pid, []), prices, {}, pegged, price_times)
    return Moment(
        as_of=as_of,
        portfolio_ids=portfolio_ids,
        data=data,
        portfolio_of=portfolio_of,
        position_assets=position_assets,
        loaded=loaded,
    )


def complete_moments(rows: Rows, moments: Sequence[Moment]) -> None:
    """Add what depends on the transactions' moments, for every moment at once:
    prices at deposits/withdrawals for model tokens the legs do not price (one
    query) and the pool snapshot aggregates of every yield window (one query)."""
    needed: list[tuple[Moment, int, int, str, int, datetime]] = []
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
                    m.data[pos_id] = replace(
                        an.replace_extra_prices(m.data[pos_id], extra[key]), pegged_at=frozenset(pegged.get(key, ()))
                    )

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
                    for s, e in windows.get((id(m), pos_id), ())
                    if (pdata.pool.id, s, e) in stats
                }


def load(
    *,
    portfolio_ids: Sequence[int],
    as_of: datetime,
    at_close: bool = False,
    position_ids: Sequence[int] | None = None,
    price_overrides: Mapping[str, Decimal] | None = None,
) -> Moment:
    """Everything the analytics of these portfolios need at ``as_of``, in a constant
    number of ``values`` reads (see the module docstring). Latest quotes for a
    valuation today, stored daily prices for one in the past or ``at_close``."""
    rows = read_rows(portfolio_ids=portfolio_ids, until=as_of, position_ids=position_ids)
    quotes = rows.quotes
    if at_close or as_of.astimezone(UTC).date() < timezone.now().astimezone(UTC).date():
        quotes = {**quotes, **token_quotes_at(quotes.keys(), as_of)}
    moment = moment_at(rows, portfolio_ids=portfolio_ids, as_of=as_of, quotes=quotes, price_overrides=price_overrides)
    complete_moments(rows, [moment])
    return moment


def year_start(owner: object, as_of: datetime) -> datetime:
    tz = ZoneInfo(getattr(owner, "timezone", None) or "UTC")
    local = as_of.astimezone(tz)
    return datetime(local.year, 1, 1, tzinfo=tz)


def day_close(day: date) -> datetime:
    """The last moment of a UTC day: snapshots value a day at its close."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1) - timedelta(microseconds=1)
