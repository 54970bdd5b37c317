"""DefiLlamaCoinsSource with real recorded coins.llama.fi responses."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from pools.sources import (
    DefiLlamaCoinsSource,
    IncompletePayloadError,
    MalformedPayloadError,
    SourceServerError,
    SourceTimeoutError,
    get_source,
)
from tests.pools.sources._support import ScriptedTransport, SleepRecorder, fixture_bytes, ok

WETH = "ethereum:0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
FUN = "ethereum:0x419d0d8bdd9af5e606ae2232ed285aff190e711b"
BNB = "coingecko:binancecoin"
WETH_FUN = fixture_bytes("coins-current-weth-fun.json")
BINANCE = fixture_bytes("coins-current-binancecoin.json")


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def source(transport: ScriptedTransport, sleep, **kwargs) -> DefiLlamaCoinsSource:
    return DefiLlamaCoinsSource(transport.client(), sleep=sleep, **kwargs)


def test_current_prices_parse_real_response(sleeps):
    transport = ScriptedTransport(ok(WETH_FUN))
    batch = source(transport, sleeps).current_prices([WETH, FUN])
    assert str(transport.requests[0].url) == f"https://coins.llama.fi/prices/current/{WETH},{FUN}"
    weth = batch.quotes[WETH]
    assert weth.symbol == "WETH" and weth.decimals == 18
    assert weth.price_usd == Decimal("1582.85") and isinstance(weth.price_usd, Decimal)
    assert weth.confidence == Decimal("0.99")
    assert weth.timestamp == datetime.fromtimestamp(1667555277, tz=UTC)
    assert batch.quotes[FUN].price_usd == Decimal("0.00756368")
    assert batch.missing == () and batch.rejections == ()


def test_coingecko_ids_have_no_decimals(sleeps):
    quote = source(ScriptedTransport(ok(BINANCE)), sleeps).current_price(BNB)
    assert quote.symbol == "BNB" and quote.decimals is None and quote.price_usd == Decimal("344.74")


def test_unknown_coins_are_reported_missing(sleeps):
    batch = source(ScriptedTransport(ok(BINANCE)), sleeps).current_prices(f"{BNB},coingecko:not-a-coin")
    assert set(batch.quotes) == {BNB}
    assert batch.missing == ("coingecko:not-a-coin",)


def test_ids_are_matched_case_insensitively(sleeps):
    mixed = "ethereum:0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    batch = source(ScriptedTransport(ok(WETH_FUN)), sleeps).current_prices([mixed, FUN])
    assert mixed in batch.quotes and batch.missing == ()


def test_historical_prices_use_unix_timestamp_path_and_search_width(sleeps):
    transport = ScriptedTransport(ok(WETH_FUN))
    src = source(transport, sleeps, search_width="4h")
    src.historical_prices(datetime(2022, 11, 4, 9, 47, 57, tzinfo=UTC), [WETH])
    src.historical_prices(date(2022, 11, 4), [WETH])
    src.historical_prices(1667555277, [WETH])
    urls = [str(r.url) for r in transport.requests]
    assert urls[0] == f"https://coins.llama.fi/prices/historical/1667555277/{WETH}?searchWidth=4h"
    assert urls[1].startswith("https://coins.llama.fi/prices/historical/1667520000/")
    assert urls[2].startswith("https://coins.llama.fi/prices/historical/1667555277/")
    with pytest.raises(ValueError):
        src.historical_prices(datetime(2022, 11, 4), [WETH])  # naive datetime is ambiguous


def test_long_coin_lists_are_chunked(sleeps):
    real = json.loads(WETH_FUN)["coins"][WETH]
    ids = [f"ethereum:0x{i:040x}" for i in range(120)]

    def reply(request: httpx.Request) -> httpx.Response:
        asked = request.url.path.rsplit("/", 1)[1].split(",")
        return ok(json.dumps({"coins": {coin: real for coin in asked}}))

    transport = ScriptedTransport(reply)
    batch = source(transport, sleeps, chunk_size=50).current_prices(ids + ids[:3])  # duplicates dropped
    assert [len(r.url.path.rsplit("/", 1)[1].split(",")) for r in transport.requests] == [50, 50, 20]
    assert list(batch.quotes) == ids


@pytest.mark.parametrize(
    ("entry", "reason"),
    [({"price": None}, "missing_field"), ({"price": "NaN"}, "non_finite"), ({"price": -1}, "bad_type")],
)
def test_bad_price_entries_are_rejected(entry, reason, sleeps):
    payload = json.loads(WETH_FUN)
    payload["coins"][FUN] = {**payload["coins"][FUN], **entry}
    batch = source(ScriptedTransport(ok(json.dumps(payload))), sleeps).current_prices([WETH, FUN])
    assert set(batch.quotes) == {WETH}
    assert [(r.pool_id, r.reason) for r in batch.rejections] == [(FUN, reason)]
    assert batch.missing == ()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"prices":{}}', IncompletePayloadError),
        (b'{"coins":null}', IncompletePayloadError),
        (WETH_FUN[:-7], IncompletePayloadError),
        (b'{"coins":[1]}', MalformedPayloadError),
        (b"<html>oops</html>", MalformedPayloadError),
    ],
)
def test_payload_faults(body, error, sleeps):
    with pytest.raises(error):
        source(ScriptedTransport(ok(body)), sleeps).current_prices([WETH])


def test_retries_then_success_and_persistent_faults(sleeps):
    transport = ScriptedTransport(httpx.ReadTimeout("slow"), ok(b"", 502), ok(WETH_FUN))
    assert WETH in source(transport, sleeps, backoff=0.25).current_prices([WETH]).quotes
    assert sleeps.calls == [0.25, 0.5]
    with pytest.raises(SourceTimeoutError):
        source(ScriptedTransport(httpx.ConnectTimeout("x")), sleeps, retries=1).current_prices([WETH])
    with pytest.raises(SourceServerError):
        source(ScriptedTransport(ok(b"", 500)), sleeps, retries=0).current_prices([WETH])


@pytest.mark.parametrize("bad", ["WETH", "ethereum:0xabc/../x", "coingecko:eth ereum", "a:b,c"])
def test_invalid_coin_ids_are_refused(bad, sleeps):
    transport = ScriptedTransport(ok(WETH_FUN))
    with pytest.raises(ValueError):
        source(transport, sleeps).current_prices([bad])
    assert transport.requests == []


def test_factory(sleeps):
    src = get_source("llama_coins", client=ScriptedTransport(ok(BINANCE)).client(), sleep=sleeps)
    assert isinstance(src, DefiLlamaCoinsSource)
    assert src.current_price(BNB).price_usd == Decimal("344.74")
