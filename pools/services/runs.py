"""RefreshRun bookkeeping and the configured data source, shared by the pool and
price refreshes."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import timezone

from pools.models import RefreshRun
from pools.sources import get_source


@lru_cache(maxsize=1)
def bundled_source():
    # The bundled files take ~1 s to parse; one instance per process keeps its caches.
    return get_source("bundled")


def pool_source(name: str | None = None):
    """The configured pool source (``settings.POOL_SOURCE``)."""
    name = (name or settings.POOL_SOURCE or "bundled").strip().lower()
    return bundled_source() if name == "bundled" else get_source(name)


def run_finish(run: RefreshRun, status: str, **fields: Any) -> RefreshRun:
    run.status = status
    run.finished_at = timezone.now()
    for key, value in fields.items():
        setattr(run, key, value)
    run.save()
    return run


def run_failed(run: RefreshRun, exc: BaseException) -> RefreshRun:
    """Record why a run failed (the caller re-raises, so the task retries)."""
    return run_finish(run, RefreshRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000])


def run_skipped(kind: str, source: str) -> RefreshRun:
    now = timezone.now()
    return RefreshRun.objects.create(
        kind=kind,
        source=source,
        status=RefreshRun.Status.SKIPPED,
        started_at=now,
        finished_at=now,
        error="Another refresh of this kind was running.",
    )
