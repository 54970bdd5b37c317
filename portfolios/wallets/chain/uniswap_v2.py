"""Uniswap v2-style pairs: ``Mint``/``Burn``/``Sync`` and LP deposits/withdrawals.

A pair is its own LP token. Inside ``UniswapV2Pair.mint(to)`` the order of
logs is fixed by the contract: [protocol-fee ``Transfer(0, feeTo)``],
[first mint only: ``Transfer(0, 0, 1000)``], ``Transfer(0, to, liquidity)``,
``Sync``, ``Mint(sender, amount0, amount1)``. Inside ``burn(to)``:
[fee mint], ``Transfer(pair, 0, liquidity)``, token0 and token1 ``Transfer``s
to ``to``, ``Sync``, ``Burn(sender, amount0, amount1, to)``. The LP tokens a
burn destroys were sent to the pair first (by the router, in the same
transaction), so the provider of a withdrawal is whoever sent the pair its
own LP tokens in that transaction.

The decoders do not know whether an address really is a pair of a known
factory: the reader checks ``factory()`` before it trusts these records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from portfolios.wallets.chain.abi import (
    TOPIC_V2_BURN,
    TOPIC_V2_MINT,
    TOPIC_V2_SYNC,
    ZERO_ADDRESS,
    AbiError,
    topic_address,
    uint_at,
)
from portfolios.wallets.chain.erc20 import TokenTransfer, decode_transfer
from portfolios.wallets.chain.logs import LogId, RawLog


@dataclass(frozen=True, slots=True)
class V2Mint:
    at: LogId
    pair: str
    sender: str
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class V2Burn:
    at: LogId
    pair: str
    sender: str
    amount0: int
    amount1: int
    to: str


@dataclass(frozen=True, slots=True)
class V2Sync:
    at: LogId
    pair: str
    reserve0: int
    reserve1: int


@dataclass(frozen=True, slots=True)
class LpDeposit:
    """Liquidity added to a v2 pair: both token amounts in, LP tokens out to ``provider``."""

    at: LogId  # the pair's Mint log
    pair: str
    provider: str
    liquidity: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class LpWithdrawal:
    """Liquidity removed: ``provider``'s LP tokens burnt, both tokens paid to ``recipient``."""

    at: LogId  # the pair's Burn log
    pair: str
    provider: str
    recipient: str
    liquidity: int
    amount0: int
    amount1: int


def decode_pair_event(log: RawLog) -> V2Mint | V2Burn | V2Sync | None:
    try:
        if log.topic0 == TOPIC_V2_MINT and len(log.topics) == 2 and len(log.data) == 64:
            return V2Mint(log.at, log.address, topic_address(log.topics[1]), uint_at(log.data, 0), uint_at(log.data, 1))
        if log.topic0 == TOPIC_V2_BURN and len(log.topics) == 3 and len(log.data) == 64:
            return V2Burn(
                log.at,
                log.address,
                topic_address(log.topics[1]),
                uint_at(log.data, 0),
                uint_at(log.data, 1),
                topic_address(log.topics[2]),
            )
        if log.topic0 == TOPIC_V2_SYNC and len(log.topics) == 1 and len(log.data) == 64:
            return V2Sync(log.at, log.address, uint_at(log.data, 0, 112), uint_at(log.data, 1, 112))
    except AbiError:
        return None
    return None


def match_lp_events(tx_logs: Iterable[RawLog], wallet: str) -> list[LpDeposit | LpWithdrawal]:
    """The wallet's LP deposits and withdrawals in one transaction's logs.

    Each ``Mint`` is paired with the pair's last LP mint to a real address
    before it; each ``Burn`` with the pair's last LP burn before it, and is
    the wallet's if the wallet sent the pair at least that much of its LP
    token earlier in the transaction (what it sent is used up burn by burn).
    """
    logs = sorted(tx_logs, key=lambda log: log.at.log_index)
    out: list[LpDeposit | LpWithdrawal] = []
    last_mint_to: dict[str, TokenTransfer] = {}  # pair -> latest Transfer(0, x != 0) of its LP token
    last_burn: dict[str, TokenTransfer] = {}  # pair -> latest Transfer(pair, 0) of its LP token
    sent_to_pair: dict[str, int] = {}  # pair -> LP the wallet has sent it (not yet matched to a burn)
    for log in logs:
        transfer = decode_transfer(log)
        if isinstance(transfer, TokenTransfer):
            pair = transfer.token
            if transfer.sender == ZERO_ADDRESS and transfer.recipient != ZERO_ADDRESS:
                last_mint_to[pair] = transfer
            elif transfer.sender == pair and transfer.recipient == ZERO_ADDRESS:
                last_burn[pair] = transfer
            elif transfer.sender == wallet and transfer.recipient == pair:
                sent_to_pair[pair] = sent_to_pair.get(pair, 0) + transfer.amount
            continue
        event = decode_pair_event(log)
        if isinstance(event, V2Mint):
            minted = last_mint_to.pop(event.pair, None)
            if minted is not None and minted.recipient == wallet:
                out.append(LpDeposit(event.at, event.pair, wallet, minted.amount, event.amount0, event.amount1))
        elif isinstance(event, V2Burn):
            burnt = last_burn.pop(event.pair, None)
            if burnt is None:
                continue
            available = sent_to_pair.get(event.pair, 0)
            if available >= burnt.amount > 0:
                sent_to_pair[event.pair] = available - burnt.amount
                out.append(
                    LpWithdrawal(event.at, event.pair, wallet, event.to, burnt.amount, event.amount0, event.amount1)
                )
    return out


def lp_candidate(transfer: TokenTransfer, wallet: str) -> bool:
    """Could this transfer be half of an LP deposit or withdrawal? (Then the
    reader fetches the transaction's receipt to see the pair's events.)"""
    return (transfer.is_mint and transfer.recipient == wallet) or (
        transfer.sender == wallet and transfer.recipient == transfer.token
    )
