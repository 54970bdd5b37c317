"""DefiLlamaYieldsSource against real recorded payloads served by httpx.MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from pools.sources import (
    DefiLlamaYieldsSource,
    IncompletePayloadError,
    MalformedPayloadError,
    PoolBatch,
    SourceClientError,
    SourceConnectionError,
    SourceError,
    SourceServerError,
    SourceTimeoutError,
    get_source,
)
from tests.pools.sources._support import ScriptedTransport, SleepRecorder, fixture_bytes, ok

FULL = fixture_bytes("pools-fullfields-first50.json")
DEX = fixture_bytes("pools-dex-first50.json")
CHART = fixture_bytes("chart-10137e20-efbc-4e15-a733-17ecb52c48e8.json")
CHART_POOL = "10137e20-efbc-4e15-a733-17ecb52c48e8"
FIXED_NOW = datetime(2025, 10, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def source(transport: ScriptedTransport, sleep, **kwargs) -> DefiLlamaYieldsSource:
    kwargs.setdefault("min_pools", 10)
    return DefiLlamaYieldsSource(transport.client(), sleep=sleep, clock=lambda: FIXED_NOW, **kwargs)


def timeout_error() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("timed out")


# ----------------------------------------------------------------------------- happy paths
@pytest.mark.parametrize("body", [FULL, DEX], ids=["fullfields", "core-fields"])
def test_fetch_pools_parses_real_payload(body, sleeps):
    transport = ScriptedTransport(ok(body))
    batch = source(transport, sleeps).fetch_pools()
    assert isinstance(batch, PoolBatch)
    assert len(batch.records) == 50 and batch.rejections == ()
    assert batch.fetched_at == FIXED_NOW and batch.source == "defillama"
    assert all(isinstance(r.tvl_usd, Decimal) for r in batch.records)
    assert all(r.apy is None or isinstance(r.apy, Decimal) for r in batch.records)
    assert str(transport.requests[0].url) == "https://yields.llama.fi/pools"
    assert sleeps.calls == []


def test_pool_values_match_the_payload_text(sleeps):
    batch = source(ScriptedTransport(ok(FULL)), sleeps).fetch_pools()
    steth = batch.by_id()["57d30b9c-fc66-4ac2-b666-69ad5f410cce"]
    assert steth.symbol == "ETH-STETH" and steth.project == "curve-dex" and steth.kind == "stableswap"
    assert steth.tvl_usd == Decimal("208895189.0")
    assert steth.apy == Decimal("2.12") and steth.apy_reward is None
    assert steth.mu == Decimal("3.49447") and steth.count == 1289 and steth.il_risk == "no"


def test_base_url_is_configurable(sleeps):
    transport = ScriptedTransport(ok(DEX))
    source(transport, sleeps, base_url="http://mirror.local/yields/").fetch_pools()
    assert str(transport.requests[0].url) == "http://mirror.local/yields/pools"


def test_fetch_history_parses_real_chart(sleeps):
    transport = ScriptedTransport(ok(CHART))
    points = source(transport, sleeps).fetch_history(CHART_POOL)
    assert str(transport.requests[0].url) == f"https://yields.llama.fi/chart/{CHART_POOL}"
    assert len(points) == 83
    assert points[0].timestamp.date().isoformat() == "2025-07-10"
    assert points[-1].timestamp.date().isoformat() == "2025-10-06"
    assert all(p.timestamp.tzinfo is UTC for p in points)
    assert all(isinstance(p.tvl_usd, Decimal) and isinstance(p.apy, Decimal) for p in points)
    assert [p.timestamp for p in points] == sorted(p.timestamp for p in points)
    assert any(p.apy_reward for p in points)  # AERO rewards


def test_history_drops_bad_points_but_keeps_the_rest(sleeps):
    body = CHART.decode().replace('"apy":', '"apy":NaN,"x":', 1)
    points = source(ScriptedTransport(ok(body)), sleeps).fetch_history(CHART_POOL)
    assert len(points) == 82


@pytest.mark.parametrize("bad_id", ["", "../pools", "a/b", "x?y=1", " spaced"])
def test_history_refuses_bad_pool_ids(bad_id, sleeps):
    transport = ScriptedTransport(ok(CHART))
    with pytest.raises(ValueError):
        source(transport, sleeps).fetch_history(bad_id)
    assert transport.requests == []


# ----------------------------------------------------------------------------- faults
def test_timeouts_are_retried_with_exponential_backoff_then_raise(sleeps):
    transport = ScriptedTransport(timeout_error())
    src = source(transport, sleeps, retries=3, backoff=0.5)
    with pytest.raises(SourceTimeoutError) as info:
        src.fetch_pools()
    assert isinstance(info.value, SourceError)
    assert len(transport.requests) == 4  # 1 try + 3 retries
    assert sleeps.calls == [0.5, 1.0, 2.0]


def test_timeout_then_success(sleeps):
    transport = ScriptedTransport(timeout_error(), ok(DEX))
    batch = source(transport, sleeps, backoff=1).fetch_pools()
    assert len(batch.records) == 50 and sleeps.calls == [1]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_then_success_on_retry(status, sleeps):
    transport = ScriptedTransport(ok(b"<html>bad gateway</html>", status), ok(FULL))
    batch = source(transport, sleeps).fetch_pools()
    assert len(batch.records) == 50
    assert len(transport.requests) == 2 and len(sleeps.calls) == 1


def test_persistent_server_error_raises_after_retries(sleeps):
    transport = ScriptedTransport(ok(b"", 503))
    with pytest.raises(SourceServerError) as info:
        source(transport, sleeps, retries=2, backoff=1, max_backoff=1.5).fetch_pools()
    assert info.value.status_code == 503
    assert len(transport.requests) == 3 and sleeps.calls == [1, 1.5]  # capped by max_backoff


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_are_not_retried(status, sleeps):
    transport = ScriptedTransport(ok(b'{"error":"nope"}', status))
    with pytest.raises(SourceClientError) as info:
        source(transport, sleeps).fetch_pools()
    assert info.value.status_code == status
    assert len(transport.requests) == 1 and sleeps.calls == []


def test_rate_limit_is_retried_honouring_retry_after(sleeps):
    transport = ScriptedTransport(ok(b"", 429, **{"Retry-After": "7"}), ok(DEX))
    assert len(source(transport, sleeps).fetch_pools().records) == 50
    assert sleeps.calls == [7.0]


def test_connection_errors_are_retried_then_raise(sleeps):
    transport = ScriptedTransport(httpx.ConnectError("refused"))
    with pytest.raises(SourceConnectionError):
        source(transport, sleeps, retries=1).fetch_pools()
    assert len(transport.requests) == 2


@pytest.mark.parametrize(
    "body",
    [b"<!DOCTYPE html><html>Cloudflare error</html>", b'{"status":"success","data":[}', b"\xff\xfe\x00garbage"],
    ids=["html", "bad-syntax", "not-utf8"],
)
def test_malformed_json_raises(body, sleeps):
    transport = ScriptedTransport(ok(body))
    with pytest.raises(MalformedPayloadError):
        source(transport, sleeps).fetch_pools()
    assert len(transport.requests) == 1  # payload errors are not retried


@pytest.mark.parametrize("cut", [len(FULL) // 2, len(FULL) - 1, 30, 0])
def test_truncated_body_raises_incomplete(cut, sleeps):
    with pytest.raises(IncompletePayloadError):
        source(ScriptedTransport(ok(FULL[:cut])), sleeps).fetch_pools()


@pytest.mark.parametrize(
    "body",
    [
        b'{"status":"error","data":[]}',
        b'{"status":"error","message":"Internal error"}',
        b'{"data":[]}',
        b'{"status":"success"}',
        b'{"status":"success","data":null}',
    ],
)
def test_status_error_or_missing_data_raises_incomplete(body, sleeps):
    with pytest.raises(IncompletePayloadError):
        source(ScriptedTransport(ok(body)), sleeps).fetch_pools()


@pytest.mark.parametrize("body", [b'{"status":"success","data":{"a":1}}', b"[1,2,3]", b'"success"'])
def test_wrong_shape_raises_malformed(body, sleeps):
    with pytest.raises(MalformedPayloadError):
        source(ScriptedTransport(ok(body)), sleeps).fetch_pools()


def test_fewer_records_than_sanity_minimum_raises(sleeps):
    with pytest.raises(IncompletePayloadError, match="sanity minimum 51"):
        source(ScriptedTransport(ok(FULL)), sleeps, min_pools=51).fetch_pools()
    assert len(source(ScriptedTransport(ok(FULL)), sleeps, min_pools=50).fetch_pools().records) == 50


def test_default_sanity_minimum_rejects_a_50_pool_answer(sleeps):
    src = DefiLlamaYieldsSource(ScriptedTransport(ok(FULL)).client(), sleep=sleeps)
    with pytest.raises(IncompletePayloadError):
        src.fetch_pools()


def test_mostly_rejected_payload_fails_the_sanity_minimum(sleeps):
    body = FULL.decode().replace('"tvlUsd":', '"tvlUsd":NaN,"was":')
    with pytest.raises(IncompletePayloadError, match="only 0 valid pools of 50"):
        source(ScriptedTransport(ok(body)), sleeps).fetch_pools()


def test_bad_records_are_rejected_and_counted(sleeps):
    text = FULL.decode()
    payload = text[: -len("]}")]  # keep the 50 real records, append altered copies of real ones
    first = text[len('{"status":"success","data":[') :].split(',{"chain"')[0]
    pool_id = "bc33d1ea-f566-40eb-b0a8-8d8dcf425f18"
    variants = {
        "missing-id": first.replace(f'"pool":"{pool_id}",', ""),
        "nan": first.replace(pool_id, "nan-1").replace('"apyBase":8e-05', '"apyBase":NaN'),
        "inf": first.replace(pool_id, "inf-1").replace('"mu":0.04528', '"mu":Infinity'),
        "small": first.replace(pool_id, "small-1").replace('"tvlUsd":815672271.0', '"tvlUsd":999.0'),
        "large": first.replace(pool_id, "large-1").replace('"tvlUsd":815672271.0', '"tvlUsd":6e10'),
        "apy": first.replace(pool_id, "apy-1").replace('"apy":0.07324', '"apy":1000000.5'),
        "negative": first.replace(pool_id, "neg-1").replace('"apy":0.07324', '"apy":-4.2'),
        "duplicate": first,
    }
    body = payload + "," + ",".join(variants.values()) + "]}"
    batch = source(ScriptedTransport(ok(body)), sleeps).fetch_pools()
    # only records without an identity are rejected; a bad number invalidates its field
    assert batch.rejection_counts == {"missing_pool_id": 1, "duplicate_pool_id": 1}
    assert len(batch.records) == 56
    invalid = {r.pool_id: r.invalid_fields for r in batch.records if r.invalid}
    assert invalid == {
        "nan-1": {"apy_base": "non_finite"},
        "inf-1": {"mu": "non_finite"},
        "small-1": {"tvl_usd": "tvl_out_of_range"},
        "large-1": {"tvl_usd": "tvl_out_of_range"},
        "apy-1": {"apy": "apy_too_high"},
        "neg-1": {"apy": "negative"},
    }
    assert batch.by_id()["neg-1"].apy is None


# ----------------------------------------------------------------------------- lifecycle
def test_own_client_is_created_and_closed():
    src = DefiLlamaYieldsSource(timeout=5)
    assert isinstance(src.client, httpx.Client)
    src.close()
    assert src.client.is_closed


def test_borrowed_client_is_not_closed(sleeps):
    client = ScriptedTransport(ok(DEX)).client()
    with DefiLlamaYieldsSource(client, sleep=sleeps, min_pools=1) as src:
        src.fetch_pools()
    assert not client.is_closed


def test_per_request_timeout_is_passed(sleeps):
    seen = {}

    def reply(request: httpx.Request) -> httpx.Response:
        seen.update(request.extensions["timeout"])
        return ok(DEX)

    source(ScriptedTransport(reply), sleeps, timeout=httpx.Timeout(12.0, connect=3.0)).fetch_pools()
    assert seen["read"] == 12.0 and seen["connect"] == 3.0


def test_get_source_builds_the_live_source(sleeps):
    src = get_source("defillama", client=ScriptedTransport(ok(DEX)).client(), sleep=sleeps, min_pools=5)
    assert isinstance(src, DefiLlamaYieldsSource)
    assert len(src.fetch_pools().records) == 50


def test_every_cut_of_a_real_body_is_reported_as_incomplete():
    from pools.sources.http import decode_json

    for cut in range(len(CHART)):
        with pytest.raises(IncompletePayloadError):
            decode_json(CHART[:cut])
    assert decode_json(CHART)["status"] == "success"


def test_history_with_status_error_raises(sleeps):
    with pytest.raises(IncompletePayloadError):
        source(ScriptedTransport(ok(b'{"status":"error","data":null}')), sleeps).fetch_history(CHART_POOL)
