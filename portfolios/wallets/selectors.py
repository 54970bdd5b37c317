"""Reads of the wallets app, always through the owner (another user's wallet is a 404)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from portfolios.models import Transaction
from portfolios.selectors.access import RequestUser
from portfolios.wallets.chain.erc20 import token_amount
from portfolios.wallets.models import (
    Chain,
    ChainEvent,
    Reconciliation,
    SyncCursor,
    SyncedPosition,
    Wallet,
    WalletSync,
)
from portfolios.wallets.services.chains import chain_explorer_key


def wallet_list_for_user(*, user: RequestUser, portfolio_id: int | None = None) -> QuerySet[Wallet]:
    """The user's wallets with their portfolio, chains and latest run id (a constant number of queries)."""
    latest = WalletSync.objects.filter(wallet=OuterRef("pk")).order_by("-created_at", "-id").values("pk")[:1]
    qs = (
        Wallet.objects.filter(portfolio__owner_id=user.pk)
        .select_related("portfolio")
        .prefetch_related("chains", Prefetch("cursors", queryset=SyncCursor.objects.select_related("chain")))
        .annotate(latest_sync_id=Subquery(latest))
        .order_by("portfolio_id", "id")
    )
    if portfolio_id is not None:
        qs = qs.filter(portfolio_id=portfolio_id)
    return qs


def wallet_get_for_user(*, user: RequestUser, wallet_id: int) -> Wallet:
    return get_object_or_404(wallet_list_for_user(user=user), pk=wallet_id)


def wallet_sync_get_for_user(*, user: RequestUser, sync_id: int) -> WalletSync:
    return get_object_or_404(
        WalletSync.objects.filter(wallet__portfolio__owner_id=user.pk).select_related("wallet"), pk=sync_id
    )


def wallet_latest_sync(*, wallet: Wallet) -> WalletSync | None:
    return wallet.syncs.order_by("-created_at", "-id").first()


@dataclass(frozen=True)
class ReconciliationLine:
    chain: str
    token: str
    symbol: str
    block: int
    expected: Decimal | None  # in token units (None: decimals unknown)
    on_chain: Decimal | None
    difference: Decimal | None
    raw_difference: int | None
    ok: bool


def reconciliation_lines(*, sync: WalletSync) -> list[ReconciliationLine]:
    """The run's reconciliation, mismatches first, amounts in token units where decimals are known."""
    out = []
    for r in Reconciliation.objects.filter(sync=sync).select_related("chain"):
        raw_diff = None if r.on_chain is None else int(r.on_chain - r.expected)

        def units(raw: Decimal | int | None, decimals: int | None = r.decimals) -> Decimal | None:
            return None if raw is None or decimals is None else token_amount(int(raw), decimals)

        out.append(
            ReconciliationLine(
                r.chain.name, r.token, r.symbol or r.token[:10], r.block, units(r.expected), units(r.on_chain),
                units(raw_diff), raw_diff, r.ok,
            )
        )  # fmt: skip
    out.sort(key=lambda line: (line.ok, line.chain, line.symbol))
    return out


@dataclass(frozen=True)
class Coverage:
    chain: Chain
    explorer_key: bool
    notes: tuple[str, ...]


def wallet_coverage(*, wallet: Wallet, chains: list[Chain]) -> list[Coverage]:
    """What a sync of this wallet reads and does not read, per chain (shown on the wallet page)."""
    out = []
    for chain in chains:
        notes = []
        has_key = bool(chain.explorer_api and chain_explorer_key(chain))
        if not has_key:
            notes.append(
                f"No block explorer key: {chain.native_symbol} transfers and gas fees are not read "
                "(token transfers, LP and v3 positions are)."
            )
        if not chain.uniswap_v2:
            notes.append("No Uniswap v2-style factory configured: v2 LP tokens show as plain tokens.")
        if not chain.uniswap_v3:
            notes.append("No Uniswap v3 position manager configured: v3 positions are not read.")
        notes.append("Other protocols' staking, lending and farms show as token transfers only.")
        out.append(Coverage(chain, has_key, tuple(notes)))
    return out


@dataclass(frozen=True)
class PositionLine:
    synced: SyncedPosition
    symbol0: str
    symbol1: str
    fees0: Decimal | None  # in token units; None: decimals unknown (the raw amount is on ``synced``)
    fees1: Decimal | None
    uncollected0: Decimal | None
    uncollected1: Decimal | None


def wallet_positions(*, wallet: Wallet) -> list[PositionLine]:
    """The positions the wallet holds, fees in token units where the token's decimals are known."""

    def units(raw: Decimal | None, decimals: int | None) -> Decimal | None:
        return None if raw is None or decimals is None else token_amount(int(raw), decimals)

    rows = SyncedPosition.objects.filter(wallet=wallet).select_related("position", "chain").order_by("position_id")
    return [
        PositionLine(
            s, s.symbol0 or s.token0[:10], s.symbol1 or s.token1[:10],
            units(s.fees_collected0, s.decimals0), units(s.fees_collected1, s.decimals1),
            units(s.uncollected0, s.decimals0), units(s.uncollected1, s.decimals1),
        )
        for s in rows
    ]  # fmt: skip


def wallet_hidden_count(*, wallet: Wallet) -> int:
    """How many of the records this wallet's syncs wrote the user has hidden (one query)."""
    synced = ChainEvent.objects.filter(wallet=wallet, transaction__isnull=False).values("transaction_id")
    return Transaction.objects.filter(pk__in=synced, hidden=True).count()
