"""A JSON-RPC client for EVM nodes over httpx: batches, log paging, retries.

- **Batching**: every helper sends JSON-RPC batches of up to ``batch_size``
  calls in one HTTP request (``eth_getLogs`` pages, ``eth_call``s, block
  headers, receipts). A node that refuses a batch that size makes the client
  halve it and go on.
- **Log paging**: ``eth_getLogs`` is asked for at most ``max_log_range``
  blocks at a time. When a node answers that a range or its result is too
  large (each provider words it differently), that page is split in two and
  the smaller size is kept for the pages still to come.
- **Retries**: timeouts, network errors, HTTP 5xx and 429, and JSON-RPC
  errors that mean "rate limited" or "try again" are retried with exponential
  backoff (``RetryPolicy`` from ``pools.sources.http``); a numeric
  ``Retry-After`` is honoured. With several URLs, a URL that keeps failing
  hands over to the next. Other errors (a reverted call, a bad request) are
  returned per call or raised at once.
"""

from __future__ import annotations

import json
import logging
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from pools.sources.http import RetryPolicy
from portfolios.wallets.chain.abi import AbiError, hex_to_bytes, quantity
from portfolios.wallets.chain.logs import RawLog, sort_logs

__all__ = [
    "BlockHeader",
    "LogFilter",
    "LogRangeTooLarge",
    "Receipt",
    "RpcClient",
    "RpcError",
    "RpcRateLimited",
    "RpcStats",
    "RpcTransportError",
    "page_ranges",
]

logger = logging.getLogger(__name__)

# How providers say "ask for fewer blocks" (geth/erigon/reth, Infura, Alchemy,
# QuickNode, Ankr, publicnode, Cloudflare, BNB and Avalanche public nodes, anvil).
_RANGE_TOO_LARGE = re.compile(
    r"block range|range (is )?too (large|wide|big)|range limit|range exceeds|max(imum)? (block )?range"
    r"|more than \d+ (logs|results|blocks)|too many (logs|results|blocks)|response size|returned more than"
    r"|query timeout exceeded|limited to a \d+",
    re.IGNORECASE,
)
_RATE_LIMITED = re.compile(
    r"rate.?limit|too many requests|request limit|capacity|throughput|exceeded .* quota|compute units", re.IGNORECASE
)
_TRANSIENT = re.compile(
    r"header not found|timed? ?out|try again|temporar|unavailable|overloaded|busy|gateway|not synced", re.IGNORECASE
)
_BATCH_TOO_LARGE = re.compile(r"batch", re.IGNORECASE)


class RpcError(Exception):
    """An error answer from the node (``code``/``message`` as JSON-RPC gives them)."""

    def __init__(self, message: str, *, code: int | None = None, data: Any = None, method: str = ""):
        self.code, self.data, self.method = code, data, method
        super().__init__(f"{method}: {message}" if method else message)


class RpcTransportError(RpcError):
    """No usable answer: network failure, HTTP error, not JSON (after all retries and URLs)."""


class RpcRateLimited(RpcError):
    """Still rate limited (or told to try again) after all retries."""


class LogRangeTooLarge(RpcError):
    """The node refuses this ``eth_getLogs`` range: ask for fewer blocks."""


def _classify(code: int | None, message: str) -> str:
    if _RANGE_TOO_LARGE.search(message):
        return "range"
    if code == 429 or _RATE_LIMITED.search(message):
        return "rate"
    if _TRANSIENT.search(message):
        return "transient"
    return "fatal"


def _error(obj: Mapping[str, Any], method: str) -> RpcError:
    code, message = obj.get("code"), str(obj.get("message", obj))
    kind = _classify(code if isinstance(code, int) else None, message)
    cls = {"range": LogRangeTooLarge, "rate": RpcRateLimited, "transient": RpcRateLimited}.get(kind, RpcError)
    return cls(message, code=code if isinstance(code, int) else None, data=obj.get("data"), method=method)


def page_ranges(from_block: int, to_block: int, size: int) -> list[tuple[int, int]]:
    """Inclusive ``(lo, hi)`` block ranges of at most ``size`` blocks covering ``from_block..to_block``."""
    if size < 1:
        raise ValueError("page size must be at least 1")
    return [(lo, min(lo + size - 1, to_block)) for lo in range(from_block, to_block + 1, size)]


@dataclass(frozen=True, slots=True)
class LogFilter:
    """An ``eth_getLogs`` filter without its block range. ``None`` in topics is a wildcard;
    a tuple there means "any of these"."""

    topics: tuple[str | tuple[str, ...] | None, ...]
    address: str | tuple[str, ...] | None = None

    def params(self, lo: int, hi: int) -> dict[str, Any]:
        out: dict[str, Any] = {"fromBlock": hex(lo), "toBlock": hex(hi)}
        out["topics"] = [list(t) if isinstance(t, tuple) else t for t in self.topics]
        if self.address is not None:
            out["address"] = list(self.address) if isinstance(self.address, tuple) else self.address
        return out


@dataclass(frozen=True, slots=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str
    timestamp: datetime  # aware, UTC


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_hash: str
    block_number: int
    sender: str
    to: str | None
    status: int  # 1 success, 0 reverted
    gas_used: int
    effective_gas_price: int  # wei
    logs: tuple[RawLog, ...]

    @property
    def fee_wei(self) -> int:
        """Execution fee; on OP-stack L2s the L1 data fee comes on top (``l1Fee``, not read here)."""
        return self.gas_used * self.effective_gas_price


@dataclass(slots=True)
class RpcStats:
    http_requests: int = 0
    calls: int = 0
    retries: int = 0
    range_splits: int = 0


@dataclass
class RpcClient:
    """One chain's node(s). ``urls`` are tried in order; ``client`` may be shared (or a MockTransport)."""

    urls: Sequence[str]
    batch_size: int = 50
    max_log_range: int = 10_000
    policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(retries=5, backoff=0.5, max_backoff=30.0))
    timeout: float = 30.0
    client: httpx.Client | None = None
    stats: RpcStats = field(default_factory=RpcStats)

    def __post_init__(self) -> None:
        if isinstance(self.urls, str):
            self.urls = [self.urls]
        if not self.urls:
            raise ValueError("an RPC client needs at least one URL")
        self._own_client = self.client is None
        if self.client is None:
            self.client = httpx.Client(timeout=self.timeout, headers={"Content-Type": "application/json"})
        self._url_index = 0
        self._next_id = 1

    def close(self) -> None:
        if self._own_client and self.client is not None:
            self.client.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- transport ----------------------------------------------------------

    def _post_once(self, url: str, payload: Any) -> tuple[Any, float | None, RpcError | None]:
        """(decoded body, retry-after, retryable error) for one HTTP attempt; raises when not worth a retry."""
        assert self.client is not None
        self.stats.http_requests += 1
        try:
            response = self.client.post(url, content=json.dumps(payload))
        except httpx.TimeoutException as exc:
            return None, None, RpcTransportError(f"{url}: timed out: {exc!r}")
        except httpx.TransportError as exc:
            return None, None, RpcTransportError(f"{url}: network error: {exc!r}")
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if status == 429 or status >= 500:
            wait = response.headers.get("Retry-After")
            delay = float(wait) if wait and wait.replace(".", "", 1).isdigit() else None
            return None, delay, RpcRateLimited(f"{url}: HTTP {status}", code=status)
        if body is None:
            raise RpcTransportError(f"{url}: HTTP {status}, body is not JSON", code=status)
        return body, None, None

    def _post(self, payload: Any) -> Any:
        """POST with retries and URL failover; returns the decoded JSON body."""
        last: RpcError | None = None
        while self._url_index < len(self.urls):
            url = self.urls[self._url_index]
            for attempt in range(self.policy.retries + 1):
                body, wait, error = self._post_once(url, payload)
                if error is None:
                    return body
                last = error
                if attempt < self.policy.retries:
                    self.stats.retries += 1
                    delay = self.policy.delay(attempt) if wait is None else min(wait, self.policy.max_backoff)
                    logger.warning("%s (attempt %d); retrying in %.2fs", error, attempt + 1, delay)
                    self.policy.sleep(delay)
            if self._url_index + 1 < len(self.urls):
                logger.warning("%s: giving up on this URL, trying the next", url)
            self._url_index += 1
        self._url_index = len(self.urls) - 1  # stay on the last URL for later calls
        assert last is not None
        raise last

    # ---- calls --------------------------------------------------------------

    def batch_results(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Results in call order; an :class:`RpcError` object in place of each call that failed."""
        results: list[Any] = [None] * len(calls)
        start = 0
        while start < len(calls):
            size = max(1, self.batch_size)
            chunk = list(range(start, min(start + size, len(calls))))
            if self._run_chunk(calls, chunk, results):
                start += len(chunk)
        return results

    def _run_chunk(self, calls: Sequence[tuple[str, Sequence[Any]]], chunk: list[int], results: list[Any]) -> bool:
        """Run one batch; False when the node refused the batch size (then ``batch_size`` was halved)."""
        pending = list(chunk)
        for attempt in range(self.policy.retries + 1):
            ids = {}
            payload = []
            for index in pending:
                ids[self._next_id] = index
                method, params = calls[index]
                payload.append({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": list(params)})
                self._next_id += 1
            self.stats.calls += len(payload)
            try:
                body = self._post(payload)
            except RpcTransportError as exc:
                if exc.code != 413 or len(payload) == 1:  # 413: the request body (the batch) is too large
                    raise
                body = {"error": {"code": 413, "message": "batch too large (HTTP 413)"}}
            if isinstance(body, Mapping):  # one error object for the whole batch
                error = _error(body.get("error") or {"message": str(body)}, "batch")
                if len(payload) > 1 and _BATCH_TOO_LARGE.search(str(error)) and not isinstance(error, RpcRateLimited):
                    self.batch_size = max(1, len(payload) // 2)
                    logger.warning("node refused a batch of %d; using %d", len(payload), self.batch_size)
                    return False
                answers: dict[int | None, Any] = {}
                retry = list(pending) if isinstance(error, RpcRateLimited) else []
                for index in pending:
                    results[index] = error
            else:
                answers = {item.get("id"): item for item in body if isinstance(item, Mapping)}
                retry = []
            for request_id, index in ids.items():
                item = answers.get(request_id)
                method = calls[index][0]
                if item is None:
                    if not isinstance(body, Mapping):
                        retry.append(index)
                        results[index] = RpcRateLimited("no answer for this call in the batch", method=method)
                elif "error" in item and item["error"] is not None:
                    error = _error(item["error"], method)
                    results[index] = error
                    if isinstance(error, RpcRateLimited):
                        retry.append(index)
                else:
                    results[index] = item.get("result")
            if not retry:
                return True
            if attempt < self.policy.retries:
                self.stats.retries += 1
                self.policy.sleep(self.policy.delay(attempt))
                pending = retry
        return True

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Results in call order; raises the first error."""
        results = self.batch_results(calls)
        for result in results:
            if isinstance(result, RpcError):
                raise result
        return results

    def call(self, method: str, *params: Any) -> Any:
        return self.batch([(method, params)])[0]

    # ---- helpers ------------------------------------------------------------

    def block_number(self) -> int:
        return quantity(self.call("eth_blockNumber"))

    def chain_id(self) -> int:
        return quantity(self.call("eth_chainId"))

    def get_logs(self, filters: Sequence[LogFilter], from_block: int, to_block: int) -> list[RawLog]:
        """Every log matching any filter in ``from_block..to_block``, in chain order, once each."""
        if to_block < from_block or not filters:
            return []
        cursors = [from_block] * len(filters)
        split: deque[tuple[int, int, int]] = deque()  # (filter index, lo, hi) still to ask after a split
        found: list[RawLog] = []
        while split or any(c <= to_block for c in cursors):
            work: list[tuple[int, int, int]] = []
            while split and len(work) < self.batch_size:
                work.append(split.popleft())
            while len(work) < self.batch_size and any(c <= to_block for c in cursors):
                for i, lo in enumerate(cursors):
                    if lo <= to_block and len(work) < self.batch_size:
                        hi = min(to_block, lo + self.max_log_range - 1)
                        work.append((i, lo, hi))
                        cursors[i] = hi + 1
            answers = self.batch_results([("eth_getLogs", [filters[i].params(lo, hi)]) for i, lo, hi in work])
            for (i, lo, hi), answer in zip(work, answers, strict=True):
                if isinstance(answer, LogRangeTooLarge) and hi > lo:
                    mid = (lo + hi) // 2
                    self.max_log_range = max(1, min(self.max_log_range, mid - lo + 1))
                    self.stats.range_splits += 1
                    split.appendleft((i, mid + 1, hi))
                    split.appendleft((i, lo, mid))
                elif isinstance(answer, RpcError):
                    raise answer
                elif not isinstance(answer, list):
                    raise RpcTransportError(f"eth_getLogs answered {type(answer).__name__}, not a list")
                else:
                    found.extend(RawLog.from_rpc(item) for item in answer)
        return sort_logs(found)

    def eth_calls(self, calls: Sequence[tuple[str, str]], block: int | str = "latest") -> list[bytes | RpcError]:
        """``eth_call`` each ``(to, data)`` at ``block``; the return bytes, or the error (e.g. a revert)."""
        tag = hex(block) if isinstance(block, int) else block
        answers = self.batch_results([("eth_call", [{"to": to, "data": data}, tag]) for to, data in calls])
        out: list[bytes | RpcError] = []
        for answer in answers:
            if isinstance(answer, RpcError):
                out.append(answer)
                continue
            try:
                out.append(hex_to_bytes(answer))
            except AbiError as exc:
                out.append(RpcError(str(exc), method="eth_call"))
        return out

    def block_headers(self, numbers: Iterable[int]) -> dict[int, BlockHeader]:
        wanted = sorted(set(numbers))
        answers = self.batch([("eth_getBlockByNumber", [hex(n), False]) for n in wanted])
        out = {}
        for n, block in zip(wanted, answers, strict=True):
            if not block:
                raise RpcError(f"block {n} is unknown to the node", method="eth_getBlockByNumber")
            out[n] = BlockHeader(
                n,
                str(block["hash"]).lower(),
                str(block["parentHash"]).lower(),
                datetime.fromtimestamp(quantity(block["timestamp"]), UTC),
            )
        return out

    def receipts(self, tx_hashes: Iterable[str]) -> dict[str, Receipt]:
        wanted = sorted(set(tx_hashes))
        answers = self.batch([("eth_getTransactionReceipt", [h]) for h in wanted])
        out = {}
        for tx_hash, r in zip(wanted, answers, strict=True):
            if not r:
                raise RpcError(f"no receipt for {tx_hash}", method="eth_getTransactionReceipt")
            out[tx_hash] = Receipt(
                tx_hash=tx_hash,
                block_number=quantity(r["blockNumber"]),
                sender=str(r["from"]).lower(),
                to=str(r["to"]).lower() if r.get("to") else None,
                status=quantity(r.get("status", "0x1")),
                gas_used=quantity(r["gasUsed"]),
                effective_gas_price=quantity(r.get("effectiveGasPrice", "0x0")),
                logs=tuple(RawLog.from_rpc(log) for log in r.get("logs") or ()),
            )
        return out
