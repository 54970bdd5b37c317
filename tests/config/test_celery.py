"""The same task through a real worker over Redis, and eagerly in process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.celery import app
from config.tasks import echo, heartbeat

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.worker
def test_a_task_runs_on_a_real_worker_through_redis(real_worker):
    assert app.conf.broker_url.startswith("redis://")
    result = echo.delay("through the broker")
    payload = result.get(timeout=20)
    assert payload["value"] == "through the broker"
    assert payload["pid"] == os.getpid()  # the in-process test worker ran it
    assert result.successful()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)  # the worker's Django fixup closes DB connections
def test_healthz_sees_the_live_worker(real_worker, admin_client):
    response = admin_client.get("/healthz")  # staff see the details
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"]["ok"] is True
    assert body["checks"]["worker"]["workers"]


def test_the_same_task_runs_eagerly_in_process():
    assert app.conf.task_always_eager is True
    result = echo.delay("in process")
    assert result.get()["value"] == "in process"


def test_the_embedded_default_runs_tasks_in_process_without_any_service():
    code = (
        "import django, json; django.setup();"
        "from config.celery import app; from config.tasks import echo;"
        "r = echo.delay('embedded');"
        "print(json.dumps({'eager': app.conf.task_always_eager, 'value': r.get()['value']}))"
    )
    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"eager": True, "value": "embedded"}


@pytest.mark.uses_cache
def test_heartbeat_records_when_it_ran(db):
    from django.core.cache import cache

    from config.tasks import HEARTBEAT_KEY

    stamp = heartbeat.delay().get()
    assert cache.get(HEARTBEAT_KEY) == stamp


@pytest.mark.django_db
def test_beat_schedules_are_seeded_in_the_database():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="heartbeat")
    assert task.task == "config.tasks.heartbeat"
    assert task.crontab.minute == "*"
