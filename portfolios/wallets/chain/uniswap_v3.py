"""Uniswap v3 positions through the NonfungiblePositionManager (NPM).

The NPM emits, per position (token id): ``IncreaseLiquidity`` when tokens go
in, ``DecreaseLiquidity`` when liquidity is removed (the principal is then
*owed* to the position, not paid), and ``Collect`` when owed tokens are paid
out. What a position has been paid beyond the principal its decreases
released is its earned fees.

Principal is paid first: a ``Collect`` first settles principal still owed
from earlier decreases (in the same transaction or before), and only the rest
counts as fees. A fee-only collect (nothing owed) is all fees. This is the
conservative reading when a collect takes less than everything owed.

Ownership is the NFT's: events count for the wallet between the transfer
that brought the token id in and the one that took it out (by log order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from portfolios.wallets.chain.abi import (
    TOPIC_V3_COLLECT,
    TOPIC_V3_DECREASE,
    TOPIC_V3_INCREASE,
    ZERO_ADDRESS,
    AbiError,
    address_at,
    int_at,
    topic_uint,
    uint_at,
)
from portfolios.wallets.chain.erc20 import NftTransfer
from portfolios.wallets.chain.logs import LogId, RawLog


@dataclass(frozen=True, slots=True)
class _LiquidityChange:
    at: LogId
    manager: str
    token_id: int
    liquidity: int
    amount0: int
    amount1: int


@dataclass(frozen=True, slots=True)
class V3Increase(_LiquidityChange):
    """Tokens put into the position (amounts paid in)."""


@dataclass(frozen=True, slots=True)
class V3Decrease(_LiquidityChange):
    """Liquidity taken out: the amounts become owed to the position, paid by a later ``Collect``."""


@dataclass(frozen=True, slots=True)
class V3Collect:
    at: LogId
    manager: str
    token_id: int
    recipient: str
    amount0: int
    amount1: int


V3Event = V3Increase | V3Decrease | V3Collect


def decode_manager_event(log: RawLog) -> V3Event | None:
    if len(log.topics) != 2 or log.topic0 not in (TOPIC_V3_INCREASE, TOPIC_V3_DECREASE, TOPIC_V3_COLLECT):
        return None
    try:
        token_id = topic_uint(log.topics[1])
        if log.topic0 == TOPIC_V3_COLLECT:
            if len(log.data) != 96:
                return None
            return V3Collect(
                log.at, log.address, token_id, address_at(log.data, 0), uint_at(log.data, 1), uint_at(log.data, 2)
            )
        if len(log.data) != 96:
            return None
        cls = V3Increase if log.topic0 == TOPIC_V3_INCREASE else V3Decrease
        return cls(log.at, log.address, token_id, uint_at(log.data, 0, 128), uint_at(log.data, 1), uint_at(log.data, 2))
    except AbiError:
        return None


@dataclass(frozen=True, slots=True)
class PositionInfo:
    """``NonfungiblePositionManager.positions(tokenId)``."""

    nonce: int
    operator: str
    token0: str
    token1: str
    fee: int  # hundredths of a basis point: 3000 = 0.3 %
    tick_lower: int
    tick_upper: int
    liquidity: int
    fee_growth_inside0_last_x128: int
    fee_growth_inside1_last_x128: int
    tokens_owed0: int
    tokens_owed1: int


def decode_positions(data: bytes) -> PositionInfo:
    if len(data) != 12 * 32:
        raise AbiError(f"positions() returns 12 words, got {len(data)} bytes")
    return PositionInfo(
        nonce=uint_at(data, 0, 96),
        operator=address_at(data, 1),
        token0=address_at(data, 2),
        token1=address_at(data, 3),
        fee=uint_at(data, 4, 24),
        tick_lower=int_at(data, 5, 24),
        tick_upper=int_at(data, 6, 24),
        liquidity=uint_at(data, 7, 128),
        fee_growth_inside0_last_x128=uint_at(data, 8),
        fee_growth_inside1_last_x128=uint_at(data, 9),
        tokens_owed0=uint_at(data, 10, 128),
        tokens_owed1=uint_at(data, 11, 128),
    )


def decode_amounts(data: bytes) -> tuple[int, int]:
    """Two uint256 return values (a static ``collect`` call: ``(amount0, amount1)``)."""
    if len(data) != 64:
        raise AbiError(f"expected two words, got {len(data)} bytes")
    return uint_at(data, 0), uint_at(data, 1)


@dataclass(frozen=True, slots=True)
class FeeCollection:
    """One ``Collect`` split into principal and fees (raw token units)."""

    at: LogId
    token_id: int
    recipient: str
    principal0: int
    principal1: int
    fees0: int
    fees1: int


def split_collect(collect: V3Collect, owed0: int, owed1: int) -> tuple[FeeCollection, int, int]:
    """Split one collect against the principal still owed; returns the split and what stays owed."""
    p0, p1 = min(collect.amount0, owed0), min(collect.amount1, owed1)
    split = FeeCollection(
        collect.at, collect.token_id, collect.recipient, p0, p1, collect.amount0 - p0, collect.amount1 - p1
    )
    return split, owed0 - p0, owed1 - p1


@dataclass(slots=True)
class PositionHistory:
    """What happened to one position while the wallet held it."""

    manager: str
    token_id: int
    owned: bool = False  # held at the end of the read
    received: list[NftTransfer] = field(default_factory=list)
    sent: list[NftTransfer] = field(default_factory=list)
    increases: list[V3Increase] = field(default_factory=list)
    decreases: list[V3Decrease] = field(default_factory=list)
    collections: list[FeeCollection] = field(default_factory=list)
    owed0: int = 0  # principal released and not yet collected, at the end (whoever held it)
    owed1: int = 0

    @property
    def liquidity(self) -> int:
        """Net liquidity the wallet's own increases and decreases account for."""
        return sum(e.liquidity for e in self.increases) - sum(e.liquidity for e in self.decreases)

    @property
    def fees(self) -> tuple[int, int]:
        return sum(c.fees0 for c in self.collections), sum(c.fees1 for c in self.collections)

    @property
    def closed(self) -> bool:
        """The NFT left the wallet (sold, given, moved to another wallet or burnt)."""
        return not self.owned


def position_histories(
    events: Iterable[V3Event],
    nft_transfers: Iterable[NftTransfer],
    wallet: str,
    *,
    manager: str,
    owned_at_start: Iterable[int] = (),
    owed_at_start: Mapping[int, tuple[int, int]] | None = None,
) -> dict[int, PositionHistory]:
    """Replay a manager's events and NFT transfers in chain order for ``wallet``.

    ``events`` are all the manager's events for the token ids of interest in
    the read window (any owner: principal owed is tracked across owners);
    ``owned_at_start``/``owed_at_start`` carry state from the previous read.
    """
    owed = dict(owed_at_start or {})
    owner_is_wallet = set(owned_at_start)
    stream: list[tuple[tuple[int, int], object]] = [(e.at.order, e) for e in events if e.manager == manager]
    stream += [(t.at.order, t) for t in nft_transfers if t.contract == manager]
    stream.sort(key=lambda item: item[0])
    out: dict[int, PositionHistory] = {}

    def history(token_id: int) -> PositionHistory:
        if token_id not in out:
            out[token_id] = PositionHistory(manager, token_id)
        return out[token_id]

    for token_id in owner_is_wallet:
        history(token_id)
    for _, item in stream:
        if isinstance(item, NftTransfer):
            if item.recipient == wallet and item.sender != wallet:
                owner_is_wallet.add(item.token_id)
                history(item.token_id).received.append(item)
            elif item.sender == wallet and item.recipient != wallet:
                owner_is_wallet.discard(item.token_id)
                history(item.token_id).sent.append(item)
            continue
        assert isinstance(item, V3Increase | V3Decrease | V3Collect)
        token_id = item.token_id
        o0, o1 = owed.get(token_id, (0, 0))
        mine = token_id in owner_is_wallet
        if isinstance(item, V3Decrease):
            owed[token_id] = (o0 + item.amount0, o1 + item.amount1)
            if mine:
                history(token_id).decreases.append(item)
        elif isinstance(item, V3Collect):
            split, o0, o1 = split_collect(item, o0, o1)
            owed[token_id] = (o0, o1)
            if mine:
                history(token_id).collections.append(split)
        elif mine:
            history(token_id).increases.append(item)
    for token_id, h in out.items():
        h.owned = token_id in owner_is_wallet
        h.owed0, h.owed1 = owed.get(token_id, (0, 0))
    return out


def is_burn(transfer: NftTransfer) -> bool:
    return transfer.recipient == ZERO_ADDRESS
