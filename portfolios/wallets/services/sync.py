"""Wallet sync: read a wallet on a chain from its checkpoint, write what happened as
portfolio transactions and positions, reconcile against ``balanceOf``.

One pass per wallet and chain (:func:`wallet_chain_sync`):

1. read (``WalletReader``) from ``cursor.last_block + 1`` to the chain's last
   *final* block (head minus the confirmation margin: newer blocks are left for the
   next sync, so a reorg inside the margin never reaches the database);
2. turn the typed records into transaction drafts (:class:`DraftBuilder`):
   ERC-20 transfers (a tx with tokens both out and in is one swap), Uniswap v2
   LP deposits/withdrawals with both amounts, Uniswap v3 increases (deposits),
   decreases (withdrawals of what the position released) and the fees actually
   collected (``Collect`` beyond the released principal) as ``lp_fees`` income,
   a position NFT leaving for a stranger closes the position (to the user's own
   wallet it stays open and moves), rebasing growth as staking income;
3. save them in chunks, each chunk one database transaction that also stores its
   chain events (unique wallet + chain + tx hash + log index): a sync killed half
   way leaves whole chunks, and the rerun (from the same checkpoint, the cursor
   only moves at the end) skips the events already stored - no duplicate;
4. move the cursor, refresh position state (range, liquidity, uncollected fees),
   and reconcile every token: net synced transfers (+ recorded growth) against
   ``balanceOf`` at the synced block.

Amounts: raw integers from the chain, ``token_amount(raw, decimals)`` exact Decimals
for legs. A token whose ``decimals()`` is unknown cannot be written as a quantity:
its transfers are counted for reconciliation and listed as skipped, never guessed.
Values: the token's USD price on that day when we know one, else ``missing``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from pools.sources.http import RetryPolicy
from portfolios.ledger import IncomeType, TxKind
from portfolios.models import Leg, Position
from portfolios.services.changes import portfolio_ledger_changed
from portfolios.services.legs import ResolvedLeg, q18
from portfolios.services.transactions import TransactionDraft, transactions_record_synced
from portfolios.wallets.chain.abi import SEL_ASSET, address_at
from portfolios.wallets.chain.config import ChainConfig
from portfolios.wallets.chain.explorer import ExplorerClient
from portfolios.wallets.chain.growth import vault_asset_flows
from portfolios.wallets.chain.reader import WalletRead, WalletReader
from portfolios.wallets.chain.rpc import RpcClient
from portfolios.wallets.chain.uniswap_v3 import PositionHistory, PositionInfo
from portfolios.wallets.models import Chain, ChainEvent, Reconciliation, SyncCursor, SyncedPosition, Wallet, WalletSync
from portfolios.wallets.services.chains import chain_config, chain_explorer_key
from portfolios.wallets.services.drafts import DraftBuilder, SyncDraft, tick_price

logger = logging.getLogger(__name__)

#: Drafts saved per database transaction (a killed sync keeps whole chunks).
CHUNK = 500
ZERO = Decimal(0)
E18 = Decimal(10) ** 18


@dataclass
class ChainSyncResult:
    chain: str
    from_block: int
    to_block: int
    created: int = 0
    skipped_existing: int = 0
    reconciliations: list[Reconciliation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _position_for(
    builder: DraftBuilder, key: str, info: PositionInfo | None, pair_tokens: tuple[str, str] | None, opened_at: datetime
) -> SyncedPosition:
    """The portfolio's position for ``key`` (created on first sight; moves with the NFT between own wallets)."""
    wallet, chain = builder.wallet, builder.chain
    synced = (
        SyncedPosition.objects.select_related("position")
        .filter(portfolio_id=wallet.portfolio_id, chain=chain, key=key)
        .first()
    )
    if synced is not None:
        if synced.wallet_id != wallet.pk:
            synced.wallet = wallet
            synced.save(update_fields=["wallet"])
        return synced
    t0, t1 = (info.token0, info.token1) if info is not None else (pair_tokens or ("", ""))

    def sym(t: str) -> str:
        m = builder.meta.get(t)
        return (m.symbol if m and m.symbol else t[:8]) if t else "?"

    if key.startswith("v3:") and info is not None:
        dec0, dec1 = builder.decimals(t0), builder.decimals(t1)
        lower, upper = tick_price(info.tick_lower, dec0, dec1), tick_price(info.tick_upper, dec0, dec1)
        position = Position(
            portfolio_id=wallet.portfolio_id,
            kind=Position.Kind.CONCENTRATED_LP,
            opened_at=opened_at,
            label=f"Uniswap v3 {sym(t0)}/{sym(t1)} {info.fee / 10000:g}% #{key.rsplit(':', 1)[1]} ({chain.name})",
            range_lower=q18(lower),
            range_upper=q18(upper),
        )
    else:
        position = Position(
            portfolio_id=wallet.portfolio_id,
            kind=Position.Kind.LP,
            opened_at=opened_at,
            label=f"Uniswap v2 {sym(t0)}/{sym(t1)} ({chain.name})",
        )
    position.full_clean()
    position.save()
    return SyncedPosition.objects.create(
        portfolio_id=wallet.portfolio_id,
        chain=chain,
        key=key,
        wallet=wallet,
        position=position,
        token0=t0,
        token1=t1,
        tick_lower=info.tick_lower if info else None,
        tick_upper=info.tick_upper if info else None,
        fee_tier=info.fee if info else None,
    )


def _save(builder: DraftBuilder, drafts: list[SyncDraft], positions: dict[str, SyncedPosition]) -> int:
    """Save one chunk of drafts (new events only) with their chain events, in one transaction."""
    wallet, chain = builder.wallet, builder.chain
    with transaction.atomic():
        for d in drafts:
            if d.position_key:
                synced = positions[d.position_key]
                d.draft.position = synced.position
                for leg in d.draft.legs:
                    if leg.asset == d.position_key:
                        leg.asset = synced.position.lp_asset
        transactions_record_synced(portfolio=wallet.portfolio, drafts=[d.draft for d in drafts], revalue=False)
        ChainEvent.objects.bulk_create(
            [
                ChainEvent(
                    wallet=wallet,
                    chain=chain,
                    tx_hash=tx,
                    log_index=i,
                    block_number=b,
                    kind=k,
                    transaction=d.draft.saved,
                )
                for d in drafts
                for (tx, i, b, k) in d.events
            ]
        )
    return len(drafts)


def _state_positions(state: dict) -> tuple[list[tuple[str, int]], dict[tuple[str, int], tuple[int, int]]]:
    owned = [(m, int(i)) for m, i in state.get("owned", [])]
    owed = {(k.split(":")[0], int(k.split(":")[1])): (int(v[0]), int(v[1])) for k, v in state.get("owed", {}).items()}
    return owned, owed


def wallet_chain_sync(
    *,
    wallet: Wallet,
    chain: Chain,
    run: WalletSync | None = None,
    rpc: RpcClient | None = None,
    to_block: int | None = None,
    explorer: ExplorerClient | None = None,
) -> ChainSyncResult:
    """Sync ``wallet`` on ``chain`` from its checkpoint to the last final block (see the module doc)."""
    config = chain_config(chain)
    own_rpc = rpc is None
    rpc = rpc or RpcClient(
        list(config.rpc_urls),
        batch_size=config.batch_size,
        max_log_range=config.max_log_range,
        policy=RetryPolicy(retries=settings.WALLETS_RPC_RETRIES, backoff=0.5, max_backoff=30.0),
    )
    try:
        if explorer is None and chain.explorer_api and chain_explorer_key(chain):
            explorer = ExplorerClient(chain.explorer_api, chain.chain_id, chain_explorer_key(chain))
        return _sync(wallet, chain, config, rpc, run, to_block, explorer)
    finally:
        if own_rpc:
            rpc.close()


def _sync(
    wallet: Wallet,
    chain: Chain,
    config: ChainConfig,
    rpc: RpcClient,
    run: WalletSync | None,
    to_block: int | None,
    explorer: ExplorerClient | None,
) -> ChainSyncResult:
    reader = WalletReader(rpc, config)
    cursor, _ = SyncCursor.objects.get_or_create(wallet=wallet, chain=chain)
    state = dict(cursor.state or {})
    owned, owed = _state_positions(state)
    from_block = cursor.last_block + 1
    read = reader.read(
        wallet.address, from_block=from_block, to_block=to_block, owned_positions=owned, owed_at_start=owed
    )
    result = ChainSyncResult(chain.slug, from_block, read.final_block)
    span = max(0, read.final_block - from_block + 1)
    if run is not None:
        WalletSync.objects.filter(pk=run.pk).update(blocks_total=F("blocks_total") + span)
    block = read.final_block
    flows = {t: int(v) for t, v in state.get("flows", {}).items()}
    tokens = set(flows) | read.tokens | set(config.rebasing_tokens)
    positions_by_manager: dict[str, set[int]] = defaultdict(set)
    for manager, token_id in read.positions:
        positions_by_manager[manager].add(token_id)
    infos: dict[tuple[str, int], PositionInfo] = {}
    known_info = {
        s.key: s
        for s in SyncedPosition.objects.filter(portfolio_id=wallet.portfolio_id, chain=chain, key__startswith="v3:")
    }
    for manager, ids in positions_by_manager.items():
        got = reader.positions_info(manager, ids, block) if block >= 0 else {}
        for token_id in ids:
            if token_id in got:
                infos[(manager, token_id)] = got[token_id]
            elif f"v3:{manager}:{token_id}" in known_info:  # burnt since: what we knew
                s = known_info[f"v3:{manager}:{token_id}"]
                infos[(manager, token_id)] = PositionInfo(
                    0, "", s.token0, s.token1, s.fee_tier or 0, s.tick_lower or 0, s.tick_upper or 0, 0, 0, 0, 0, 0
                )
    meta_tokens = tokens | {t for i in infos.values() for t in (i.token0, i.token1)}
    meta_tokens |= {t for p in read.pairs.values() for t in (p.token0, p.token1)}
    if explorer is not None and config.wrapped_native:
        meta_tokens.add(config.wrapped_native)
    # ERC-4626 vaults the wallet used: their underlying asset (asset()) prices the growth.
    vault_state = {v: int(x) for v, x in state.get("vaults", {}).items()}
    vaults = sorted({e.vault for e in read.vault_events} | set(vault_state))
    vault_assets: dict[str, str] = {}
    if vaults and block >= 0:
        for vault, answer in zip(vaults, rpc.eth_calls([(v, SEL_ASSET) for v in vaults], block), strict=True):
            if isinstance(answer, bytes) and len(answer) == 32:
                vault_assets[vault] = address_at(answer, 0)
        meta_tokens |= set(vault_assets.values())
    meta = reader.token_meta(meta_tokens) if meta_tokens else {}
    builder = DraftBuilder(wallet=wallet, chain=chain, config=config, read=read, meta=meta)
    builder.build(infos)
    if explorer is not None and read.final_block >= from_block:
        builder.native(
            explorer.txlist(wallet.address, from_block, read.final_block),
            explorer.txlistinternal(wallet.address, from_block, read.final_block),
        )

    # Rebasing tokens: growth not explained by transfers since the last measurement is income.
    growth_state = {t: int(v) for t, v in state.get("growth", {}).items()}
    grown = {t: int(v) for t, v in state.get("grown", {}).items()}
    read_flows = read.flows()
    balances = reader.balances(wallet.address, tokens, block) if tokens and block >= 0 else {}
    if block >= from_block:
        for token in sorted(config.rebasing_tokens):
            now = balances.get(token)
            if now is None:
                continue
            amount = now - growth_state.get(token, 0) - read_flows.get(token, 0)
            growth_state[token] = now
            if amount == 0:
                continue
            when = read.block_times.get(block) or rpc.block_headers([block])[block].timestamp
            read.block_times.setdefault(block, when)
            leg = builder.leg(token, abs(amount), when, sign=1 if amount > 0 else -1)
            if leg is None:
                continue
            if amount > 0:
                builder.add(
                    TxKind.REWARD,
                    [leg],
                    block=block,
                    tx_hash=f"growth:{block}:{token}",
                    events=[(-1, "growth")],
                    income_type=IncomeType.STAKING,
                    description="Balance growth without a transfer (rebasing)",
                )
            else:
                leg.is_fee = True
                builder.add(
                    TxKind.FEE,
                    [leg],
                    block=block,
                    tx_hash=f"growth:{block}:{token}",
                    events=[(-1, "shrink")],
                    description="Balance fell without a transfer (slashing or write-down)",
                )
            grown[token] = grown.get(token, 0) + amount
        # Vault shares: assets now (convertToAssets) - assets at the last sync - assets deposited net.
        vault_flows = vault_asset_flows(read.vault_events, wallet.address)
        for vault, asset in sorted(vault_assets.items()):
            shares = balances.get(vault)
            if shares is None:
                continue
            value = reader.vault_assets(vault, shares, block) if shares else 0
            if value is None:
                continue
            amount = value - vault_state.get(vault, 0) - vault_flows.get(vault, 0)
            vault_state[vault] = value
            if amount == 0:
                continue
            when = read.block_times.get(block) or rpc.block_headers([block])[block].timestamp
            read.block_times.setdefault(block, when)
            leg = builder.leg(asset, abs(amount), when, sign=1 if amount > 0 else -1)
            if leg is None:
                continue
            if amount < 0:
                leg.is_fee = True
            builder.add(
                TxKind.REWARD if amount > 0 else TxKind.FEE,
                [leg],
                block=block,
                tx_hash=f"vault:{block}:{vault}",
                events=[(-1, "vault_growth" if amount > 0 else "vault_loss")],
                income_type=IncomeType.INTEREST if amount > 0 else "",
                description=f"Vault {vault}: {'yield' if amount > 0 else 'loss'} (shares worth more or less assets)",
            )

    # Skip what an interrupted run already stored (the cursor has not moved since).
    existing = set(
        ChainEvent.objects.filter(wallet=wallet, chain=chain, block_number__gte=from_block).values_list(
            "tx_hash", "log_index"
        )
    )
    fresh = [d for d in builder.drafts if not any((tx, i) in existing for tx, i, _, _ in d.events)]
    result.skipped_existing = len(builder.drafts) - len(fresh)
    result.notes = builder.notes

    # Positions first (the LP receipt legs name them), then the drafts in chain order.
    positions: dict[str, SyncedPosition] = {}
    first_seen: dict[str, datetime] = {}
    for d in builder.drafts:
        if d.position_key and d.position_key not in first_seen:
            first_seen[d.position_key] = d.draft.occurred_at
    for (manager, token_id), h in read.positions.items():
        key = f"v3:{manager}:{token_id}"
        if key not in first_seen and (manager, token_id) in infos and h.received:
            first_seen[key] = read.block_times[h.received[0].at.block_number]
    for key, opened in first_seen.items():
        info = infos.get((key.split(":")[1], int(key.split(":")[2]))) if key.startswith("v3:") else None
        pair = read.pairs.get(key[3:]) if key.startswith("v2:") else None
        positions[key] = _position_for(builder, key, info, (pair.token0, pair.token1) if pair else None, opened)
    fresh.sort(key=lambda d: (d.events[0][2], d.events[0][1] if d.events[0][1] >= 0 else 10**9))
    for start in range(0, len(fresh), CHUNK):
        result.created += _save(builder, fresh[start : start + CHUNK], positions)
        if run is not None:
            WalletSync.objects.filter(pk=run.pk).update(
                records_created=F("records_created") + min(CHUNK, len(fresh) - start)
            )

    with transaction.atomic():
        extra = _positions_after(builder, reader, read, infos, positions, block)
        result.created += extra
        if run is not None and extra:
            WalletSync.objects.filter(pk=run.pk).update(records_created=F("records_created") + extra)
        for token, v in read_flows.items():
            flows[token] = flows.get(token, 0) + v
        state["flows"] = {t: str(v) for t, v in flows.items()}
        state["growth"] = {t: str(v) for t, v in growth_state.items()}
        state["grown"] = {t: str(v) for t, v in grown.items()}
        state["vaults"] = {v: str(x) for v, x in vault_state.items()}
        state["owned"] = sorted([m, i] for (m, i), h in read.positions.items() if h.owned) + [
            [m, i] for m, i in owned if (m, i) not in read.positions
        ]
        state["owed"] = {f"{m}:{i}": [h.owed0, h.owed1] for (m, i), h in read.positions.items() if h.owned}
        locked = SyncCursor.objects.select_for_update().get(pk=cursor.pk)
        if block >= locked.last_block:
            locked.last_block = block
            locked.last_block_hash = read.final_hash or ""
            locked.last_block_at = read.block_times.get(block) or (
                rpc.block_headers([block])[block].timestamp if block >= 0 else None
            )
        locked.synced_at = timezone.now()
        locked.state = state
        locked.save()
        if result.created:
            portfolio_ledger_changed(portfolio_id=wallet.portfolio_id)
        if run is not None:
            WalletSync.objects.filter(pk=run.pk).update(blocks_done=F("blocks_done") + span)
            rows = []
            for token in sorted(set(flows) | set(grown)):
                m = meta.get(token)
                rows.append(
                    Reconciliation(
                        sync=run,
                        chain=chain,
                        token=token,
                        symbol=(m.symbol or "")[:64] if m else "",
                        decimals=m.decimals if m else None,
                        block=block,
                        expected=Decimal(flows.get(token, 0) + grown.get(token, 0)),
                        on_chain=None if (held := balances.get(token)) is None else Decimal(held),
                    )
                )
            Reconciliation.objects.filter(sync=run, chain=chain).delete()
            result.reconciliations = Reconciliation.objects.bulk_create(rows)
    return result


def _positions_after(
    builder: DraftBuilder,
    reader: WalletReader,
    read: WalletRead,
    infos: dict[tuple[str, int], PositionInfo],
    positions: dict[str, SyncedPosition],
    block: int,
) -> int:
    """Range, liquidity, fees and uncollected fees of the positions this read touched; close those gone.
    Returns the records it wrote (LP units leaving with an NFT)."""
    wallet = builder.wallet
    written = 0
    by_manager: dict[str, list[int]] = defaultdict(list)
    for (manager, token_id), h in read.positions.items():
        key = f"v3:{manager}:{token_id}"
        synced = positions.get(key)
        if synced is None:
            continue
        info = infos.get((manager, token_id))
        if info is not None and info.operator:  # read from positions() now (not a burnt NFT's memory)
            synced.liquidity = Decimal(info.liquidity)
        _describe_tokens(builder, synced)
        f0, f1 = h.fees
        synced.fees_collected0 += f0
        synced.fees_collected1 += f1
        synced.state_block = block
        if h.owned:
            by_manager[manager].append(token_id)
        else:
            written += _close_or_move(builder, synced, h)
        synced.save()
    for manager, ids in by_manager.items():
        owed = {i: (read.positions[(manager, i)].owed0, read.positions[(manager, i)].owed1) for i in ids}
        for token_id, (a0, a1) in reader.uncollected(manager, wallet.address, ids, block).items():
            synced = positions[f"v3:{manager}:{token_id}"]
            synced.uncollected0 = Decimal(max(0, a0 - owed[token_id][0]))
            synced.uncollected1 = Decimal(max(0, a1 - owed[token_id][1]))
            synced.save(update_fields=["uncollected0", "uncollected1"])
    for key, synced in positions.items():
        if not key.startswith("v2:"):
            continue
        units = sum(
            (
                leg.quantity
                for d in builder.drafts
                if d.position_key == key
                for leg in d.draft.legs
                if leg.asset == synced.position.lp_asset
            ),
            ZERO,
        )
        synced.liquidity += (units * E18).to_integral_value()
        _describe_tokens(builder, synced)
        synced.state_block = block
        synced.save()
        if synced.liquidity <= 0 and synced.position.closed_at is None:
            last = max(d.draft.occurred_at for d in builder.drafts if d.position_key == key)
            Position.objects.filter(pk=synced.position_id).update(closed_at=max(last, synced.position.opened_at))
    return written


def _describe_tokens(builder: DraftBuilder, synced: SyncedPosition) -> None:
    """Symbols and decimals of the position's tokens, as the chain answered them."""
    for n, token in ((0, synced.token0), (1, synced.token1)):
        m = builder.meta.get(token)
        if m is not None:
            setattr(synced, f"symbol{n}", (m.symbol or "")[:64])
            setattr(synced, f"decimals{n}", m.decimals)


def _close_or_move(builder: DraftBuilder, synced: SyncedPosition, h: PositionHistory) -> int:
    """The NFT left the wallet: to another of the user's wallets the position moves; else it closes."""
    sent = h.sent[-1]
    if sent.recipient in builder.own:
        target = Wallet.objects.get(portfolio_id=builder.wallet.portfolio_id, address=sent.recipient)
        synced.wallet = target
        return 0
    when = builder.when(sent.at.block_number)
    position = synced.position
    if position.closed_at is None:
        Position.objects.filter(pk=position.pk).update(closed_at=max(when, position.opened_at))
    # The position's LP units leave with the NFT (a transfer out: a gift or a sale is the user's to say).
    wallet, chain = builder.wallet, builder.chain
    key = (sent.at.tx_hash, sent.at.log_index)
    if ChainEvent.objects.filter(wallet=wallet, chain=chain, tx_hash=key[0], log_index=key[1]).exists():
        return 0
    units = Leg.objects.filter(transaction__position=position, asset=position.lp_asset).aggregate(s=Sum("quantity"))
    left = units["s"] or ZERO
    if left <= 0:
        return 0
    draft = TransactionDraft(
        kind=TxKind.TRANSFER_OUT,
        legs=[ResolvedLeg(position.lp_asset, None, -left, None, "missing", False)],
        occurred_at=max(when, position.opened_at),
        position=position,
        description=f"Position NFT #{h.token_id} sent to {sent.recipient}",
        external_ref=sent.at.tx_hash,
        external_url=builder.link(sent.at.tx_hash),
        wallet_address=wallet.address,
    )
    transactions_record_synced(portfolio=wallet.portfolio, drafts=[draft], revalue=False)
    ChainEvent.objects.create(
        wallet=wallet, chain=chain, tx_hash=key[0], log_index=key[1], block_number=sent.at.block_number,
        kind="nft_out", transaction=draft.saved,
    )  # fmt: skip
    return 1
