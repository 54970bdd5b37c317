"""Issue 14, "upstream data": the refresh against a loopback stand-in for the DeFiLlama
API (a real HTTP server in a thread) serving faulty payloads. Each test reproduces one
defect of the list: they failed before the fix (see the commit message)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest
from celery.exceptions import Retry

from pools.models import Pool, PoolSnapshot, RefreshRun
from pools.services.refresh import pools_refresh
from pools.services.runs import pool_source
from pools.sources import SourceServerError, SourceTimeoutError
from pools.tasks import refresh_pools
from tests.pools.standin import NAN, Reply, StandIn, payload, pool_ids

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 10, 6, 7, 0, tzinfo=UTC)
IDS = pool_ids()


@pytest.fixture
def api(settings):
    """The stand-in, and the live source pointed at it through the settings alone."""
    with StandIn() as stand_in:
        settings.POOL_SOURCE = "defillama"
        settings.POOL_SOURCE_URL = stand_in.url
        settings.POOL_SOURCE_MIN_POOLS = 10
        settings.POOL_SOURCE_RETRIES = 0
        settings.POOL_SOURCE_TIMEOUT_SECONDS = 10
        settings.POOL_SOURCE_DEADLINE_SECONDS = 30
        yield stand_in


def _refresh(api, body: bytes) -> RefreshRun:
    api.serve(Reply(body))
    return pools_refresh()


def _pool(index: int) -> Pool:
    return Pool.objects.get(external_id=IDS[index])


def _active() -> int:
    return Pool.objects.filter(is_active=True).count()


def test_the_source_url_timeout_and_retries_come_from_the_settings(api, settings):
    settings.POOL_SOURCE_RETRIES = 2
    source = pool_source()
    assert (source.base_url, source.policy.retries, source.deadline, source.min_pools) == (api.url, 2, 30, 10)
    assert source.timeout.read == 10
    api.serve(Reply(b"{}", status=503))
    with pytest.raises(SourceServerError):
        pools_refresh()
    assert api.requests == ["/pools"] * 3  # 1 + 2 retries, all to the configured URL


# ------------------------------------------------------------------------------------------ deadline
def test_a_trickling_source_cannot_hold_the_refresh_beyond_the_deadline(api, settings):
    """Each read gets a byte well within the 10 s read timeout, so only an overall deadline
    stops it: the whole body would take about 80 s."""
    assert _refresh(api, payload(at=T0)).status == "succeeded"
    before = sorted(Pool.objects.values_list("external_id", "tvl_usd", "apy"))
    settings.POOL_SOURCE_DEADLINE_SECONDS = 2
    api.serve(Reply(payload(at=T0 + timedelta(hours=1)), trickle=(64, 0.1)))
    started = time.monotonic()
    with pytest.raises(SourceTimeoutError, match="deadline"):
        pools_refresh()
    assert time.monotonic() - started < 4
    run = RefreshRun.objects.latest("started_at")
    assert run.status == "failed" and "deadline" in run.error
    assert sorted(Pool.objects.values_list("external_id", "tvl_usd", "apy")) == before  # last good data kept


def test_a_source_that_goes_silent_mid_body_is_cut_off_at_the_deadline(api, settings):
    settings.POOL_SOURCE_DEADLINE_SECONDS = 1.5
    release = threading.Event()
    api.serve(Reply(payload(at=T0), hold=release))
    started = time.monotonic()
    try:
        with pytest.raises(SourceTimeoutError, match="deadline"):
            pools_refresh()
        assert time.monotonic() - started < 3.5  # not the 10 s read timeout
    finally:
        release.set()


def test_the_deadline_also_bounds_retries(api, settings):
    settings.POOL_SOURCE_RETRIES = 10
    settings.POOL_SOURCE_DEADLINE_SECONDS = 1.5
    api.serve(Reply(b"{}", status=503))
    started = time.monotonic()
    with pytest.raises(SourceServerError):
        pools_refresh()  # 1 s, 2 s... backoff: no second attempt fits in 1.5 s
    assert time.monotonic() - started < 3
    assert len(api.requests) <= 2


# ------------------------------------------------------------------------------------------ misses
FAULTY_RECORDS = {
    0: {"tvlUsd": NAN},
    1: {"tvlUsd": -5},
    2: {"tvlUsd": Decimal("1e12")},
    3: {"chain": None},  # no chain: the whole record is rejected
    4: {"apy": NAN, "apyBase": NAN},
}


def test_pools_whose_records_are_rejected_are_not_deactivated(api, settings):
    """Three payloads with bad numbers in a row deactivated pools the source did list."""
    settings.POOL_INACTIVE_AFTER_MISSES = 3
    assert _refresh(api, payload(at=T0)).status == "succeeded"
    assert _active() == 50
    for hour in (1, 2, 3, 4):
        run = _refresh(api, payload(at=T0 + timedelta(hours=hour), changes=FAULTY_RECORDS))
        assert run.status == "succeeded"
        assert run.deactivated == 0
    assert _active() == 50
    assert set(Pool.objects.values_list("missed_refreshes", flat=True)) == {0}
    # what was wrong is on the run
    assert run.rejected == 1 and run.rejection_reasons == {"missing_field": 1}
    assert run.kept_fields["tvl_usd"] == {"non_finite": 1, "tvl_out_of_range": 2}
    # ... while a pool the source really stopped listing still goes after three refreshes
    listed_without_pool_9 = payload(at=T0 + timedelta(hours=8)).replace(IDS[9].encode(), b"another-pool-id")
    for _ in range(3):
        _refresh(api, listed_without_pool_9)
    assert _pool(9).is_active is False


# ------------------------------------------------------------------------------------------ partial records
def test_fields_that_fail_validation_keep_their_last_good_values_while_valid_fields_update(api):
    """Null or -1 APY components overwrote good values (10 active pools lost their APY and
    their risk scores moved)."""
    assert _refresh(api, payload(at=T0)).status == "succeeded"
    targets = [i for i in range(50) if _pool(i).apy_base and _pool(i).apy_reward][:10]
    assert len(targets) == 10
    before = {i: _pool(i) for i in targets}
    faults = {}
    for n, i in enumerate(targets):
        faults[i] = {"apyBase": -1} if n % 3 == 0 else {"apyReward": -1} if n % 3 == 1 else {"apy": None}
    scale = {i: {"tvlUsd": Decimal("1.01")} for i in targets}  # a valid change in the same records
    run = _refresh(api, payload(at=T0 + timedelta(hours=1), changes=faults, scale=scale))
    assert run.status == "succeeded"
    for i in targets:
        pool = _pool(i)
        assert (pool.apy, pool.apy_base, pool.apy_reward) == (before[i].apy, before[i].apy_base, before[i].apy_reward)
        assert pool.tvl_usd == (before[i].tvl_usd * Decimal("1.01")).quantize(Decimal("0.01"))
        assert pool.risk_score == before[i].risk_score
    assert run.kept_fields == {"apy_base": {"negative": 4}, "apy_reward": {"negative": 3}, "apy": {"missing": 3}}
    assert PoolSnapshot.objects.filter(pool__external_id__in=[IDS[i] for i in targets], apy__isnull=True).count() == 0


# ------------------------------------------------------------------------------------------ spike guard
def test_the_spike_guard_compares_every_metric_with_the_last_accepted_value(api):
    """The guard looked at TVL and total APY only, and only against values changed within
    5 hours: after six quiet hours a 50x base APY or volume went straight in."""
    for hour in range(7):
        assert _refresh(api, payload(at=T0 + timedelta(hours=hour))).status == "succeeded"
    target = next(i for i in range(50) if _pool(i).apy_base and _pool(i).volume_usd_1d and _pool(i).apy_base > 1)
    before = _pool(target)
    run = _refresh(
        api, payload(at=T0 + timedelta(hours=7), scale={target: {"apyBase": 50, "volumeUsd1d": 50, "apy": 50}})
    )
    after = _pool(target)
    assert (after.apy_base, after.volume_usd_1d, after.apy) == (before.apy_base, before.volume_usd_1d, before.apy)
    assert run.spike_skipped == 1
    assert sorted(p["field"] for p in run.spike_pools) == ["apy", "apy_base", "volume_usd_1d"]


@pytest.mark.parametrize("fault", [{"tvlUsd": Decimal("1e12")}, {"tvlUsd": NAN}, {"tvlUsd": -1}])
def test_impossible_values_are_never_stored(api, fault):
    assert _refresh(api, payload(at=T0)).status == "succeeded"
    before = _pool(0).tvl_usd
    _refresh(api, payload(at=T0 + timedelta(hours=1), changes={0: fault}))
    assert _pool(0).tvl_usd == before


# ------------------------------------------------------------------------------------------ retries
def test_an_outage_is_retried_for_about_an_hour_not_a_minute(api):
    api.serve(Reply(b"upstream down", status=502))
    countdowns = []
    for retries in range(20):
        with (
            patch.object(refresh_pools, "retry", side_effect=lambda **kw: Retry("again", exc=kw["exc"])) as retry,
            patch.object(refresh_pools.request, "retries", retries),
        ):
            with pytest.raises(Retry):
                refresh_pools.run()
        countdowns.append(retry.call_args.kwargs["countdown"])
        if retries + 1 >= retry.call_args.kwargs["max_retries"]:
            break
    assert sum(countdowns) >= 3600
    assert countdowns[0] <= 60 and max(countdowns) <= 600
    assert RefreshRun.objects.filter(status="running").count() == 0
