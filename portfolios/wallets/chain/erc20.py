"""ERC-20 and ERC-721 ``Transfer`` logs, net flows and reconciliation.

Both standards share the event ``Transfer(address,address,uint256)``; ERC-20
keeps the amount in the data (3 topics), ERC-721 indexes the token id too
(4 topics, no data). That is how the two are told apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from portfolios.wallets.chain.abi import TOPIC_TRANSFER, ZERO_ADDRESS, AbiError, topic_address, topic_uint, uint_at
from portfolios.wallets.chain.logs import LogId, RawLog


@dataclass(frozen=True, slots=True)
class TokenTransfer:
    at: LogId
    token: str
    sender: str
    recipient: str
    amount: int  # raw, in the token's smallest unit

    @property
    def is_mint(self) -> bool:
        return self.sender == ZERO_ADDRESS

    @property
    def is_burn(self) -> bool:
        return self.recipient == ZERO_ADDRESS

    def signed_for(self, wallet: str) -> int:
        """+amount into ``wallet``, -amount out of it, 0 for a self-transfer or a stranger's."""
        return (self.amount if self.recipient == wallet else 0) - (self.amount if self.sender == wallet else 0)


@dataclass(frozen=True, slots=True)
class NftTransfer:
    at: LogId
    contract: str
    sender: str
    recipient: str
    token_id: int


def decode_transfer(log: RawLog) -> TokenTransfer | NftTransfer | None:
    """The transfer a log records, or None if it is not a well-formed ``Transfer``."""
    if log.topic0 != TOPIC_TRANSFER:
        return None
    try:
        if len(log.topics) == 3 and len(log.data) == 32:
            return TokenTransfer(
                log.at, log.address, topic_address(log.topics[1]), topic_address(log.topics[2]), uint_at(log.data, 0)
            )
        if len(log.topics) == 4 and not log.data:
            return NftTransfer(
                log.at,
                log.address,
                topic_address(log.topics[1]),
                topic_address(log.topics[2]),
                topic_uint(log.topics[3]),
            )
    except AbiError:
        return None
    return None


def net_flows(transfers: Iterable[TokenTransfer], wallet: str) -> dict[str, int]:
    """Per token: what came into ``wallet`` minus what left it (raw units)."""
    net: dict[str, int] = defaultdict(int)
    for t in transfers:
        if wallet in (t.sender, t.recipient):
            net[t.token] += t.signed_for(wallet)
    return dict(net)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Decoded transfers against ``balanceOf`` at one block, for one token.

    ``difference`` = on-chain balance - (opening balance + net transfers); zero
    when every movement was read. A rebasing token or a reward accrual shows
    here as a positive difference, a fee-on-transfer token as a negative one."""

    token: str
    block: int
    expected: int
    on_chain: int

    @property
    def difference(self) -> int:
        return self.on_chain - self.expected

    @property
    def ok(self) -> bool:
        return self.difference == 0


def reconcile(
    flows: Mapping[str, int], balances: Mapping[str, int], block: int, opening: Mapping[str, int] | None = None
) -> list[Reconciliation]:
    """One line per token seen in either mapping, sorted by token address."""
    opening = opening or {}
    tokens = sorted(set(flows) | set(balances) | set(opening))
    return [
        Reconciliation(token, block, opening.get(token, 0) + flows.get(token, 0), balances.get(token, 0))
        for token in tokens
    ]


def token_amount(raw: int, decimals: int) -> Decimal:
    """Raw units as an exact Decimal quantity (no context rounding, any size)."""
    if not 0 <= decimals <= 255:
        raise ValueError(f"decimals out of range: {decimals}")
    return Decimal(f"{raw}e-{decimals}")
