"""No RefreshRun stays "running": refreshes heartbeat, the reaper fails and re-enqueues
runs whose worker went silent, a soft time limit is a failed run that is retried."""

from __future__ import annotations

import time
from datetime import timedelta
from unittest.mock import patch

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.utils import timezone

from config.heartbeat import REGISTRY, Heartbeat, reap, reap_all
from pools.models import RefreshRun
from pools.services.reaping import STALE_REFRESH_RUNS
from pools.services.refresh import pools_refresh
from pools.tasks import refresh_pools
from tests.pools.conftest import FULLFIELDS, Transport, fixture_bytes, json_response, llama_source, make_batch
from tests.pools.factories import RefreshRunFactory


class SlowSource:
    """Serves the real payload after ``seconds``, or raises ``error`` while "fetching"."""

    name = "test"

    def __init__(self, seconds: float = 0.0, error: BaseException | None = None):
        self.seconds, self.error = seconds, error

    def fetch_pools(self):
        time.sleep(self.seconds)
        if self.error is not None:
            raise self.error
        batch = llama_source(Transport(json_response(fixture_bytes(FULLFIELDS)))).fetch_pools()
        return make_batch(list(batch.records), fetched_at=batch.fetched_at)


def _running(**fields) -> RefreshRun:
    return RefreshRunFactory.create(status="running", finished_at=None, **fields)


# ------------------------------------------------------------------------------------------ heartbeat
@pytest.mark.django_db(transaction=True)  # the heartbeat thread writes through its own connection
def test_a_refresh_heartbeats_while_it_works(settings):
    settings.TASK_HEARTBEAT_SECONDS = 0.2
    seen = []

    class Watching(SlowSource):
        def fetch_pools(self):
            run = RefreshRun.objects.get(status="running")
            for _ in range(4):
                time.sleep(0.3)
                seen.append(RefreshRun.objects.get(pk=run.pk).heartbeat_at)
            return super().fetch_pools()

    run = pools_refresh(source=Watching())
    assert run.status == "succeeded"
    assert None not in seen and len(set(seen)) >= 3  # it moved while the fetch blocked
    assert seen == sorted(seen)


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_stops_with_its_block(settings):
    run = _running()
    with Heartbeat(RefreshRun, run.pk, interval=0.05) as heartbeat:
        time.sleep(0.3)
    beats = heartbeat.beats
    assert beats >= 3
    time.sleep(0.2)
    assert heartbeat.beats == beats
    assert not heartbeat._thread.is_alive()


# ------------------------------------------------------------------------------------------ reaper
def test_the_pools_refresh_runs_are_registered_with_the_reaper():
    assert REGISTRY["pools.RefreshRun"] is STALE_REFRESH_RUNS


@pytest.mark.django_db
def test_a_run_whose_heartbeat_stopped_is_failed_and_its_refresh_queued_again(
    settings, django_capture_on_commit_callbacks
):
    settings.TASK_STALE_AFTER_SECONDS = 120
    now = timezone.now()
    dead = _running(heartbeat_at=now - timedelta(minutes=5))
    never_beat = _running(heartbeat_at=None, started_at=now - timedelta(minutes=10))
    alive = _running(heartbeat_at=now - timedelta(seconds=30))
    done = RefreshRunFactory(status="succeeded", heartbeat_at=now - timedelta(hours=2))
    history = _running(kind="history", heartbeat_at=now - timedelta(minutes=5), detail={"pool_id": 7})
    with (
        patch("pools.services.reaping.refresh_pools.delay") as pools_delay,
        patch("pools.services.reaping.backfill_pool_history.delay") as history_delay,
    ):
        with django_capture_on_commit_callbacks(execute=True):
            counts = reap_all(now=now)
    assert counts["pools.RefreshRun"] == 3
    for run in (dead, never_beat, history):
        run.refresh_from_db()
        assert run.status == "failed"
        assert "stopped heartbeating" in run.error and run.finished_at == now
    alive.refresh_from_db()
    done.refresh_from_db()
    assert (alive.status, done.status) == ("running", "succeeded")
    pools_delay.assert_called_once_with()  # one refresh covers both dead pool runs
    history_delay.assert_called_once_with(pool_id=7)


@pytest.mark.django_db
def test_reaping_twice_does_nothing_the_second_time(django_capture_on_commit_callbacks):
    _running(heartbeat_at=timezone.now() - timedelta(hours=1))
    with patch("pools.services.reaping.refresh_pools.delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            assert len(reap(STALE_REFRESH_RUNS)) == 1
            assert reap(STALE_REFRESH_RUNS) == []
    assert delay.call_count == 1


def test_the_reaper_runs_every_minute_from_beat():
    from config.schedules import SCHEDULES

    task, cron, _ = SCHEDULES["reap-stale-work"]
    assert (task, cron) == ("config.tasks.reap_stale_work", {"minute": "*"})


@pytest.mark.django_db
def test_the_reaper_schedule_is_seeded():
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.get(name="reap-stale-work").task == "config.tasks.reap_stale_work"


# ------------------------------------------------------------------------------------------ soft time limit
@pytest.mark.django_db
def test_a_soft_time_limit_is_a_failed_run_and_the_task_retries():
    source = SlowSource(error=SoftTimeLimitExceeded())
    with (
        patch("pools.services.refresh.pool_source", return_value=source),
        patch.object(refresh_pools, "retry", side_effect=lambda **kw: Retry("again", exc=kw["exc"])) as retry,
    ):
        with pytest.raises(Retry):
            refresh_pools.run()
    run = RefreshRun.objects.get()
    assert run.status == "failed"
    assert run.error.startswith("SoftTimeLimitExceeded") and "soft time limit" in run.error
    assert run.finished_at is not None
    assert isinstance(retry.call_args.kwargs["exc"], SoftTimeLimitExceeded)


@pytest.mark.django_db
def test_anything_that_stops_a_refresh_leaves_a_failed_run_not_a_running_one():
    with pytest.raises(KeyboardInterrupt):
        pools_refresh(source=SlowSource(error=KeyboardInterrupt()))
    assert list(RefreshRun.objects.values_list("status", flat=True)) == ["failed"]


# ------------------------------------------------------------------------------------------ settings
def test_the_broker_redelivers_within_minutes_but_never_while_a_task_may_still_run(settings):
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    visibility = options["visibility_timeout"]
    assert visibility == settings.CELERY_BROKER_VISIBILITY_TIMEOUT
    assert visibility > settings.CELERY_TASK_TIME_LIMIT + settings.TASK_RETRY_MAX_DELAY_SECONDS
    assert visibility <= 20 * 60  # was an hour
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= 60
    from config.celery import BaseTask

    assert BaseTask.retry_backoff_max <= settings.TASK_RETRY_MAX_DELAY_SECONDS
    assert settings.POOL_REFRESH_RETRY_MAX_SECONDS <= settings.TASK_RETRY_MAX_DELAY_SECONDS
    assert settings.POOL_SOURCE_DEADLINE_SECONDS < settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert settings.TASK_STALE_AFTER_SECONDS > 2 * settings.TASK_HEARTBEAT_SECONDS


@pytest.mark.parametrize(
    "env",
    [
        {"CELERY_BROKER_VISIBILITY_TIMEOUT": "300"},  # shorter than a task may run: double delivery
        {"POOL_SOURCE_DEADLINE_SECONDS": "400"},  # longer than the soft time limit
        {"TASK_HEARTBEAT_SECONDS": "60", "TASK_STALE_AFTER_SECONDS": "90"},
    ],
)
def test_settings_that_would_break_liveness_stop_startup(env):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    clean = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings.base")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=root,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
