"""Project-level tasks: liveness signals used by /healthz and the tests."""

import os
import socket

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "celery:heartbeat"


@shared_task(name="config.tasks.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Run by beat every minute; /healthz shows when it last ran."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_KEY, now, timeout=60 * 60)
    return now


@shared_task(name="config.tasks.echo")
def echo(value: str) -> dict:
    """Round-trip a value through a worker; used to prove a worker is live."""
    return {"value": value, "host": socket.gethostname(), "pid": os.getpid()}


@shared_task(name="config.tasks.reap_stale_work", ignore_result=True)
def reap_stale_work() -> dict:
    """Run by beat every minute: tracked work whose worker stopped heartbeating is marked
    failed and queued again (config/heartbeat.py)."""
    from config.heartbeat import reap_all  # defines a model: importable only once Django is set up

    return reap_all()
