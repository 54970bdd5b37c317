"""/healthz: can this web process serve, and what is degraded?

States (``status`` in the body) and the HTTP code a load balancer acts on:

* ``ok`` (200): the database, Redis (cache and broker) and a worker answer.
* ``degraded`` (200): pages and the API still work, something behind them does not:
  Redis is down (the cache fails open - config/cache.py - and task requests wait),
  no worker answers (queued work waits), or the pool data is stale. Keep the
  instance in rotation; alert someone.
* ``unhealthy`` (503): the database does not answer; this process can only say so
  (config/outage.py answers 503 everywhere). Take it out of rotation.

Everyone gets the status. The details (each check: database vendor, Redis, worker host
names, last heartbeat, last refresh times) go only to staff users and to requests with
the ``X-Health-Token`` header equal to the ``HEALTH_TOKEN`` setting (for monitoring
that has no session); empty ``HEALTH_TOKEN`` (the default) disables the token.

The ``check_*`` functions are also the data of the human /status/ page.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app
from config.tasks import HEARTBEAT_KEY
from pools.selectors import data_freshness, refresh_runs

WORKER_PING_TIMEOUT = 1.0
TOKEN_HEADER = "X-Health-Token"  # noqa: S105 - a header name, not a secret


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return {"ok": False, "error": exc.__class__.__name__}


def check_cache() -> dict:
    try:
        token = str(time.time_ns())
        cache.set("healthz:probe", token, timeout=10)
        ok = cache.get("healthz:probe") == token
        result: dict[str, Any] = {"ok": ok, "backend": cache.__class__.__name__}
        if not ok:
            result["error"] = "unreachable (serving without the cache: limits not enforced)"
        return result
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": exc.__class__.__name__}


def check_broker() -> dict:
    if not settings.REDIS_URL:
        return {"ok": True, "mode": "in-process (no broker configured)"}
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        return {"ok": True, "mode": "redis"}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "mode": "redis", "error": exc.__class__.__name__}


def check_worker(broker_ok: bool) -> dict:
    if app.conf.task_always_eager:
        return {"ok": True, "mode": "eager (tasks run in the web process)"}
    if not broker_ok:
        return {"ok": False, "error": "broker unreachable"}
    try:
        replies = app.control.ping(timeout=WORKER_PING_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": exc.__class__.__name__}
    result = {"ok": bool(replies), "workers": sorted(name for r in replies for name in r)}
    try:
        result["last_heartbeat"] = cache.get(HEARTBEAT_KEY)
    except Exception as exc:  # noqa: BLE001 - the cache check reports this failure
        result["last_heartbeat"] = f"unknown ({exc.__class__.__name__})"
    return result


def check_refresh(database_ok: bool) -> dict:
    """When each kind of refresh last succeeded and whether the pool data is stale. Not ok only
    when live data went stale (a bundled snapshot is old by nature; a new install has none)."""
    if not database_ok:
        return {"ok": False, "error": "database unreachable"}
    try:
        freshness = data_freshness()
        last: dict[str, str | None] = {}
        for kind in ("pools", "prices", "fx"):
            run = refresh_runs(kind=kind).filter(status="succeeded").values_list("finished_at", flat=True).first()
            last[kind] = run.isoformat() if run else None
    except DatabaseError as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {
        "ok": not (freshness.is_stale and freshness.refreshed_at and not freshness.is_bundled),
        "pool_data_stale": freshness.is_stale,
        "source": freshness.source or None,
        "pool_data_as_of": freshness.as_of.isoformat() if freshness.as_of else None,
        "last_succeeded": last,
    }


def may_see_details(request: HttpRequest) -> bool:
    expected = getattr(settings, "HEALTH_TOKEN", "")
    given = request.headers.get(TOKEN_HEADER, "")
    if expected and given and hmac.compare_digest(given.encode(), expected.encode()):
        return True
    try:
        return bool(request.user.is_authenticated and request.user.is_staff)
    except DatabaseError:  # the session or the user cannot be read: not known to be staff
        return False


def overall_status(checks: dict[str, dict]) -> str:
    if not checks["database"]["ok"]:
        return "unhealthy"
    if all(check["ok"] for check in checks.values()):
        return "ok"
    return "degraded"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = check_database()
    broker = check_broker()
    checks = {
        "database": database,
        "cache": check_cache(),
        "broker": broker,
        "worker": check_worker(broker["ok"]),
        "refresh": check_refresh(database["ok"]),
    }
    status = overall_status(checks)
    body: dict[str, Any] = {"status": status}
    if may_see_details(request):
        body["checks"] = checks
    return JsonResponse(body, status=503 if status == "unhealthy" else 200)
