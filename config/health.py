"""/healthz: is the database, the cache/broker and a worker reachable?

Status code: 200 when the database and cache/broker answer (a missing worker
is reported as "degraded" but does not fail the web tier: the site still
serves pages), 503 when the database or the cache/broker does not.
"""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app
from config.tasks import HEARTBEAT_KEY

WORKER_PING_TIMEOUT = 1.0


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
        return {"ok": ok, "backend": cache.__class__.__name__}
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


@never_cache
@require_GET
def healthz(request):
    database = check_database()
    cache_status = check_cache()
    broker = check_broker()
    worker = check_worker(broker["ok"])
    essential_ok = database["ok"] and cache_status["ok"] and broker["ok"]
    if not essential_ok:
        status = "unhealthy"
    elif not worker["ok"]:
        status = "degraded"
    else:
        status = "ok"
    body = {
        "status": status,
        "checks": {"database": database, "cache": cache_status, "broker": broker, "worker": worker},
    }
    return JsonResponse(body, status=200 if essential_ok else 503)
