"""RefreshRun bookkeeping and the configured data source, shared by the pool and
price refreshes."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import httpx
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from pools.models import RefreshRun
from pools.sources import get_source
from pools.versioning import data_version_bump


@lru_cache(maxsize=1)
def bundled_source():
    # The bundled files take ~1 s to parse; one instance per process keeps its caches.
    return get_source("bundled")


def source_options(name: str) -> dict:
    """Constructor arguments of a live source, from settings (``POOL_SOURCE_*``)."""
    if name != "defillama":
        return {}
    timeout = float(settings.POOL_SOURCE_TIMEOUT_SECONDS)
    return {
        "base_url": settings.POOL_SOURCE_URL,
        "timeout": httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        "retries": int(settings.POOL_SOURCE_RETRIES),
        "deadline": float(settings.POOL_SOURCE_DEADLINE_SECONDS),
        "min_pools": int(settings.POOL_SOURCE_MIN_POOLS),
    }


def pool_source(name: str | None = None):
    """The configured pool source (``settings.POOL_SOURCE``), built with the ``POOL_SOURCE_*`` settings."""
    name = (name or settings.POOL_SOURCE or "bundled").strip().lower()
    return bundled_source() if name == "bundled" else get_source(name, **source_options(name))


def run_finish(run: RefreshRun, status: str, **fields: Any) -> RefreshRun:
    run.status = status
    run.finished_at = timezone.now()
    for key, value in fields.items():
        setattr(run, key, value)
    run.save()
    if status == RefreshRun.Status.SUCCEEDED and run.kind == RefreshRun.Kind.POOLS:
        data_version_bump()  # pages say when the data was last loaded
    return run


def run_failed(run: RefreshRun, exc: BaseException) -> RefreshRun:
    """Record why a run failed (the caller re-raises, so the task retries)."""
    if isinstance(exc, SoftTimeLimitExceeded):
        message = "the task's soft time limit was reached; the task retries"
    else:
        message = str(exc)
    return run_finish(run, RefreshRun.Status.FAILED, error=f"{type(exc).__name__}: {message}"[:5000])


def run_stale_failure(now) -> dict[str, Any]:
    """The fields that mark a run whose worker stopped heartbeating as failed."""
    return {
        "status": RefreshRun.Status.FAILED,
        "finished_at": now,
        "error": "The worker stopped heartbeating (killed, out of memory or lost) and the run was "
                 f"reaped at {now:%Y-%m-%d %H:%M:%S} UTC; the refresh was queued again.",
    }


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
