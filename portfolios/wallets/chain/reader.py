"""Read one wallet on one chain: logs in, typed records out (the adapter phase 2's services call).

One :meth:`WalletReader.read` pass over ``from_block..to_block``:

1. ``eth_getLogs`` pages for ``Transfer`` with the wallet as topic 1 or 2
   (ERC-20 amounts and ERC-721 token ids alike) and ERC-4626 ``Deposit``/
   ``Withdraw`` with the wallet as owner;
2. receipts of the transactions where an LP token may have been minted to or
   burnt for the wallet, matched to the pair's ``Mint``/``Burn``; a pair counts
   only if its ``factory()`` is one the chain config lists;
3. for every position NFT of a configured position manager the wallet held or
   received: that manager's ``IncreaseLiquidity``/``DecreaseLiquidity``/
   ``Collect`` for those token ids, replayed into position histories;
4. block timestamps (from the logs when the node includes them, else headers).

Blocks within the chain's confirmation margin are read only when asked
(``include_unconfirmed``) and are never final: ``final_block`` is where the
next sync must start again (``final_block + 1``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

from portfolios.wallets.chain.abi import (
    SEL_BALANCE_OF,
    SEL_COLLECT,
    SEL_CONVERT_TO_ASSETS,
    SEL_DECIMALS,
    SEL_FACTORY,
    SEL_GET_RESERVES,
    SEL_POSITIONS,
    SEL_SYMBOL,
    SEL_TOKEN0,
    SEL_TOKEN1,
    SEL_TOTAL_SUPPLY,
    TOPIC_4626_DEPOSIT,
    TOPIC_4626_WITHDRAW,
    TOPIC_TRANSFER,
    TOPIC_V3_COLLECT,
    TOPIC_V3_DECREASE,
    TOPIC_V3_INCREASE,
    UINT128_MAX,
    AbiError,
    address,
    address_at,
    address_topic,
    call_data,
    decode_string,
    encode_address,
    encode_uint,
    uint_at,
    uint_topic,
)
from portfolios.wallets.chain.config import ChainConfig
from portfolios.wallets.chain.erc20 import NftTransfer, TokenTransfer, decode_transfer, net_flows
from portfolios.wallets.chain.growth import VaultDeposit, VaultWithdraw, decode_vault_event
from portfolios.wallets.chain.logs import RawLog
from portfolios.wallets.chain.rpc import LogFilter, Receipt, RpcClient, RpcError
from portfolios.wallets.chain.uniswap_v2 import LpDeposit, LpWithdrawal, lp_candidate, match_lp_events
from portfolios.wallets.chain.uniswap_v3 import (
    PositionHistory,
    PositionInfo,
    V3Event,
    decode_amounts,
    decode_manager_event,
    decode_positions,
    position_histories,
)

IDS_PER_FILTER = 100  # token ids OR-ed in one eth_getLogs topic


@dataclass(frozen=True, slots=True)
class TokenMeta:
    address: str
    symbol: str | None  # None: the contract did not answer symbol()
    decimals: int | None  # None: not an ERC-20 with decimals() - never guess 18
    price_id: str | None  # from the chain config; None means unknown, not worthless


@dataclass(frozen=True, slots=True)
class PairInfo:
    address: str
    factory: str
    protocol: str
    token0: str
    token1: str


@dataclass(frozen=True, slots=True)
class PairState:
    reserve0: int
    reserve1: int
    total_supply: int


@dataclass
class WalletRead:
    chain_id: int
    wallet: str
    from_block: int
    to_block: int  # last block read
    final_block: int  # events after it may still be reorged away: read them again next time
    final_hash: str | None
    transfers: list[TokenTransfer] = field(default_factory=list)
    nft_transfers: list[NftTransfer] = field(default_factory=list)
    lp_events: list[LpDeposit | LpWithdrawal] = field(default_factory=list)
    pairs: dict[str, PairInfo] = field(default_factory=dict)
    positions: dict[tuple[str, int], PositionHistory] = field(default_factory=dict)  # (manager, token id)
    vault_events: list[VaultDeposit | VaultWithdraw] = field(default_factory=list)
    receipts: dict[str, Receipt] = field(default_factory=dict)  # the LP transactions' receipts
    block_times: dict[int, datetime] = field(default_factory=dict)

    def is_final(self, block: int) -> bool:
        return block <= self.final_block

    @property
    def tokens(self) -> set[str]:
        return {t.token for t in self.transfers}

    def flows(self) -> dict[str, int]:
        return net_flows(self.transfers, self.wallet)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class WalletReader:
    """Reads wallets on one chain through one :class:`RpcClient`."""

    def __init__(self, rpc: RpcClient, chain: ChainConfig):
        self.rpc, self.chain = rpc, chain

    # ---- the sync pass -------------------------------------------------------

    def read(
        self,
        wallet: str,
        *,
        from_block: int = 0,
        to_block: int | None = None,
        owned_positions: Iterable[tuple[str, int]] = (),
        owed_at_start: Mapping[tuple[str, int], tuple[int, int]] | None = None,
        include_unconfirmed: bool = False,
    ) -> WalletRead:
        """Everything about ``wallet`` in ``from_block..to_block`` (default: up to the last final block).

        ``owned_positions``/``owed_at_start`` carry v3 state from the previous
        read (positions held at ``from_block`` and the principal they were owed).
        """
        wallet = address(wallet)
        head = self.rpc.block_number()
        final = max(from_block - 1, head - self.chain.confirmations)
        last = min(head, to_block) if to_block is not None else (head if include_unconfirmed else final)
        final = min(final, last)
        final_hash = self.rpc.block_headers([final])[final].hash if final >= 0 else None
        read = WalletRead(self.chain.chain_id, wallet, from_block, last, final, final_hash)
        if last < from_block:
            return read
        me = address_topic(wallet)
        logs = self.rpc.get_logs(
            [
                LogFilter((TOPIC_TRANSFER, None, me)),
                LogFilter((TOPIC_TRANSFER, me)),
                LogFilter((TOPIC_4626_DEPOSIT, None, me)),
                LogFilter((TOPIC_4626_WITHDRAW, None, None, me)),
            ],
            from_block,
            last,
        )
        for log in logs:
            record = decode_transfer(log)
            if isinstance(record, TokenTransfer):
                read.transfers.append(record)
            elif isinstance(record, NftTransfer):
                read.nft_transfers.append(record)
            else:
                vault_event = decode_vault_event(log)
                if vault_event is not None:
                    read.vault_events.append(vault_event)
        self._read_lp(read)
        self._read_positions(read, set(owned_positions), dict(owed_at_start or {}), from_block, last)
        self._read_times(read, logs)
        return read

    def _read_lp(self, read: WalletRead) -> None:
        candidates = sorted({t.at.tx_hash for t in read.transfers if lp_candidate(t, read.wallet)})
        if not candidates:
            return
        receipts = self.rpc.receipts(candidates)
        matched = [e for r in receipts.values() for e in match_lp_events(r.logs, read.wallet)]
        pairs = self.pair_info({e.pair for e in matched})
        read.pairs.update(pairs)
        read.lp_events = sorted((e for e in matched if e.pair in pairs), key=lambda e: e.at.order)
        lp_txs = {e.at.tx_hash for e in read.lp_events}
        read.receipts.update({h: r for h, r in receipts.items() if h in lp_txs})

    def _read_positions(
        self,
        read: WalletRead,
        owned: set[tuple[str, int]],
        owed: dict[tuple[str, int], tuple[int, int]],
        lo: int,
        hi: int,
    ) -> None:
        for manager in sorted(self.chain.position_managers):
            ids = {t.token_id for t in read.nft_transfers if t.contract == manager}
            ids |= {token_id for m, token_id in owned if m == manager}
            if not ids:
                continue
            filters = [
                LogFilter(
                    ((TOPIC_V3_INCREASE, TOPIC_V3_DECREASE, TOPIC_V3_COLLECT), tuple(map(uint_topic, chunk))),
                    address=manager,
                )
                for chunk in _chunks(sorted(ids), IDS_PER_FILTER)
            ]
            events: list[V3Event] = [
                e for e in (decode_manager_event(log) for log in self.rpc.get_logs(filters, lo, hi)) if e is not None
            ]
            histories = position_histories(
                events,
                read.nft_transfers,
                read.wallet,
                manager=manager,
                owned_at_start=[token_id for m, token_id in owned if m == manager],
                owed_at_start={token_id: v for (m, token_id), v in owed.items() if m == manager},
            )
            read.positions.update({(manager, token_id): h for token_id, h in histories.items()})

    def _read_times(self, read: WalletRead, logs: list[RawLog]) -> None:
        blocks = {t.at.block_number for t in read.transfers} | {t.at.block_number for t in read.nft_transfers}
        blocks |= {e.at.block_number for e in read.vault_events} | {e.at.block_number for e in read.lp_events}
        for h in read.positions.values():
            blocks |= {e.at.block_number for e in h.increases} | {e.at.block_number for e in h.decreases}
            blocks |= {e.at.block_number for e in h.collections}
        for log in logs:
            if log.block_timestamp is not None:
                read.block_times[log.at.block_number] = datetime.fromtimestamp(log.block_timestamp, UTC)
        missing = blocks - set(read.block_times)
        if missing:
            read.block_times.update({n: h.timestamp for n, h in self.rpc.block_headers(missing).items()})

    # ---- state at a block ------------------------------------------------------

    def _calls(self, calls: list[tuple[str, str]], block: int | str) -> list[bytes | RpcError]:
        return self.rpc.eth_calls(calls, block)

    def balances(self, wallet: str, tokens: Iterable[str], block: int | str) -> dict[str, int | None]:
        """``balanceOf(wallet)`` per token at ``block`` (None where the call failed)."""
        tokens = sorted(set(tokens))
        data = call_data(SEL_BALANCE_OF, encode_address(wallet))
        out: dict[str, int | None] = {}
        for token, answer in zip(tokens, self._calls([(t, data) for t in tokens], block), strict=True):
            out[token] = _uint(answer)
        return out

    def token_meta(self, tokens: Iterable[str]) -> dict[str, TokenMeta]:
        tokens = sorted(set(tokens))
        calls = [(t, sel) for t in tokens for sel in (SEL_SYMBOL, SEL_DECIMALS)]
        answers = self._calls(calls, "latest")
        out = {}
        for i, token in enumerate(tokens):
            symbol_raw, decimals_raw = answers[2 * i], answers[2 * i + 1]
            symbol = None
            if isinstance(symbol_raw, bytes) and symbol_raw:
                try:
                    symbol = decode_string(symbol_raw)
                except AbiError:
                    symbol = None
            decimals = _uint(decimals_raw)
            ref = self.chain.tokens.get(token)
            out[token] = TokenMeta(
                token,
                symbol or (ref.symbol if ref else None),
                decimals if decimals is not None and decimals <= 255 else None,
                ref.price_id if ref else None,
            )
        return out

    def pair_info(self, pairs: Iterable[str]) -> dict[str, PairInfo]:
        """The pairs among ``pairs`` made by a configured v2 factory (others are left out)."""
        pairs = sorted(set(pairs))
        answers = self._calls([(p, sel) for p in pairs for sel in (SEL_FACTORY, SEL_TOKEN0, SEL_TOKEN1)], "latest")
        names = {p.factory: p.name for p in self.chain.uniswap_v2}
        out = {}
        for i, pair in enumerate(pairs):
            words = answers[3 * i : 3 * i + 3]
            if any(not isinstance(w, bytes) or len(w) != 32 for w in words):
                continue
            try:
                factory, token0, token1 = (address_at(cast(bytes, w), 0) for w in words)  # checked above
            except AbiError:
                continue
            if factory in names:
                out[pair] = PairInfo(pair, factory, names[factory], token0, token1)
        return out

    def pair_states(self, pairs: Iterable[str], block: int | str) -> dict[str, PairState]:
        pairs = sorted(set(pairs))
        answers = self._calls([(p, sel) for p in pairs for sel in (SEL_GET_RESERVES, SEL_TOTAL_SUPPLY)], block)
        out = {}
        for i, pair in enumerate(pairs):
            reserves, supply = answers[2 * i], answers[2 * i + 1]
            if isinstance(reserves, bytes) and len(reserves) == 96 and _uint(supply) is not None:
                out[pair] = PairState(uint_at(reserves, 0, 112), uint_at(reserves, 1, 112), _uint(supply) or 0)
        return out

    def positions_info(self, manager: str, token_ids: Iterable[int], block: int | str) -> dict[int, PositionInfo]:
        """``positions(tokenId)`` per id (ids the manager no longer knows, i.e. burnt, are left out)."""
        ids = sorted(set(token_ids))
        answers = self._calls([(manager, call_data(SEL_POSITIONS, encode_uint(i))) for i in ids], block)
        return {i: decode_positions(a) for i, a in zip(ids, answers, strict=True) if isinstance(a, bytes) and a}

    def uncollected(
        self, manager: str, owner: str, token_ids: Iterable[int], block: int | str = "latest"
    ) -> dict[int, tuple[int, int]]:
        """What ``collect`` would pay now (owed principal + fees), by a static call from the owner."""
        ids = sorted(set(token_ids))
        tag = hex(block) if isinstance(block, int) else block
        calls = []
        for i in ids:
            data = call_data(
                SEL_COLLECT,
                encode_uint(i),
                encode_address(owner),
                encode_uint(UINT128_MAX, 128),
                encode_uint(UINT128_MAX, 128),
            )
            calls.append(("eth_call", [{"from": owner, "to": manager, "data": data}, tag]))
        out = {}
        for i, answer in zip(ids, self.rpc.batch_results(calls), strict=True):
            if isinstance(answer, str):
                try:
                    out[i] = decode_amounts(bytes.fromhex(answer[2:]))
                except (AbiError, ValueError):
                    continue
        return out

    def vault_assets(self, vault: str, shares: int, block: int | str) -> int | None:
        (answer,) = self._calls([(vault, call_data(SEL_CONVERT_TO_ASSETS, encode_uint(shares)))], block)
        return _uint(answer)


def _uint(answer: bytes | RpcError) -> int | None:
    if isinstance(answer, bytes) and len(answer) >= 32:
        try:
            return uint_at(answer, 0)
        except AbiError:
            return None
    return None
