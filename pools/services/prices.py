"""Token prices: the daily store, the bundled history, the scheduled refresh of the
tokens in use (``selectors.tokens_in_use``; ``POOL_PRICE_MIN_TVL_USD``) and
history on demand."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.heartbeat import Heartbeat
from pools import bulk
from pools.locking import refresh_lock
from pools.models import RefreshRun, Token, TokenPrice
from pools.selectors import tokens_in_use
from pools.services.runs import bundled_source, run_failed, run_finish, run_skipped
from pools.signals import prices_refreshed
from pools.sources import get_source


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


PRICE_COLUMNS = ["token_id", "timestamp", "price_usd", "quoted_at", "source"]


def token_prices_store(rows: Sequence[tuple[int, date, Decimal, datetime | None, str]]) -> int:
    """Upsert daily prices ``(token_id, day, price_usd, quoted_at, source)`` and move each
    token's latest price forward. Returns the number of price rows written."""
    if not rows:
        return 0
    q = Decimal("1e-18")
    price_rows = [
        (tid, _day_start(day), price.quantize(q), quoted_at or _day_start(day), source)
        for tid, day, price, quoted_at, source in rows
    ]
    latest: dict[int, tuple] = {}
    for tid, _ts, price, quoted_at, _source in price_rows:
        if tid not in latest or quoted_at > latest[tid][2]:
            latest[tid] = (tid, price, quoted_at)
    with transaction.atomic():
        written = bulk.upsert(
            table=TokenPrice._meta.db_table,
            columns=PRICE_COLUMNS,
            rows=price_rows,
            conflict=["token_id", "timestamp"],
            returning=("id",),
        )
        bulk.update_from(
            table=Token._meta.db_table,
            key="id",
            columns=["id", "last_price_usd", "last_price_at"],
            rows=list(latest.values()),
            update={
                "last_price_usd": "CASE WHEN {T}.last_price_at IS NULL OR {S}.last_price_at >= {T}.last_price_at "
                "THEN {S}.last_price_usd ELSE {T}.last_price_usd END",
                "last_price_at": "CASE WHEN {T}.last_price_at IS NULL OR {S}.last_price_at >= {T}.last_price_at "
                "THEN {S}.last_price_at ELSE {T}.last_price_at END",
            },
            returning=(),
        )
    return len(written)


def token_prices_load_bundled(*, tokens: Iterable[Token] | None = None) -> int:
    """Daily history from the bundled price file for tokens with a ``price_symbol``."""
    source = bundled_source()
    qs = Token.objects.exclude(price_symbol="") if tokens is None else tokens
    by_symbol: dict[str, list[int]] = defaultdict(list)
    for token in qs:
        if token.price_symbol:
            by_symbol[token.price_symbol].append(token.pk)
    rows = []
    for symbol, token_ids in by_symbol.items():
        for point in source.price_history(symbol):
            rows += [(tid, point.day, point.price_usd, None, "bundled") for tid in token_ids]
    return token_prices_store(rows)


def _latest_prices(name: str) -> tuple[list[Token], list[tuple], int]:
    """(tokens in use, price rows to store, tokens without a price) from the named source."""
    tokens = list(tokens_in_use())
    rows: list[tuple] = []
    missing = 0
    if name == "bundled":
        source = bundled_source()
        for token in tokens:
            latest = source.latest_price(token.price_symbol) if token.price_symbol else None
            if latest is None:
                missing += 1
                continue
            rows.append((token.pk, latest.day, latest.price_usd, None, "bundled"))
    else:
        coins = get_source("llama_coins")
        with_id = [t for t in tokens if t.price_id]
        batch = coins.current_prices([t.price_id for t in with_id])
        for token in with_id:
            quote = batch.quotes.get(token.price_id)
            if quote is None:
                missing += 1
                continue
            rows.append(
                (
                    token.pk,
                    quote.timestamp.astimezone(UTC).date(),
                    quote.price_usd,
                    quote.timestamp,
                    "llama_coins",
                )
            )
    return tokens, rows, missing


def prices_refresh(*, source_name: str | None = None, use_lock: bool = True, task_id: str = "") -> RefreshRun:
    """Latest prices of ``selectors.tokens_in_use()``.

    Bundled source: the newest daily price of each token's ``price_symbol``.
    DeFiLlama: ``coins.llama.fi/prices/current`` for their ``price_id`` (chunked).
    """

    name = (source_name or settings.POOL_SOURCE or "bundled").strip().lower()
    kind = RefreshRun.Kind.PRICES
    with refresh_lock(kind, enabled=use_lock) as acquired:
        if not acquired:
            return run_skipped(kind, name)
        run = RefreshRun.objects.create(kind=kind, source=name, started_at=timezone.now(), task_id=task_id or "")
        with Heartbeat(RefreshRun, run.pk):
            try:
                tokens, rows, missing = _latest_prices(name)
                written = token_prices_store(rows)
            except BaseException as exc:  # source faults, a soft time limit...: never left "running"
                run_failed(run, exc)
                raise
        finished = run_finish(
            run,
            RefreshRun.Status.SUCCEEDED,
            updated=written,
            unchanged=len(rows) - written,
            rejected=missing,
            detail={"tokens": len(tokens)},
        )
    if written:
        prices_refreshed.send(sender=RefreshRun, token_ids=sorted({row[0] for row in rows}))
    return finished


def token_price_fetch(*, token: Token, when: datetime | date) -> TokenPrice | None:
    """The token's price on ``when``'s UTC day, fetched from the source and stored if
    we do not have it yet (history on demand, e.g. a reward's fair market value)."""
    day = when.astimezone(UTC).date() if isinstance(when, datetime) else when
    stored = TokenPrice.objects.filter(token=token, timestamp=_day_start(day)).first()
    if stored is not None:
        return stored
    name = (settings.POOL_SOURCE or "bundled").strip().lower()
    if name == "bundled" or not token.price_id:
        if not token.price_symbol:
            return None
        point = bundled_source().price_at(token.price_symbol, day, max_age=timedelta(days=3))
        if point is None:
            return None
        token_prices_store([(token.pk, point.day, point.price_usd, None, "bundled")])
        return TokenPrice.objects.filter(token=token, timestamp=_day_start(point.day)).first()
    batch = get_source("llama_coins").historical_prices(_day_start(day) + timedelta(hours=12), [token.price_id])
    quote = batch.quotes.get(token.price_id)
    if quote is None:
        return None
    token_prices_store([(token.pk, day, quote.price_usd, quote.timestamp, "llama_coins")])
    return TokenPrice.objects.filter(token=token, timestamp=_day_start(day)).first()
