"""Income from balances that grow without transfers.

Rebasing tokens (stETH, aTokens) change ``balanceOf`` on their own; ERC-4626
vault shares stay put while each share is worth more of the underlying asset.
Both come down to one rule, measured between two syncs:

    growth = value at the end - value at the start - net flows in between

For a rebasing token, values are ``balanceOf`` and flows are the wallet's
transfers. For a vault, values are ``convertToAssets(shares)`` and flows are
the assets the wallet deposited minus those it withdrew (``Deposit`` /
``Withdraw`` events, which state the assets exactly). A negative growth is a
loss (a slashing, a vault write-down) and is reported as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portfolios.wallets.chain.abi import TOPIC_4626_DEPOSIT, TOPIC_4626_WITHDRAW, AbiError, topic_address, uint_at
from portfolios.wallets.chain.logs import LogId, RawLog


@dataclass(frozen=True, slots=True)
class Growth:
    token: str
    start_block: int
    end_block: int
    value_start: int
    value_end: int
    net_flows: int

    @property
    def amount(self) -> int:
        return self.value_end - self.value_start - self.net_flows


def growth(
    token: str, start_block: int, end_block: int, value_start: int, value_end: int, flows: Iterable[int]
) -> Growth:
    if end_block < start_block:
        raise ValueError(f"end block {end_block} is before start block {start_block}")
    return Growth(token, start_block, end_block, value_start, value_end, sum(flows))


@dataclass(frozen=True, slots=True)
class VaultDeposit:
    at: LogId
    vault: str
    sender: str
    owner: str
    assets: int
    shares: int


@dataclass(frozen=True, slots=True)
class VaultWithdraw:
    at: LogId
    vault: str
    sender: str
    receiver: str
    owner: str
    assets: int
    shares: int


def decode_vault_event(log: RawLog) -> VaultDeposit | VaultWithdraw | None:
    try:
        if log.topic0 == TOPIC_4626_DEPOSIT and len(log.topics) == 3 and len(log.data) == 64:
            return VaultDeposit(
                log.at,
                log.address,
                topic_address(log.topics[1]),
                topic_address(log.topics[2]),
                uint_at(log.data, 0),
                uint_at(log.data, 1),
            )
        if log.topic0 == TOPIC_4626_WITHDRAW and len(log.topics) == 4 and len(log.data) == 64:
            return VaultWithdraw(
                log.at,
                log.address,
                topic_address(log.topics[1]),
                topic_address(log.topics[2]),
                topic_address(log.topics[3]),
                uint_at(log.data, 0),
                uint_at(log.data, 1),
            )
    except AbiError:
        return None
    return None


def vault_asset_flows(events: Iterable[VaultDeposit | VaultWithdraw], wallet: str) -> dict[str, int]:
    """Per vault: assets the wallet's shares received by deposit minus those paid out by withdrawal."""
    flows: dict[str, int] = {}
    for e in events:
        if e.owner != wallet:
            continue
        signed = e.assets if isinstance(e, VaultDeposit) else -e.assets
        flows[e.vault] = flows.get(e.vault, 0) + signed
    return flows
