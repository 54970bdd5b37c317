"""An event log as the node returns it (``eth_getLogs`` / receipts), typed.

Every decoded record keeps the log's identity: chain events are stored once
per (chain, transaction hash, log index), so that is what a record carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from portfolios.wallets.chain.abi import AbiError, address, hex_to_bytes, quantity


@dataclass(frozen=True, slots=True)
class LogId:
    """Where an event happened: block, transaction and position in the block."""

    block_number: int
    tx_hash: str
    log_index: int

    @property
    def order(self) -> tuple[int, int]:
        return (self.block_number, self.log_index)


@dataclass(frozen=True, slots=True)
class RawLog:
    at: LogId
    address: str  # the emitting contract, lower-case
    topics: tuple[str, ...]  # lower-case hex, topic 0 first
    data: bytes
    block_hash: str = ""
    block_timestamp: int | None = None  # seconds, when the node includes it in logs
    removed: bool = False

    @property
    def topic0(self) -> str:
        return self.topics[0] if self.topics else ""

    @classmethod
    def from_rpc(cls, item: Mapping[str, Any]) -> RawLog:
        """Parse one log object of ``eth_getLogs`` or a receipt's ``logs``."""
        try:
            stamp = item.get("blockTimestamp")
            return cls(
                at=LogId(
                    quantity(item["blockNumber"]), str(item["transactionHash"]).lower(), quantity(item["logIndex"])
                ),
                address=address(item["address"]),
                topics=tuple(str(t).lower() for t in item.get("topics") or ()),
                data=hex_to_bytes(item.get("data") or "0x"),
                block_hash=str(item.get("blockHash") or "").lower(),
                block_timestamp=quantity(stamp) if stamp is not None else None,
                removed=bool(item.get("removed", False)),
            )
        except (KeyError, TypeError) as exc:
            raise AbiError(f"malformed log object: {exc!r}") from exc


def sort_logs(logs: list[RawLog]) -> list[RawLog]:
    """Chain order, one entry per (tx, log index), removed (reorged) logs dropped."""
    seen: dict[tuple[str, int], RawLog] = {}
    for log in logs:
        if not log.removed:
            seen[(log.at.tx_hash, log.at.log_index)] = log
    return sorted(seen.values(), key=lambda log: log.at.order)
