"""Fixtures for the pools app tests: real recorded payloads, served through
``httpx.MockTransport`` — no test touches the internet."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pools.sources import DefiLlamaYieldsSource, PoolBatch, PoolRecord
from pools.sources.validation import validate_pools

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FULLFIELDS = "pools-fullfields-first50.json"
DEX = "pools-dex-first50.json"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_items(name: str = FULLFIELDS) -> list[dict]:
    return json.loads(fixture_bytes(name))["data"]


def records_from(items: list[dict]) -> list[PoolRecord]:
    records, rejections = validate_pools(items, origin="test")
    assert not rejections, rejections
    return records


def make_batch(records: list[PoolRecord], *, fetched_at: datetime | None = None, rejections=()) -> PoolBatch:
    stamps = [r.updated_at for r in records if r.updated_at]
    return PoolBatch(tuple(records), tuple(rejections), fetched_at or max(stamps), source="test")


def restamp(records: list[PoolRecord], when: datetime, **changes) -> list[PoolRecord]:
    """The same pools, observed at ``when`` (optionally with changed fields)."""
    return [replace(r, updated_at=when, **changes) for r in records]


class Transport:
    """Replies in order (the last one repeats); records the requests it saw."""

    def __init__(self, *replies: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]):
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply


def json_response(body: bytes | str, status: int = 200) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(status, content=content, headers={"Content-Type": "application/json"})


def llama_source(transport: Transport, *, min_pools: int = 10, retries: int = 1) -> DefiLlamaYieldsSource:
    """The live DeFiLlama source, wired to a mock transport; retry sleeps are skipped."""
    client = httpx.Client(transport=httpx.MockTransport(transport))
    return DefiLlamaYieldsSource(client=client, retries=retries, sleep=lambda _s: None, min_pools=min_pools)


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    """Any real HTTP request fails the test, except to loopback stand-ins (tests/pools/standin.py)."""
    real = httpx.HTTPTransport.handle_request

    def refuse(self, request):
        if request.url.host in {"127.0.0.1", "localhost"}:
            return real(self, request)
        raise AssertionError(f"test tried to reach the internet: {request.url}")

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)


@pytest.fixture
def fullfields_records() -> list[PoolRecord]:
    return records_from(fixture_items(FULLFIELDS))


@pytest.fixture
def dex_records() -> list[PoolRecord]:
    return records_from(fixture_items(DEX))


@pytest.fixture
def t0() -> datetime:
    return datetime(2025, 10, 6, 7, 0, tzinfo=UTC)


@pytest.fixture
def ingested(db, fullfields_records):
    """The 50 real full-field pools, ingested once."""
    from pools.services.ingest import pools_ingest

    pools_ingest(batch=make_batch(fullfields_records))
    return fullfields_records


@pytest.fixture
def catalogue(db):
    """Six pools that differ in exactly the ways the filters look at."""
    from pools.models import Pool
    from tests.pools.factories import ChainFactory, PoolFactory, ProtocolFactory

    D = Decimal
    K = Pool.Kind
    eth, base = ChainFactory(slug="ethereum", name="Ethereum"), ChainFactory(slug="base", name="Base")
    uni, curve = ProtocolFactory(slug="uniswap-v3", name="Uniswap V3"), ProtocolFactory(slug="curve-dex",
                                                                                         name="Curve DEX")
    from pools.models import Pool

    D = Decimal
    K = Pool.Kind
    pools = {
        "weth-usdc": PoolFactory(symbol="WETH-USDC", chain=eth, protocol=uni, kind=K.CONCENTRATED, tvl_usd=D(9e7),
                                 apy=D(12), apy_base=D(12), apy_reward=None, apy_mean_30d=D(10), risk_score=48),
        "usdc-usdt": PoolFactory(symbol="USDC-USDT", chain=eth, protocol=curve, kind=K.STABLESWAP,
                                 stablecoin=True, il_risk=False, tvl_usd=D(5e8), apy=D(3), apy_base=D(1),
                                 apy_reward=D(2), apy_mean_30d=D(4), risk_score=22),
        "steth": PoolFactory(symbol="STETH", chain=eth, protocol=curve, kind=K.LIQUID_STAKING, il_risk=False,
                             exposure="single", tvl_usd=D(2e9), apy=D("2.9"), apy_base=D("2.9"), apy_reward=D(0),
                             apy_mean_30d=D(3), risk_score=30),
        "aero-weth": PoolFactory(symbol="AERO-WETH", chain=base, protocol=uni, kind=K.CONCENTRATED,
                                 tvl_usd=D(4e5), apy=D(85), apy_base=D(5), apy_reward=D(80), apy_mean_30d=None,
                                 risk_score=71),
        "usdc-weth-v2": PoolFactory(symbol="USDC-WETH", chain=base, protocol=curve, kind=K.AMM, tvl_usd=D(2e6),
                                    apy=None, apy_base=None, apy_reward=None, risk_score=None),
        "gone": PoolFactory(symbol="WETH-USDC", chain=eth, protocol=uni, is_active=False, tvl_usd=D(1e10),
                            apy=D(500)),
    }
    return pools
