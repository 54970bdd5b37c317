"""The JSON-RPC client's reactions to what nodes and providers answer.

These tests are about the client's error handling (batch refusals, rate
limits, range limits worded as each provider words them, dead URLs), so the
HTTP side is an ``httpx.MockTransport``; the same paging and retries run
against the real node in ``test_chain_rpc.py``.
"""

import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pools.sources.http import RetryPolicy
from portfolios.wallets.chain.rpc import (
    LogFilter,
    LogRangeTooLarge,
    RpcClient,
    RpcError,
    RpcRateLimited,
    RpcTransportError,
    page_ranges,
)

TOPIC = "0x" + "dd" * 32


class FakeNode:
    """Answers JSON-RPC batches; ``rules`` decide per call what goes wrong."""

    def __init__(self, *, max_batch=None, max_range=None, range_error=None, rate_limit_first=0, http_errors=()):
        self.max_batch, self.max_range, self.range_error = max_batch, max_range, range_error
        self.rate_limit_first = rate_limit_first  # the first N calls answer "rate limited"
        self.http_errors = list(http_errors)  # statuses to answer before behaving
        self.requests: list[list[dict]] = []  # every batch received
        self.accepted: list[list[dict]] = []  # the batches answered call by call
        self.calls = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.http_errors:
            status = self.http_errors.pop(0)
            return httpx.Response(status, headers={"Retry-After": "2"} if status == 429 else {}, text="busy")
        body = json.loads(request.content)
        self.requests.append(body)
        if self.max_batch and len(body) > self.max_batch:
            return httpx.Response(
                200, json={"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batch size too large"}}
            )
        self.accepted.append(body)
        return httpx.Response(200, json=[self.answer(call) for call in reversed(body)])  # any order is legal

    def answer(self, call: dict) -> dict:
        self.calls += 1
        head = {"jsonrpc": "2.0", "id": call["id"]}
        if self.calls <= self.rate_limit_first:
            return {**head, "error": {"code": -32005, "message": "daily request count exceeded, request rate limited"}}
        method, params = call["method"], call["params"]
        if method == "eth_blockNumber":
            return {**head, "result": "0x64"}
        if method == "eth_call":
            return {**head, "error": {"code": 3, "message": "execution reverted", "data": "0x"}}
        if method == "eth_getLogs":
            lo, hi = int(params[0]["fromBlock"], 16), int(params[0]["toBlock"], 16)
            if self.max_range is not None and hi - lo + 1 > self.max_range:
                return {**head, "error": self.range_error}
            return {**head, "result": [self.log(n) for n in range(lo, hi + 1)]}
        return {**head, "result": f"echo:{params[0] if params else ''}"}

    @staticmethod
    def log(n: int) -> dict:
        return {
            "address": "0x" + "11" * 20,
            "topics": [TOPIC],
            "data": "0x",
            "blockNumber": hex(n),
            "transactionHash": "0x" + f"{n:064x}",
            "logIndex": "0x0",
            "blockHash": "0x" + "22" * 32,
        }


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def client(node: FakeNode, *, urls=("http://node.test",), batch_size=50, max_log_range=10_000, retries=3):
    sleeps = Sleeps()
    policy = RetryPolicy(retries=retries, backoff=0.5, max_backoff=30, sleep=sleeps)
    http = httpx.Client(transport=httpx.MockTransport(node.handler))
    return RpcClient(list(urls), batch_size=batch_size, max_log_range=max_log_range, policy=policy, client=http), sleeps


def test_calls_go_in_batches_and_come_back_in_call_order():
    node = FakeNode()
    rpc, _ = client(node, batch_size=50)
    results = rpc.batch([("echo", [i]) for i in range(120)])
    assert results == [f"echo:{i}" for i in range(120)]
    assert [len(r) for r in node.requests] == [50, 50, 20]


def test_a_node_refusing_the_batch_size_gets_smaller_batches():
    node = FakeNode(max_batch=10)
    rpc, _ = client(node, batch_size=50)
    assert rpc.batch([("echo", [i]) for i in range(30)]) == [f"echo:{i}" for i in range(30)]
    assert rpc.batch_size <= 10
    assert [len(r) for r in node.requests[:3]] == [30, 15, 7]  # halved until the node takes it
    assert sum(len(r) for r in node.accepted) == 30 and all(len(r) <= 10 for r in node.accepted)


def test_http_413_for_a_large_batch_also_makes_batches_smaller():
    node = FakeNode()

    def handler(request):
        if len(json.loads(request.content)) > 8:
            return httpx.Response(413, text="Request Entity Too Large")
        return node.handler(request)

    rpc = RpcClient(["http://n.test"], batch_size=40, client=httpx.Client(transport=httpx.MockTransport(handler)))
    assert rpc.batch([("echo", [i]) for i in range(20)]) == [f"echo:{i}" for i in range(20)]
    assert rpc.batch_size <= 8


def test_rate_limited_calls_are_retried_with_exponential_backoff():
    node = FakeNode(rate_limit_first=3)
    rpc, sleeps = client(node)
    assert rpc.batch([("echo", ["a"])]) == ["echo:a"]
    assert sleeps == [0.5, 1.0, 2.0]
    assert rpc.stats.retries == 3


def test_still_rate_limited_after_every_retry_raises():
    node = FakeNode(rate_limit_first=100)
    rpc, sleeps = client(node, retries=2)
    with pytest.raises(RpcRateLimited, match="rate limited"):
        rpc.call("echo", "a")
    assert len(sleeps) == 2


def test_http_429_honours_retry_after_and_5xx_is_retried():
    node = FakeNode(http_errors=[429, 503])
    rpc, sleeps = client(node)
    assert rpc.call("echo", "x") == "echo:x"
    assert sleeps == [2.0, 1.0]


def test_a_revert_is_an_answer_not_a_retry():
    node = FakeNode()
    rpc, sleeps = client(node)
    (answer,) = rpc.eth_calls([("0x" + "11" * 20, "0x")])
    assert isinstance(answer, RpcError) and answer.code == 3
    assert sleeps == []


def test_a_dead_url_hands_over_to_the_next():
    node = FakeNode()

    def handler(request):
        if request.url.host == "dead.test":
            raise httpx.ConnectError("connection refused")
        return node.handler(request)

    sleeps = Sleeps()
    rpc = RpcClient(
        ["http://dead.test", "http://alive.test"],
        policy=RetryPolicy(retries=1, sleep=sleeps),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    assert rpc.block_number() == 100
    assert rpc.urls[rpc._url_index] == "http://alive.test"


def test_every_url_dead_raises_a_transport_error():
    def handler(request):
        raise httpx.ConnectError("connection refused")

    rpc = RpcClient(
        ["http://a.test", "http://b.test"],
        policy=RetryPolicy(retries=1, sleep=Sleeps()),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    with pytest.raises(RpcTransportError, match="network error"):
        rpc.block_number()


# What providers answer when an eth_getLogs range or result is too large.
RANGE_ERRORS = {
    "alchemy": {
        "code": -32602,
        "message": "Log response size exceeded. You can make eth_getLogs requests with up "
        "to a 2K block range and no limit on the response size, or you can request any block range with a "
        "cap of 10K logs in the response. Based on your parameters, this block range should work: "
        "[0x1, 0x7]",
    },
    "infura": {
        "code": -32005,
        "message": "query returned more than 10000 results. Try with this block range [0x1, 0x7].",
    },
    "quicknode": {"code": -32602, "message": "eth_getLogs is limited to a 10,000 range"},
    "geth": {"code": -32000, "message": "block range is too wide"},
    "bnb": {"code": -32000, "message": "exceed maximum block range: 5000"},
    "cloudflare": {
        "code": -32602,
        "message": "Invalid eth_getLogs request. 'fromBlock'-'toBlock' range too large. Max range: 800",
    },
    "ankr": {"code": -32062, "message": "Block range is too large"},
    "publicnode": {
        "code": -32701,
        "message": "Please specify an address in your request or, to remove "
        "restrictions, order a dedicated full node here: https://www.allnodes.com/eth/host. Max range "
        "without an address: 50000",
    },
}


@pytest.mark.parametrize("provider", RANGE_ERRORS)
def test_a_range_too_large_is_split_until_the_node_accepts_it(provider):
    node = FakeNode(max_range=7, range_error=RANGE_ERRORS[provider])
    rpc, _ = client(node, max_log_range=1000, batch_size=4)
    logs = rpc.get_logs([LogFilter((TOPIC,))], 1, 100)
    assert [log.at.block_number for log in logs] == list(range(1, 101))
    assert rpc.max_log_range <= 7 and rpc.stats.range_splits > 0


def test_a_single_block_too_large_raises():
    node = FakeNode(max_range=0, range_error=RANGE_ERRORS["geth"])
    rpc, _ = client(node)
    with pytest.raises(LogRangeTooLarge):
        rpc.get_logs([LogFilter((TOPIC,))], 5, 5)


@pytest.mark.parametrize(
    "message",
    [
        "Too Many Requests",
        "Your app has exceeded its compute units per second capacity",
        "rate limit exceeded",
        "header not found",
        "request timed out",
    ],
)
def test_rate_limits_and_lagging_nodes_are_retried_not_split(message):
    calls = []

    def handler(request):
        body = json.loads(request.content)
        calls.append(body)
        if len(calls) == 1:
            return httpx.Response(
                200,
                json=[{"jsonrpc": "2.0", "id": c["id"], "error": {"code": -32000, "message": message}} for c in body],
            )
        return httpx.Response(200, json=[{"jsonrpc": "2.0", "id": c["id"], "result": []} for c in body])

    rpc = RpcClient(
        ["http://n.test"],
        policy=RetryPolicy(retries=2, sleep=Sleeps()),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    assert rpc.get_logs([LogFilter((TOPIC,))], 0, 10) == []
    assert rpc.stats.range_splits == 0 and len(calls) == 2


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**7), st.integers(0, 5000), st.integers(1, 2000))
def test_pages_cover_the_range_exactly_once_in_order(start, length, size):
    end = start + length
    pages = page_ranges(start, end, size)
    assert pages[0][0] == start and pages[-1][1] == end
    assert all(lo <= hi and hi - lo + 1 <= size for lo, hi in pages)
    assert all(b[0] == a[1] + 1 for a, b in zip(pages, pages[1:], strict=False))
