"""Celery tasks of the portfolios app: thin, idempotent wrappers around services.

* ``revalue_portfolio(portfolio_id)`` - enqueued on commit (``delay_on_commit``)
  by every service that changes holdings; recomputes the portfolio's latest
  valuation and leaves the dashboard's summary of the new ledger version in the cache.
* ``revalue_all_portfolios()`` - fans out ``revalue_portfolios`` in chunks (slow queue).
* ``snapshot_all_portfolios(day=None)`` - daily beat at 00:15 UTC
  (``config/schedules.py`` "snapshot-portfolios"): yesterday's closing value of
  every portfolio, fanned out in chunks of ``SNAPSHOT_CHUNK``; each chunk is one
  bulk upsert, so a rerun (or a retried chunk) changes nothing.

Arguments are ids and ISO dates (JSON only). The tasks call
``portfolios.services.valuation``, which enqueues nothing: the write services
import this module, this module imports only the valuation services, so there
is no import cycle.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from portfolios.selectors import portfolio_ids_all
from portfolios.services.valuation import portfolio_revalue, portfolio_snapshots_write

#: Portfolios per chunk: each chunk is read in a constant number of queries.
REVALUE_CHUNK = 200
SNAPSHOT_CHUNK = 200


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@shared_task(name="portfolios.tasks.revalue_portfolio", ignore_result=True)
def revalue_portfolio(portfolio_id: int) -> int:
    # After a write: the dashboard's summary is computed now (and cached), not at the next view.
    return portfolio_revalue(portfolio_ids=[portfolio_id], warm=True)


@shared_task(name="portfolios.tasks.revalue_portfolios", ignore_result=True)
def revalue_portfolios(portfolio_ids: list[int]) -> int:
    return portfolio_revalue(portfolio_ids=portfolio_ids)


@shared_task(name="portfolios.tasks.revalue_all_portfolios", ignore_result=True)
def revalue_all_portfolios(chunk_size: int = REVALUE_CHUNK) -> int:
    ids = portfolio_ids_all()
    for chunk in _chunks(ids, chunk_size):
        revalue_portfolios.delay(portfolio_ids=chunk)
    return len(ids)


@shared_task(name="portfolios.tasks.snapshot_portfolios", ignore_result=True)
def snapshot_portfolios(portfolio_ids: list[int], day: str) -> int:
    return portfolio_snapshots_write(day=date.fromisoformat(day), portfolio_ids=portfolio_ids)


@shared_task(name="portfolios.tasks.snapshot_all_portfolios", ignore_result=True)
def snapshot_all_portfolios(day: str | None = None, chunk_size: int = SNAPSHOT_CHUNK) -> int:
    """Snapshot every portfolio for ``day`` (ISO date; default: yesterday in UTC,
    the day that just closed when beat runs this at 00:15 UTC)."""
    the_day = date.fromisoformat(day) if day else timezone.now().date() - timedelta(days=1)
    ids = portfolio_ids_all()
    for chunk in _chunks(ids, chunk_size):
        snapshot_portfolios.delay(portfolio_ids=chunk, day=the_day.isoformat())
    return len(ids)
