"""Tracked work that cannot stay "running" forever: heartbeats and a reaper.

A row that records long work (a pool refresh, a tax report, a revaluation, a
wallet sync) says ``running`` while a worker does the work. If the worker is
killed (SIGKILL, OOM, a lost machine) nothing ever writes the row again. So:

* while the work runs, :class:`Heartbeat` (a context manager) sets the row's
  ``heartbeat_at`` every ``TASK_HEARTBEAT_SECONDS`` from a daemon thread; the
  thread dies with the process, which is the point;
* the beat task ``config.tasks.reap_stale_work`` (every minute) calls
  :func:`reap_all`: each registered :class:`StaleWork` marks its rows whose
  heartbeat is older than ``TASK_STALE_AFTER_SECONDS`` as failed, with a
  reason, and re-enqueues their work once the marking has committed.

To use it for another kind of work: add :class:`HeartbeatFields` to the model,
wrap the work in ``with Heartbeat(Model, pk):`` and ``register(StaleWork(...))``
from the app's ``AppConfig.ready`` (see ``pools.apps``). The work must be safe
to run twice: a reaped run's message may also be redelivered by the broker.

Not an app: this module defines an abstract model and plain functions, and
imports no app, so every app may import it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, models, transaction
from django.db.models import Q
from django.utils import timezone

logger = logging.getLogger(__name__)


def heartbeat_interval() -> float:
    return float(getattr(settings, "TASK_HEARTBEAT_SECONDS", 30))


def stale_after() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "TASK_STALE_AFTER_SECONDS", 4 * heartbeat_interval())))


class HeartbeatFields(models.Model):
    """The two columns tracked work needs."""

    heartbeat_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Last sign of life from the worker doing this work."
    )
    task_id = models.CharField(max_length=255, blank=True, editable=False, help_text="The Celery task id.")

    class Meta:
        abstract = True


class Heartbeat:
    """``with Heartbeat(Model, pk):`` sets ``heartbeat_at = now`` on that row at once and
    then every ``interval`` seconds (default ``TASK_HEARTBEAT_SECONDS``) until the block ends.

    A thread rather than calls sprinkled through the work: a blocking read, a long
    statement or a slow upstream must not look like a dead worker. The thread
    writes through its own database connection (closed when it stops), so its
    updates commit at once, whatever transaction the work is in.
    """

    def __init__(
        self, model: type[models.Model], pk: Any, *, interval: float | None = None, field: str = "heartbeat_at"
    ):
        self.model, self.pk, self.field = model, pk, field
        self.interval = heartbeat_interval() if interval is None else interval
        self.beats = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        self.model._default_manager.filter(pk=self.pk).update(**{self.field: timezone.now()})
        self.beats += 1

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    self.beat()
                except Exception:  # a missed beat is not fatal; the reaper tolerates several
                    logger.warning("heartbeat of %s %s failed", self.model.__name__, self.pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{self.model.__name__}-{self.pk}", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


@dataclass(frozen=True)
class StaleWork:
    """How to find and recover one kind of tracked work.

    ``running``: the rows that claim to be running. ``failed(now)``: the field
    updates that mark a row failed, with its reason. ``requeue(rows)``: enqueue the
    work again for the reaped rows (called after commit; may be a no-op).
    ``started_field``: used instead of the heartbeat for rows that never beat.
    """

    name: str
    model: type[models.Model]
    running: Q
    failed: Callable[[datetime], dict[str, Any]]
    requeue: Callable[[list[Any]], None]
    started_field: str = "started_at"


REGISTRY: dict[str, StaleWork] = {}


def register(work: StaleWork) -> StaleWork:
    REGISTRY[work.name] = work
    return work


def reap(work: StaleWork, *, now: datetime | None = None, older_than: timedelta | None = None) -> list[Any]:
    """Mark ``work``'s rows that stopped heartbeating as failed; re-enqueue them after
    commit. Returns the reaped rows. Safe to run concurrently: rows are claimed with
    ``SELECT … FOR UPDATE SKIP LOCKED`` and a conditional update."""
    now = now or timezone.now()
    cutoff = now - (older_than if older_than is not None else stale_after())
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, **{f"{work.started_field}__lt": cutoff})
    manager = work.model._default_manager
    with transaction.atomic():
        candidates = manager.filter(work.running).filter(silent)
        ids = list(candidates.select_for_update(skip_locked=True).values_list("pk", flat=True))
        if not ids:
            return []
        manager.filter(pk__in=ids).filter(work.running).update(**work.failed(now))
        rows = list(manager.filter(pk__in=ids))
        transaction.on_commit(lambda: work.requeue(rows))
    logger.warning("reaped %d stale %s: %s", len(rows), work.name, ids)
    return rows


def reap_all(*, now: datetime | None = None) -> dict[str, int]:
    """Reap every registered kind of work; {name: rows reaped}."""
    return {name: len(reap(work, now=now)) for name, work in REGISTRY.items()}
