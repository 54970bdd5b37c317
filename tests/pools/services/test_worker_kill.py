"""A real Celery worker (a ``celery worker`` subprocess over Redis) killed with SIGKILL in
the middle of a pool refresh: after a restart the refresh completes, with no duplicate
snapshot and no run left "running". The source is the loopback stand-in, so the worker
process reaches it through the settings alone (``POOL_SOURCE_URL``)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from config.celery import app
from config.heartbeat import reap_all
from pools.models import Pool, PoolSnapshot, RefreshRun
from pools.tasks import refresh_pools
from tests.pools.standin import Reply, StandIn, payload, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
QUEUE = "default"


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(name: str, api: StandIn, **env: str) -> subprocess.Popen:
    """``celery worker`` (prefork, one child) in its own process group, against the test
    database and the stand-in."""
    if not django_settings.REDIS_URL:
        pytest.fail("worker tests need REDIS_URL pointing at a real Redis (make test sets it)")
    full = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    full.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=_database_url(),
        REDIS_URL=django_settings.REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        DEBUG="true",
        POOL_SOURCE="defillama",
        POOL_SOURCE_URL=api.url,
        POOL_SOURCE_MIN_POOLS="10",
        POOL_SOURCE_RETRIES="0",
        TASK_HEARTBEAT_SECONDS="1",
        TASK_STALE_AFTER_SECONDS="3",
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    full.update(env)
    return subprocess.Popen(
        [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "config",
            "worker",
            "-P",
            "prefork",
            "-c",
            "1",
            "-Q",
            QUEUE,
            "-n",
            f"{name}@%h",
            "-l",
            "warning",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=full,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool child (its own process group): no goodbye, no ack."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            kill(worker)


def _empty_broker() -> None:
    """Empty the queue, and forget the messages the killed workers left unacknowledged: a
    worker started later (another test's) would otherwise restore and run them once the
    visibility timeout has passed. Only this test's Redis database is touched."""
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_purge(QUEUE)
        channel.client.delete(channel.unacked_key, channel.unacked_index_key)


@pytest.fixture
def broker():
    """Send through Redis (not eagerly) from this process; start and end with an empty broker."""
    app.conf.task_always_eager = False
    _empty_broker()
    yield
    _empty_broker()
    app.conf.task_always_eager = True


def _run_in_fetch(api: StandIn) -> RefreshRun | None:
    run = RefreshRun.objects.filter(kind="pools", status="running", heartbeat_at__isnull=False).first()
    return run if run is not None and api.requests else None


def test_a_refresh_killed_mid_fetch_is_reaped_queued_again_and_completes_once(broker, settings):
    held = threading.Event()
    with StandIn() as api:
        api.serve(Reply(payload(), hold=held), Reply(payload()))  # the first fetch hangs mid-body
        first = start_worker("killed", api)
        try:
            refresh_pools.delay()
            assert wait_for(lambda: _run_in_fetch(api) is not None, timeout=90), "the refresh never started"
            run = _run_in_fetch(api)
            beat = run.heartbeat_at
            assert wait_for(lambda: RefreshRun.objects.get(pk=run.pk).heartbeat_at > beat, timeout=10)
            kill(first)
        finally:
            stop(first)
            held.set()
        # The defect: nothing would ever touch this run again.
        last_beat = RefreshRun.objects.get(pk=run.pk).heartbeat_at
        time.sleep(4)  # longer than the worker's TASK_STALE_AFTER_SECONDS
        run.refresh_from_db()
        assert (run.status, run.heartbeat_at) == ("running", last_beat)

        settings.TASK_STALE_AFTER_SECONDS = 3
        assert reap_all()["pools.RefreshRun"] == 1  # beat calls this every minute
        run.refresh_from_db()
        assert run.status == "failed" and "stopped heartbeating" in run.error

        second = start_worker("restarted", api)
        try:
            assert wait_for(
                lambda: RefreshRun.objects.filter(kind="pools", status="succeeded").exists(), timeout=120
            ), "the queued refresh did not run on the restarted worker"
        finally:
            stop(second)
    assert Pool.objects.count() == 50
    assert PoolSnapshot.objects.count() == 50  # one per pool and day: nothing duplicated
    assert not RefreshRun.objects.filter(status="running").exists()


def test_a_message_of_a_killed_worker_is_redelivered_to_a_restarted_worker(broker):
    """Killing the whole worker leaves its message in Redis's unacked set; a restarted worker
    restores it once the visibility timeout has passed (here 8 s, by default 18 minutes)."""
    fast = {
        "CELERY_TASK_SOFT_TIME_LIMIT": "4",
        "CELERY_TASK_TIME_LIMIT": "5",
        "POOL_SOURCE_DEADLINE_SECONDS": "3",
        "TASK_RETRY_MAX_DELAY_SECONDS": "2",
        "POOL_REFRESH_RETRY_FIRST_SECONDS": "1",
        "POOL_REFRESH_RETRY_MAX_SECONDS": "2",
        "CELERY_BROKER_VISIBILITY_TIMEOUT": "8",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    }
    held = threading.Event()
    with StandIn() as api:
        api.serve(Reply(payload(), hold=held), Reply(payload()))
        first = start_worker("killed", api, **fast)
        try:
            refresh_pools.delay()
            assert wait_for(lambda: _run_in_fetch(api) is not None, timeout=90), "the refresh never started"
            kill(first)
        finally:
            stop(first)
            held.set()
        second = start_worker("restarted", api, **fast)
        try:
            assert wait_for(
                lambda: RefreshRun.objects.filter(kind="pools", status="succeeded").exists(), timeout=120
            ), "the message was not redelivered"
        finally:
            stop(second)
        assert api.requests == ["/pools", "/pools"]  # the same refresh, fetched again by the restarted worker
    assert PoolSnapshot.objects.count() == 50
