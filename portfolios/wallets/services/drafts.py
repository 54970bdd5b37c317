"""Typed chain records -> transaction drafts for one wallet on one chain (the builder a
sync runs; no writes except tokens and positions). Split from ``sync``, which runs it,
saves the drafts and keeps the checkpoint."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext

from pools.models import Token
from pools.services.tokens import token_get_or_create
from portfolios.ledger import IncomeType, TxKind, token_asset
from portfolios.services.legs import ResolvedLeg, q18, token_usd_price_at
from portfolios.services.transactions import TransactionDraft
from portfolios.wallets.chain.config import ChainConfig
from portfolios.wallets.chain.erc20 import TokenTransfer, token_amount
from portfolios.wallets.chain.explorer import InternalTx, NativeTx
from portfolios.wallets.chain.reader import TokenMeta, WalletRead
from portfolios.wallets.chain.uniswap_v2 import LpDeposit
from portfolios.wallets.chain.uniswap_v3 import PositionInfo
from portfolios.wallets.models import Chain, Wallet

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
E18 = Decimal(10) ** 18


@dataclass
class SyncDraft:
    draft: TransactionDraft
    events: list[tuple[str, int, int, str]]  # (tx hash, log index, block, kind)
    position_key: str = ""


class DraftBuilder:
    """Typed chain records -> transaction drafts (no writes except tokens and positions)."""

    def __init__(
        self, *, wallet: Wallet, chain: Chain, config: ChainConfig, read: WalletRead, meta: dict[str, TokenMeta]
    ):
        self.wallet, self.chain, self.config, self.read, self.meta = wallet, chain, config, read, meta
        self.drafts: list[SyncDraft] = []
        self.prices: dict[tuple[int, object], Decimal | None] = {}
        self.tokens: dict[str, Token] = {}
        self.own = set(
            Wallet.objects.filter(portfolio_id=wallet.portfolio_id)
            .exclude(pk=wallet.pk)
            .values_list("address", flat=True)
        )
        self.notes: list[str] = []

    # ---- tokens, amounts, values ---------------------------------------------

    def token(self, address: str) -> Token:
        if address not in self.tokens:
            m = self.meta.get(address)
            ref = self.config.tokens.get(address)
            self.tokens[address] = token_get_or_create(
                chain=self.chain.slug,
                address=address,
                symbol=(m.symbol if m and m.symbol else "")[:64],
                price_id=ref.price_id if ref else "",
            )
        return self.tokens[address]

    def asset(self, address: str, token: Token) -> str:
        """Tax-lot key: the symbol for tokens the chain config or the pools app knows; for
        others the symbol plus the address start (a look-alike "USDC" never merges with USDC)."""
        if address in self.config.tokens or token.price_symbol or token.last_price_usd is not None:
            return token_asset(token.symbol, address)[:80]
        return f"{(token.symbol or 'TOKEN').upper()[:60]}-{address[2:8].upper()}"

    def decimals(self, address: str) -> int | None:
        m = self.meta.get(address)
        return m.decimals if m else None

    def leg(self, address: str, raw: int, when: datetime, *, sign: int, asset: str = "") -> ResolvedLeg | None:
        decimals = self.decimals(address)
        if raw == 0:
            return None
        if decimals is None:
            self.notes.append(f"{address}: no decimals(); {raw} raw units not recorded")
            return None
        qty = q18(token_amount(raw, decimals))
        if qty == 0:
            return None
        token = self.token(address)
        key = (token.pk, when.date())
        if key not in self.prices:
            self.prices[key] = token_usd_price_at(token=token, when=when)
        price = self.prices[key]
        if price is None:
            return ResolvedLeg(asset or self.asset(address, token), token, qty * sign, None, "missing", False)
        return ResolvedLeg(asset or self.asset(address, token), token, qty * sign, q18(qty * price), "looked_up", False)

    def when(self, block: int) -> datetime:
        return self.read.block_times[block]

    def link(self, tx_hash: str) -> str:
        if not tx_hash.startswith("0x"):  # a measurement (growth), not a transaction
            return ""
        return self.config.explorer_tx_url(tx_hash) or ""

    def add(
        self,
        kind: str,
        legs: Iterable[ResolvedLeg | None],
        *,
        block: int,
        tx_hash: str,
        events: list[tuple[int, str]],
        position_key: str = "",
        income_type: str = "",
        description: str = "",
    ) -> None:
        kept = [leg for leg in legs if leg is not None]
        if not kept:
            return
        draft = TransactionDraft(
            kind=kind,
            legs=kept,
            occurred_at=self.when(block),
            income_type=income_type,
            description=description,
            external_ref=tx_hash,
            external_url=self.link(tx_hash),
            wallet_address=self.wallet.address,
        )
        self.drafts.append(SyncDraft(draft, [(tx_hash, i, block, k) for i, k in events], position_key))

    def native_leg(self, wei: int, when: datetime, *, sign: int, fee: bool = False) -> ResolvedLeg | None:
        """The native coin (ETH, BNB, ...), priced through the wrapped token when configured."""
        if wei == 0:
            return None
        symbol = self.config.native_symbol.upper()
        wrapped = self.config.wrapped_native
        if wrapped and self.decimals(wrapped) == 18:
            leg = self.leg(wrapped, wei, when, sign=sign, asset=symbol)
        else:
            leg = ResolvedLeg(symbol, None, q18(token_amount(wei, 18)) * sign, None, "missing", False)
        if leg is not None and fee:
            leg.is_fee = True
        return leg

    def native(self, txs: list[NativeTx], internal: list[InternalTx]) -> None:
        """Gas on every transaction the wallet sent, and native coin moved in and out - except
        where an LP record already carries it (ETH paid through a router)."""
        me = self.read.wallet
        symbol = self.config.native_symbol.upper()
        covered = {d.draft.external_ref for d in self.drafts if any(leg.asset == symbol for leg in d.draft.legs)}
        for tx in txs:
            self.read.block_times.setdefault(tx.block_number, tx.timestamp)
            if tx.sender == me and tx.fee_wei:
                what = "failed transaction" if tx.is_error else "transaction fee"
                self.add(
                    TxKind.FEE,
                    [self.native_leg(tx.fee_wei, tx.timestamp, sign=-1, fee=True)],
                    block=tx.block_number,
                    tx_hash=tx.tx_hash,
                    events=[(-2, "gas")],
                    description=f"Gas ({what})",
                )
            if tx.is_error or not tx.value_wei or tx.tx_hash in covered or tx.sender == tx.recipient:
                continue
            incoming = tx.recipient == me
            other = tx.sender if incoming else tx.recipient
            self.add(
                TxKind.TRANSFER_IN if incoming else TxKind.TRANSFER_OUT,
                [self.native_leg(tx.value_wei, tx.timestamp, sign=1 if incoming else -1)],
                block=tx.block_number,
                tx_hash=tx.tx_hash,
                events=[(-3, "native")],
                description=f"{symbol} {'from' if incoming else 'to'} {other}",
            )
        seen: dict[str, int] = defaultdict(int)
        for itx in internal:
            self.read.block_times.setdefault(itx.block_number, itx.timestamp)
            seen[itx.tx_hash] += 1
            if itx.is_error or not itx.value_wei or itx.tx_hash in covered or itx.sender == itx.recipient:
                continue
            incoming = itx.recipient == me
            other = itx.sender if incoming else itx.recipient
            self.add(
                TxKind.TRANSFER_IN if incoming else TxKind.TRANSFER_OUT,
                [self.native_leg(itx.value_wei, itx.timestamp, sign=1 if incoming else -1)],
                block=itx.block_number,
                tx_hash=itx.tx_hash,
                events=[(-1000 - seen[itx.tx_hash], "internal")],
                description=f"{symbol} (internal) {'from' if incoming else 'to'} {other}",
            )

    def receipt(self, key: str, units: Decimal, value_legs: list[ResolvedLeg]) -> ResolvedLeg:
        """The LP receipt leg; ``LP#<id>`` is filled in once the position exists."""
        values = [leg.fiat_value for leg in value_legs if leg.fiat_value is not None]
        if values and len(values) == len(value_legs):
            return ResolvedLeg(key, None, units, q18(sum(values, ZERO)), "looked_up", False)
        return ResolvedLeg(key, None, units, None, "missing", False)

    # ---- the records ------------------------------------------------------------

    def build(self, positions_info: dict[tuple[str, int], PositionInfo]) -> None:
        absorbed = self._lp_v2()
        absorbed |= self._v3(positions_info)
        self._transfers(absorbed)

    def _lp_v2(self) -> set[tuple[str, int]]:
        absorbed: set[tuple[str, int]] = set()
        by_tx: dict[str, list[TokenTransfer]] = defaultdict(list)
        for t in self.read.transfers:
            by_tx[t.at.tx_hash].append(t)
        wrapped = self.config.wrapped_native
        for e in self.read.lp_events:
            pair = self.read.pairs[e.pair]
            mine = by_tx.get(e.at.tx_hash, [])
            involved = {pair.token0, pair.token1, e.pair}
            absorbed |= {(t.at.tx_hash, t.at.log_index) for t in mine if t.token in involved}
            moved = {t.token for t in mine}
            deposit = isinstance(e, LpDeposit)
            sign = -1 if deposit else 1
            legs = []
            for token, raw in ((pair.token0, e.amount0), (pair.token1, e.amount1)):
                # Native coin wrapped by the router (addLiquidityETH): the wallet sent/received ETH.
                native = token == wrapped and token not in moved
                legs.append(
                    self.leg(
                        token,
                        raw,
                        self.when(e.at.block_number),
                        sign=sign,
                        asset=self.config.native_symbol.upper() if native else "",
                    )
                )
            units = Decimal(e.liquidity) / E18
            key = f"v2:{e.pair}"
            kept = [leg for leg in legs if leg is not None]
            legs.append(self.receipt(key, units if deposit else -units, kept))
            sym = "/".join(
                self.meta[t].symbol or t[:8] if t in self.meta else t[:8] for t in (pair.token0, pair.token1)
            )
            self.add(
                TxKind.LP_DEPOSIT if deposit else TxKind.LP_WITHDRAW,
                legs,
                block=e.at.block_number,
                tx_hash=e.at.tx_hash,
                events=[(e.at.log_index, "v2_deposit" if deposit else "v2_withdrawal")],
                position_key=key,
                description=f"{pair.protocol} {sym}: liquidity {'added' if deposit else 'removed'}",
            )
        return absorbed

    def _v3(self, infos: dict[tuple[str, int], PositionInfo]) -> set[tuple[str, int]]:
        absorbed: set[tuple[str, int]] = set()
        by_tx: dict[str, list[TokenTransfer]] = defaultdict(list)
        for t in self.read.transfers:
            by_tx[t.at.tx_hash].append(t)
        for (manager, token_id), h in sorted(self.read.positions.items()):
            info = infos.get((manager, token_id))
            if info is None:
                self.notes.append(f"v3 position {token_id}: burnt, its tokens unknown; not recorded")
                continue
            key = f"v3:{manager}:{token_id}"
            t0, t1 = info.token0, info.token1
            for e in h.increases + h.decreases:
                absorbed |= {(t.at.tx_hash, t.at.log_index) for t in by_tx.get(e.at.tx_hash, []) if t.token in (t0, t1)}
            for c in h.collections:
                absorbed |= {(t.at.tx_hash, t.at.log_index) for t in by_tx.get(c.at.tx_hash, []) if t.token in (t0, t1)}
            for inc in h.increases:
                when = self.when(inc.at.block_number)
                legs = [self.leg(t0, inc.amount0, when, sign=-1), self.leg(t1, inc.amount1, when, sign=-1)]
                kept = [leg for leg in legs if leg is not None]
                legs.append(self.receipt(key, Decimal(inc.liquidity) / E18, kept))
                self.add(
                    TxKind.LP_DEPOSIT,
                    legs,
                    block=inc.at.block_number,
                    tx_hash=inc.at.tx_hash,
                    events=[(inc.at.log_index, "v3_increase")],
                    position_key=key,
                    description=f"Uniswap v3 position #{token_id}: liquidity added",
                )
            for dec in h.decreases:
                when = self.when(dec.at.block_number)
                legs = [self.leg(t0, dec.amount0, when, sign=1), self.leg(t1, dec.amount1, when, sign=1)]
                kept = [leg for leg in legs if leg is not None]
                legs.append(self.receipt(key, -Decimal(dec.liquidity) / E18, kept))
                self.add(
                    TxKind.LP_WITHDRAW,
                    legs,
                    block=dec.at.block_number,
                    tx_hash=dec.at.tx_hash,
                    events=[(dec.at.log_index, "v3_decrease")],
                    position_key=key,
                    description=f"Uniswap v3 position #{token_id}: liquidity removed",
                )
            for c in h.collections:
                when = self.when(c.at.block_number)
                self.add(
                    TxKind.REWARD,
                    [self.leg(t0, c.fees0, when, sign=1), self.leg(t1, c.fees1, when, sign=1)],
                    block=c.at.block_number,
                    tx_hash=c.at.tx_hash,
                    events=[(c.at.log_index, "v3_fees")],
                    position_key=key,
                    income_type=IncomeType.LP_FEES,
                    description=f"Uniswap v3 position #{token_id}: fees collected",
                )
        return absorbed

    def _transfers(self, absorbed: set[tuple[str, int]]) -> None:
        by_tx: dict[str, list[TokenTransfer]] = defaultdict(list)
        for t in self.read.transfers:
            if (t.at.tx_hash, t.at.log_index) not in absorbed and t.sender != t.recipient:
                by_tx[t.at.tx_hash].append(t)
        me = self.read.wallet
        for tx_hash, group in by_tx.items():
            group.sort(key=lambda t: t.at.log_index)
            signs = {1 if t.recipient == me else -1 for t in group}
            tokens = {t.token for t in group}
            if signs == {1, -1} and len(tokens) > 1:  # tokens out and others in: a swap
                legs = [
                    self.leg(t.token, t.amount, self.when(t.at.block_number), sign=1 if t.recipient == me else -1)
                    for t in group
                ]
                self.add(
                    TxKind.SWAP,
                    legs,
                    block=group[0].at.block_number,
                    tx_hash=tx_hash,
                    events=[(t.at.log_index, "swap") for t in group],
                    description="Swap",
                )
                continue
            for t in group:
                incoming = t.recipient == me
                other = t.sender if incoming else t.recipient
                if other in self.own:
                    what = f"Move {'from' if incoming else 'to'} your wallet {other}"
                elif t.is_mint:
                    what = "Minted to you"
                else:
                    what = f"Transfer {'from' if incoming else 'to'} {other}"
                self.add(
                    TxKind.TRANSFER_IN if incoming else TxKind.TRANSFER_OUT,
                    [self.leg(t.token, t.amount, self.when(t.at.block_number), sign=1 if incoming else -1)],
                    block=t.at.block_number,
                    tx_hash=tx_hash,
                    events=[(t.at.log_index, "transfer_in" if incoming else "transfer_out")],
                    description=what,
                )


def tick_price(tick: int, dec0: int | None, dec1: int | None) -> Decimal:
    """Price of token0 in token1 at ``tick`` (1.0001^tick, scaled by the decimals)."""
    with localcontext() as ctx:
        ctx.prec = 40
        price = Decimal("1.0001") ** tick
        if dec0 is not None and dec1 is not None:
            price = price.scaleb(dec0 - dec1)
        return price
