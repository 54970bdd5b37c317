"""Native coin and gas from an Etherscan-v2-compatible explorer (``txlist``, ``txlistinternal``).

Logs never show native coin (ETH, BNB, POL, AVAX) moving, nor gas. Explorers
that speak Etherscan's v2 account API do: ``txlist`` gives the wallet's own
transactions (value, gas used, effective gas price, failed or not) and
``txlistinternal`` the coin contracts sent it (a router unwrapping WETH, a
bridge). One base URL serves every chain, chosen by ``chainid``; a key is
required. Without one the wallet page says plainly that native coin and gas
are not covered.

Limits admitted: on OP-stack chains (Optimism, Base) the L1 data fee is not in
``gasUsed x gasPrice`` and is not counted; an account-abstraction wallet's gas
is paid by its bundler's transaction and does not appear in its ``txlist``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from pools.sources.http import RetryPolicy, get_json
from pools.sources.types import SourceError

MAX_WINDOW = 10_000  # Etherscan returns at most page x offset <= 10,000 rows per query


class ExplorerError(Exception):
    """The explorer answered with an error (or something that is not its format)."""


class ExplorerKeyError(ExplorerError):
    """Missing or refused API key: not retried."""


@dataclass(frozen=True, slots=True)
class NativeTx:
    block_number: int
    timestamp: datetime
    tx_hash: str
    sender: str
    recipient: str | None  # None: a contract creation
    value_wei: int
    gas_used: int
    gas_price_wei: int  # the effective price paid
    is_error: bool

    @property
    def fee_wei(self) -> int:
        return self.gas_used * self.gas_price_wei


@dataclass(frozen=True, slots=True)
class InternalTx:
    block_number: int
    timestamp: datetime
    tx_hash: str
    trace_id: str
    sender: str
    recipient: str | None
    value_wei: int
    is_error: bool


def _addr(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return text or None


def _native(row: dict[str, Any]) -> NativeTx:
    return NativeTx(
        block_number=int(row["blockNumber"]),
        timestamp=datetime.fromtimestamp(int(row["timeStamp"]), UTC),
        tx_hash=str(row["hash"]).lower(),
        sender=_addr(row["from"]) or "",
        recipient=_addr(row.get("to")),
        value_wei=int(row["value"]),
        gas_used=int(row["gasUsed"]),
        gas_price_wei=int(row["gasPrice"]),
        is_error=str(row.get("isError", "0")) != "0",
    )


def _internal(row: dict[str, Any]) -> InternalTx:
    return InternalTx(
        block_number=int(row["blockNumber"]),
        timestamp=datetime.fromtimestamp(int(row["timeStamp"]), UTC),
        tx_hash=str(row["hash"]).lower(),
        trace_id=str(row.get("traceId", "")),
        sender=_addr(row["from"]) or "",
        recipient=_addr(row.get("to")),
        value_wei=int(row["value"]),
        is_error=str(row.get("isError", "0")) != "0",
    )


@dataclass
class ExplorerClient:
    api_base: str
    chain_id: int
    api_key: str
    client: httpx.Client | None = None
    policy: RetryPolicy = field(default_factory=lambda: RetryPolicy(retries=5, backoff=1.0, max_backoff=30.0))
    page_size: int = 1000
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not self.api_key:
            raise ExplorerKeyError("an explorer API key is required (native coin and gas are not read without one)")
        if not 1 <= self.page_size <= MAX_WINDOW:
            raise ValueError(f"page_size must be 1..{MAX_WINDOW}")
        if self.client is None:
            self.client = httpx.Client(timeout=self.timeout, headers={"Accept": "application/json"})

    def txlist(self, address: str, start_block: int = 0, end_block: int | None = None) -> list[NativeTx]:
        rows = self._rows("txlist", address, start_block, end_block)
        return [_native(r) for r in rows]

    def txlistinternal(self, address: str, start_block: int = 0, end_block: int | None = None) -> list[InternalTx]:
        rows = self._rows("txlistinternal", address, start_block, end_block)
        return [_internal(r) for r in rows]

    def _query(self, action: str, address: str, start: int, end: int | None) -> list[dict[str, Any]]:
        params = {
            "chainid": self.chain_id,
            "module": "account",
            "action": action,
            "address": address,
            "startblock": start,
            "endblock": end if end is not None else 99_999_999_999,
            "page": 1,
            "offset": self.page_size,
            "sort": "asc",
            "apikey": self.api_key,
        }
        assert self.client is not None
        for attempt in range(self.policy.retries + 1):
            try:
                payload = get_json(self.client, self.api_base, params=params, policy=self.policy)
            except SourceError as exc:
                raise ExplorerError(f"{action}: {exc}") from exc
            if not isinstance(payload, dict) or "result" not in payload:
                raise ExplorerError(f"{action}: not an Etherscan-style answer: {str(payload)[:200]}")
            result, message = payload["result"], str(payload.get("message", ""))
            if str(payload.get("status")) == "1" and isinstance(result, list):
                return result
            if isinstance(result, list) and not result and message.lower().startswith("no transactions"):
                return []
            text = f"{message}: {result}"
            if "rate limit" in text.lower() and attempt < self.policy.retries:
                self.policy.sleep(self.policy.delay(attempt))
                continue
            if "api key" in text.lower() or "apikey" in text.lower():
                raise ExplorerKeyError(f"{action}: {text}")
            raise ExplorerError(f"{action}: {text}")
        raise ExplorerError(f"{action}: still rate limited after {self.policy.retries} retries")

    def _rows(self, action: str, address: str, start: int, end: int | None) -> list[dict[str, Any]]:
        """Every row from ``start`` on. A full page means there may be more: the next query starts at
        the last block seen, and that block's rows (perhaps cut in the middle) are all taken from it."""
        out: list[dict[str, Any]] = []
        while True:
            rows = self._query(action, address, start, end)
            if len(rows) < self.page_size:
                return out + rows
            last = int(rows[-1]["blockNumber"])
            if int(rows[0]["blockNumber"]) == last:
                raise ExplorerError(f"{action}: more than {self.page_size} rows in block {last}; raise page_size")
            out += [r for r in rows if int(r["blockNumber"]) < last]
            start = last


@dataclass(frozen=True, slots=True)
class NativeSummary:
    received_wei: int
    sent_wei: int
    gas_wei: int  # paid on the wallet's own transactions, failed ones included

    @property
    def net_wei(self) -> int:
        return self.received_wei - self.sent_wei - self.gas_wei


def native_summary(wallet: str, txs: Iterable[NativeTx], internal: Iterable[InternalTx] = ()) -> NativeSummary:
    """Native coin in, out and spent on gas, from the explorer's rows (failed transfers move nothing)."""
    wallet = wallet.lower()
    received = sent = gas = 0
    for tx in txs:
        if tx.sender == wallet:
            gas += tx.fee_wei
            if not tx.is_error and tx.recipient != wallet:
                sent += tx.value_wei
        elif tx.recipient == wallet and not tx.is_error:
            received += tx.value_wei
    for itx in internal:
        if itx.is_error or itx.sender == itx.recipient:
            continue
        if itx.recipient == wallet:
            received += itx.value_wei
        elif itx.sender == wallet:
            sent += itx.value_wei
    return NativeSummary(received, sent, gas)
