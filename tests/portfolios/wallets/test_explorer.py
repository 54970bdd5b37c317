"""The Etherscan-v2 client on payloads of the documented shape (fixtures/etherscan_*.json).

The local node has no explorer, so these run on ``httpx.MockTransport``; the
rows' values are ours, the fields and their string encoding are Etherscan's.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from pools.sources.http import RetryPolicy
from portfolios.wallets.chain.explorer import (
    ExplorerClient,
    ExplorerError,
    ExplorerKeyError,
    native_summary,
)

FIXTURES = Path(__file__).parent / "fixtures"
WALLET = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
API = "https://api.etherscan.io/v2/api"


def payload(name: str) -> dict:
    return json.loads((FIXTURES / f"etherscan_{name}.json").read_text())


def explorer(handler, *, page_size=1000, sleeps=None):
    sleeps = [] if sleeps is None else sleeps
    return ExplorerClient(
        API,
        8453,
        "KEY123",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        policy=RetryPolicy(retries=3, backoff=1.0, sleep=sleeps.append),
        page_size=page_size,
    )


def test_txlist_rows_become_typed_transactions_with_their_gas_fee():
    seen = []

    def handler(request):
        seen.append(dict(request.url.params))
        return httpx.Response(200, json=payload("txlist"))

    txs = explorer(handler).txlist(WALLET)
    assert seen[0] | {"address": WALLET} == {
        "chainid": "8453",
        "module": "account",
        "action": "txlist",
        "address": WALLET,
        "startblock": "0",
        "endblock": "99999999999",
        "page": "1",
        "offset": "1000",
        "sort": "asc",
        "apikey": "KEY123",
    }
    first, router_call, failed, creation = txs
    assert first.timestamp == datetime(2025, 1, 1, 0, 0, 11, tzinfo=UTC)
    assert (first.recipient, first.value_wei, first.fee_wei) == (WALLET, 2 * 10**18, 21000 * 7_500_000_000)
    assert router_call.fee_wei == 185_432 * 9_120_000_001
    assert failed.is_error and creation.recipient is None


def test_no_transactions_is_an_empty_list():
    assert explorer(lambda r: httpx.Response(200, json=payload("empty"))).txlistinternal(WALLET) == []


def test_rate_limit_answers_are_retried_with_backoff():
    answers = [payload("rate_limited"), payload("rate_limited"), payload("txlistinternal")]
    sleeps = []
    rows = explorer(lambda r: httpx.Response(200, json=answers.pop(0)), sleeps=sleeps).txlistinternal(WALLET)
    assert len(rows) == 2 and sleeps == [1.0, 2.0]


def test_a_refused_key_is_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(200, json=payload("bad_key"))

    with pytest.raises(ExplorerKeyError, match="Invalid API Key"):
        explorer(handler).txlist(WALLET)
    assert len(calls) == 1


def test_no_key_no_client():
    with pytest.raises(ExplorerKeyError, match="required"):
        ExplorerClient(API, 1, "")


def test_http_errors_surface_as_explorer_errors():
    with pytest.raises(ExplorerError):
        explorer(lambda r: httpx.Response(403, text="forbidden")).txlist(WALLET)


def test_paging_by_start_block_loses_and_repeats_nothing_across_a_cut_block():
    """Rows in blocks 1..9, two per block; pages of 5 cut blocks in the middle."""
    rows = [
        dict(payload("txlist")["result"][0], blockNumber=str(b), hash="0x" + f"{b:02x}{i}".ljust(64, "0"))
        for b in range(1, 10)
        for i in range(2)
    ]
    starts = []

    def handler(request):
        start, size = int(request.url.params["startblock"]), int(request.url.params["offset"])
        starts.append(start)
        page = [r for r in rows if int(r["blockNumber"]) >= start][:size]
        return httpx.Response(200, json={"status": "1", "message": "OK", "result": page})

    got = explorer(handler, page_size=5).txlist(WALLET)
    assert [t.tx_hash for t in got] == [r["hash"] for r in rows]
    assert starts == [0, 3, 5, 7, 9]


def test_a_block_with_more_rows_than_a_page_is_an_error_not_a_loop():
    row = payload("txlist")["result"][0]
    with pytest.raises(ExplorerError, match="more than 2 rows in block"):
        explorer(
            lambda r: httpx.Response(200, json={"status": "1", "message": "OK", "result": [row, row]}), page_size=2
        ).txlist(WALLET)


def test_native_summary_counts_gas_on_every_sent_transaction_and_value_only_when_it_moved():
    client = explorer(lambda r: httpx.Response(200, json=payload("txlist")))
    txs = client.txlist(WALLET)
    internal = explorer(lambda r: httpx.Response(200, json=payload("txlistinternal"))).txlistinternal(WALLET)
    summary = native_summary(WALLET, txs, internal)
    gas = 185_432 * 9_120_000_001 + 43_120 * 8_000_000_000 + 1_203_511 * 6_000_000_000
    assert summary.gas_wei == gas
    assert summary.sent_wei == 5 * 10**18  # the failed swap sent nothing
    assert summary.received_wei == 2 * 10**18 + 3 * 10**17  # the reverted internal call paid nothing
    assert summary.net_wei == 2 * 10**18 + 3 * 10**17 - 5 * 10**18 - gas
