"""pools_refresh and its task: source faults keep the last good data, the lock
prevents overlapping refreshes, retries are scheduled, a real worker runs it."""

import threading
import time
from unittest.mock import patch

import httpx
import psycopg
import pytest
from celery.exceptions import Retry
from django.db import connection, connections

from config.backoff import backoff_countdown
from pools.locking import lock_key, refresh_lock
from pools.models import Pool, RefreshRun
from pools.services.refresh import pools_refresh
from pools.sources import SourceError
from pools.tasks import refresh_pools, retry_delays
from tests.pools.conftest import FULLFIELDS, Transport, fixture_bytes, json_response, llama_source, make_batch

BODY = fixture_bytes(FULLFIELDS)


def _good() -> httpx.Response:
    return json_response(BODY)


FAULTS = {
    "timeout": lambda: httpx.ReadTimeout("read timed out"),
    "server error": lambda: json_response(b'{"error": "upstream"}', status=503),
    "malformed json": lambda: json_response(BODY.replace(b'"tvlUsd":', b'"tvlUsd"', 1)),
    "truncated payload": lambda: json_response(BODY[: len(BODY) // 2]),
    "error envelope": lambda: json_response(b'{"status": "error", "data": null}'),
}


@pytest.fixture
def good_data(db):
    """A first, successful refresh from the real payload."""
    run = pools_refresh(source=llama_source(Transport(_good())))
    assert run.status == RefreshRun.Status.SUCCEEDED
    return run


def _pool_state():
    return sorted(Pool.objects.values_list("external_id", "tvl_usd", "apy", "is_active", "missed_refreshes"))


def test_a_refresh_records_a_succeeded_run_with_its_counts(good_data):
    assert (good_data.created, good_data.updated, good_data.unchanged, good_data.rejected) == (50, 0, 0, 0)
    assert good_data.source == "defillama"
    assert good_data.finished_at >= good_data.started_at
    assert good_data.data_as_of is not None
    assert good_data.snapshots_written == 50
    assert Pool.objects.filter(risk_score__isnull=False).count() == 50


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_source_fault_records_a_failed_run_and_keeps_the_last_good_data(good_data, fault):
    before = _pool_state()
    transport = Transport(FAULTS[fault]())
    with pytest.raises(SourceError):
        pools_refresh(source=llama_source(transport))
    run = RefreshRun.objects.latest("started_at")
    assert run.status == RefreshRun.Status.FAILED
    assert run.error
    assert run.finished_at is not None
    assert _pool_state() == before  # nothing overwritten, nothing marked missing


def test_a_transient_5xx_is_retried_inside_the_source_and_then_succeeds(good_data):
    transport = Transport(json_response(b"", status=502), _good())
    run = pools_refresh(source=llama_source(transport, retries=1))
    assert run.status == RefreshRun.Status.SUCCEEDED
    assert len(transport.requests) == 2


@pytest.mark.parametrize("fault", ["timeout", "server error", "truncated payload"])
def test_the_task_schedules_a_retry_with_backoff_on_a_source_fault(db, fault):
    source = llama_source(Transport(FAULTS[fault]()))
    with patch("pools.services.refresh.pool_source", return_value=source), \
            patch.object(refresh_pools, "retry", side_effect=lambda **kw: Retry("retrying", exc=kw["exc"])) as retry:
        with pytest.raises(Retry):
            refresh_pools.run()
    retry.assert_called_once()
    kwargs = retry.call_args.kwargs
    assert isinstance(kwargs["exc"], SourceError)
    assert 54 <= kwargs["countdown"] <= 60  # the first retry after about a minute (10 % jitter)
    assert kwargs["max_retries"] == len(retry_delays())
    assert RefreshRun.objects.get().status == RefreshRun.Status.FAILED


def test_the_retries_ride_out_an_outage_of_an_hour(settings):
    """Celery's own jittered backoff could spend five retries within a minute; these cannot."""
    delays = retry_delays()
    assert delays[:4] == [60, 120, 240, 480] and max(delays) == 600
    shortest = [backoff_countdown(n, delays, 0.1, rng=type("Low", (), {"uniform": lambda s, a, b: a})())
                for n in range(len(delays))]
    assert sum(shortest) >= 3600
    # and no countdown outlasts the broker's visibility timeout (or the message would be delivered twice)
    assert max(delays) + settings.CELERY_TASK_TIME_LIMIT < settings.CELERY_BROKER_VISIBILITY_TIMEOUT


def test_the_task_returns_the_run(db):
    source = llama_source(Transport(_good()))
    with patch("pools.services.refresh.pool_source", return_value=source):
        result = refresh_pools.delay().get()
    assert result["status"] == "succeeded"
    assert RefreshRun.objects.get(pk=result["run_id"]).created == 50


# --------------------------------------------------------------------------------------------- lock
def _second_connection() -> psycopg.Connection:
    s = connection.settings_dict
    return psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                           password=s["PASSWORD"] or None, dbname=s["NAME"], autocommit=True)


def test_a_refresh_is_skipped_while_another_connection_holds_the_lock(good_data):
    before = _pool_state()
    with _second_connection() as other:
        other.execute("SELECT pg_advisory_lock(%s)", [lock_key(RefreshRun.Kind.POOLS)])
        run = pools_refresh(source=llama_source(Transport(_good())))
        other.execute("SELECT pg_advisory_unlock(%s)", [lock_key(RefreshRun.Kind.POOLS)])
    assert run.status == RefreshRun.Status.SKIPPED
    assert "running" in run.error
    assert _pool_state() == before
    # once released, the next refresh runs
    assert pools_refresh(source=llama_source(Transport(_good()))).status == RefreshRun.Status.SUCCEEDED


def test_the_lock_is_released_after_a_failed_refresh(good_data):
    with pytest.raises(SourceError):
        pools_refresh(source=llama_source(Transport(FAULTS["timeout"]())))
    with _second_connection() as other:
        got = other.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(RefreshRun.Kind.POOLS)]).fetchone()[0]
    assert got is True


class BlockingSource:
    """Serves the real payload, but holds every caller inside fetch_pools until released."""

    name = "test"

    def __init__(self):
        self.inside = 0
        self.max_inside = 0
        self.guard = threading.Lock()
        self.entered = threading.Event()
        self.release = threading.Event()

    def fetch_pools(self):
        with self.guard:
            self.inside += 1
            self.max_inside = max(self.max_inside, self.inside)
        self.entered.set()
        self.release.wait(10)
        batch = llama_source(Transport(_good())).fetch_pools()
        with self.guard:
            self.inside -= 1
        return make_batch(list(batch.records), fetched_at=batch.fetched_at)


def _race(use_lock: bool) -> tuple[BlockingSource, list[str]]:
    source = BlockingSource()
    statuses: list[str] = []

    def run():
        try:
            statuses.append(pools_refresh(source=source, use_lock=use_lock).status)
        finally:
            connections.close_all()

    first = threading.Thread(target=run)
    first.start()
    assert source.entered.wait(10)
    second = threading.Thread(target=run)
    second.start()
    deadline = time.monotonic() + 10
    while second.is_alive() and source.inside < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    source.release.set()
    first.join(20)
    second.join(20)
    return source, sorted(statuses)


@pytest.mark.django_db(transaction=True)
def test_without_the_lock_two_refreshes_overlap():
    source, statuses = _race(use_lock=False)
    assert source.max_inside == 2  # the race the lock exists to prevent
    assert statuses == ["succeeded", "succeeded"]


@pytest.mark.django_db(transaction=True)
def test_with_the_lock_a_concurrent_refresh_is_recorded_as_skipped():
    source, statuses = _race(use_lock=True)
    assert source.max_inside == 1
    assert statuses == ["skipped", "succeeded"]
    assert RefreshRun.objects.filter(status="skipped").count() == 1
    assert Pool.objects.count() == 50


def test_the_cache_lock_used_on_sqlite_excludes_a_second_holder(db, monkeypatch):
    import pools.locking

    class FakeConnection:
        vendor = "sqlite"

    monkeypatch.setattr(pools.locking, "connection", FakeConnection())
    with refresh_lock("pools") as first:
        with refresh_lock("pools") as second:
            assert (first, second) == (True, False)
    with refresh_lock("pools") as again:
        assert again is True


# --------------------------------------------------------------------------------------------- worker
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_refresh_pools_runs_on_a_real_worker_through_redis(real_worker):
    source = llama_source(Transport(_good()))
    with patch("pools.services.refresh.pool_source", return_value=source):
        result = refresh_pools.delay()
        payload = result.get(timeout=60)
    assert payload["status"] == "succeeded"
    run = RefreshRun.objects.get(pk=payload["run_id"])
    assert (run.kind, run.created) == ("pools", 50)
    assert Pool.objects.count() == 50


def test_later_refreshes_the_same_day_rescore_only_changed_pools(good_data):
    changed_body = BODY.replace(b'"tvlUsd":815672271.0', b'"tvlUsd":815672272.0', 1)
    assert changed_body != BODY
    with patch("pools.services.refresh.pool_risk_refresh") as risk:
        pools_refresh(source=llama_source(Transport(_good())))
        risk.assert_not_called()  # nothing changed
        pools_refresh(source=llama_source(Transport(json_response(changed_body))))
    changed = Pool.objects.get(external_id="bc33d1ea-f566-40eb-b0a8-8d8dcf425f18")
    risk.assert_called_once_with(pool_ids=[changed.pk])


def test_the_first_refresh_of_a_day_rescores_every_pool(good_data):
    from django.core.cache import cache

    from pools.services.refresh import RISK_FULL_DAY_KEY

    cache.set(RISK_FULL_DAY_KEY, "2000-01-01")
    with patch("pools.services.refresh.pool_risk_refresh") as risk:
        pools_refresh(source=llama_source(Transport(_good())))
    risk.assert_called_once_with()
