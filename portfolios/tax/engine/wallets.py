"""Lots tracked per wallet from a cut-over date (``TaxSettings.lots_per_wallet_from``).

US rules from 1 January 2025 (Treas. Reg. 1.1012-1(j), Rev. Proc. 2024-28): the
basis of a digital asset is identified wallet by wallet, not across all of a
user's wallets. Before the cut-over nothing changes (one set of lots per asset,
the "universal" pool); from the first transaction on or after the cut-over date:

* **allocation**: the universal lots are handed to the wallets holding the asset
  at that moment, wallet by wallet in address order, each taking its holding
  (the net of its own transactions' legs) in the method's order (FIFO: oldest
  first, ...). What no wallet accounts for (transactions recorded without a
  wallet) stays in the universal pool, which transactions without a wallet
  keep using;
* a transaction with ``TxIn.wallet`` disposes of, and acquires into, that
  wallet's lots only (disposing of more than the wallet holds is an
  :class:`InsufficientHoldings`, even if another wallet holds enough);
* a gift given (``TxIn.category``) takes its lots out of the giving wallet for good,
  and a gift received is an acquisition into the receiving wallet;
* a ``transfer_out`` from a wallet takes its lots out (dates and costs kept) and
  the matching ``transfer_in`` puts them into the receiving wallet: a move
  between one's own wallets is not a disposal, and the basis moves with the
  coins. Quantities the normaliser matched with no lots in transit (sent before
  the cut-over) come from the universal pool.

A pure module (stdlib and the engine only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal

from .normalize import Acquire, Op
from .quantities import ZERO, qadd, qsub
from .stores import FifoStore, LotStore, Piece
from .types import Lot, TxIn

Scope = str | None  # a wallet, or None: the universal pool


class _Held:
    """``held`` as the driver reads it: the current scope's holdings."""

    __slots__ = ("_lots",)

    def __init__(self, lots: WalletLots):
        self._lots = lots

    def get(self, asset: str, default: Decimal = ZERO) -> Decimal:
        return self._lots.store(self._lots.scope).held.get(asset, default)


class WalletLots:
    """A lot store per wallet behind the one-store interface the driver uses."""

    def __init__(self, make_store: Callable[[], LotStore], cutover: date):
        self.make_store, self.cutover = make_store, cutover
        self.stores: dict[Scope, LotStore] = {None: make_store()}
        self.transit = FifoStore()  # lots sent by one wallet, not yet received by another
        self.scope: Scope = None
        self.active = False
        self.before: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)  # (asset, wallet) -> net, pre cut-over
        self.held = _Held(self)

    def store(self, scope: Scope) -> LotStore:
        if scope not in self.stores:
            self.stores[scope] = self.make_store()
        return self.stores[scope]

    # ---- the LotStore interface, in the current scope -------------------------------

    def add(
        self, asset: str, qty: Decimal, cost: Decimal, acquired_at: datetime, acquired: date, long_after: date, ref: str
    ) -> None:
        self.store(self.scope).add(asset, qty, cost, acquired_at, acquired, long_after, ref)

    def take(self, asset: str, qty: Decimal) -> list[Piece]:
        return self.store(self.scope).take(asset, qty)

    def snapshot(self) -> list[Lot]:
        lots = [lot for store in self.stores.values() for lot in store.snapshot()] + self.transit.snapshot()
        return sorted(lots, key=lambda lot: lot.asset)

    # ---- driver hooks ---------------------------------------------------------------------

    def begin(self, tx: TxIn, day: date) -> None:
        """Before ``tx``'s ops: allocate at the cut-over, pick the scope."""
        if not self.active and day >= self.cutover:
            self._allocate()
            self.active = True
        if self.active:
            self.scope = tx.wallet
            return
        self.scope = None
        if tx.wallet is not None:
            for leg in tx.legs:
                key = (leg.asset, tx.wallet)
                self.before[key] = qadd(self.before[key], leg.quantity)

    def finish(self, tx: TxIn, ops: Sequence[Op]) -> None:
        """After ``tx``'s ops: move the lots of a transfer between wallets."""
        wallet = tx.wallet
        if not self.active or wallet is None or tx.category:  # a gift is no move between own wallets
            return
        if tx.kind == "transfer_out":
            own = self.store(wallet)
            for leg in tx.legs:
                if leg.is_fee or leg.quantity >= 0:
                    continue
                qty = min(leg.quantity.copy_negate(), own.held.get(leg.asset, ZERO))
                if qty > 0:
                    _put(self.transit, leg.asset, own.take(leg.asset, qty))
        elif tx.kind == "transfer_in":
            acquired: dict[str, Decimal] = defaultdict(lambda: ZERO)
            for op in ops:
                if type(op) is Acquire:
                    acquired[op.asset] = qadd(acquired[op.asset], op.quantity)
            target = self.store(wallet)
            for leg in tx.legs:
                if leg.is_fee or leg.quantity <= 0:
                    continue
                matched = qsub(leg.quantity, acquired.get(leg.asset, ZERO))
                for source in (self.transit, self.stores[None]):
                    if matched <= 0:
                        break
                    qty = min(matched, source.held.get(leg.asset, ZERO))
                    if qty > 0:
                        _put(target, leg.asset, source.take(leg.asset, qty))
                        matched = qsub(matched, qty)

    def _allocate(self) -> None:
        universal = self.stores[None]
        for (asset, wallet), qty in sorted(self.before.items(), key=lambda item: (item[0][0], item[0][1])):
            qty = min(qty, universal.held.get(asset, ZERO))
            if qty > 0:
                _put(self.store(wallet), asset, universal.take(asset, qty))


def _put(store: LotStore, asset: str, pieces: list[Piece]) -> None:
    for piece in pieces:
        store.add(asset, piece.quantity, piece.cost, piece.acquired_at, piece.acquired, piece.long_after, piece.ref)
