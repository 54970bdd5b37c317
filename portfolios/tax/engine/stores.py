"""Lot stores: which lots a disposal consumes, per method.

``FifoStore`` (deques), ``LifoStore`` (stacks), ``HifoStore`` (heaps by unit
cost, ties to the earliest acquired) and ``AverageStore`` (one cost pool per
asset, with acquisition-date layers in a heap only to split holding periods
first-in-first-out): O(log n) per lot touched.  UK pooling has no lots; it is
in ``uk``.

Every quantity operation goes through ``qadd`` / ``qsub`` (exact), so for each
asset ``held`` is exactly the sum of the lots (layers) in the store: the
``qty > held`` check made before every ``take`` is the whole solvency test,
and a ``take`` of up to ``held`` always finds enough lots.
"""

from __future__ import annotations

import heapq
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from .quantities import ZERO, plain, qadd, qsub
from .types import VARIOUS, Lot


@dataclass(slots=True)
class OpenLot:
    """A lot in a store, or the piece of one that a ``take`` removed (a whole
    lot leaves the store as its own piece).  Mutable: taking part of a lot
    shrinks it in place.  Not frozen and built positionally: this is the
    engine's hottest allocation."""

    quantity: Decimal
    cost: Decimal
    acquired_at: datetime
    acquired: date  # local acquisition date
    long_after: date  # the anniversary: a disposal strictly after it is long term
    ref: str  # the acquiring transaction ("" in an average-cost pool)


#: What a ``take`` returns: lots or parts of lots, quantities summing exactly to what was taken.
Piece = OpenLot


class LotsOutOfStep(RuntimeError):
    """An internal invariant broke: a store's lots add up to less than its
    ``held`` total.  Never expected (quantities are exact); raised instead of a
    bare ``IndexError`` so that a bug cannot pass for an oversell or crash
    somewhere obscure."""

    def __init__(self, asset: str, missing: Decimal):
        super().__init__(f"tax engine bug: the {asset} lots ran out {plain(missing)} {asset} short of the held total")


class LotStore:
    """The interface the driver uses: ``held``, ``add``, ``take``, ``snapshot``."""

    def __init__(self) -> None:
        self.held: dict[str, Decimal] = {}

    def add(
        self, asset: str, qty: Decimal, cost: Decimal, acquired_at: datetime, acquired: date, long_after: date, ref: str
    ) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def take(self, asset: str, qty: Decimal) -> list[Piece]:  # pragma: no cover - interface
        """Remove ``qty`` (the caller checked ``qty <= held``); the pieces'
        quantities add up exactly to ``qty``."""
        raise NotImplementedError

    def snapshot(self) -> list[Lot]:  # pragma: no cover - interface
        raise NotImplementedError


def _release(held: dict[str, Decimal], asset: str, qty: Decimal) -> None:
    left = qsub(held[asset], qty)
    if left:
        held[asset] = left
    else:
        del held[asset]


def _split(lot: OpenLot, qty: Decimal) -> Piece:
    """Take ``qty`` (less than the lot holds) out of ``lot``: the lot shrinks, its
    cost shared pro rata; the piece taken keeps the lot's dates and ref."""
    lot_qty = lot.quantity
    cost = lot.cost * qty / lot_qty
    lot.quantity = qsub(lot_qty, qty)
    lot.cost -= cost
    return OpenLot(qty, cost, lot.acquired_at, lot.acquired, lot.long_after, lot.ref)


def _take_in_order(
    lots: deque[OpenLot], held: dict[str, Decimal], asset: str, qty: Decimal, newest_first: bool
) -> list[Piece]:
    """Consume lots from the front (FIFO) or the back (LIFO); the last one touched may be split."""
    pieces: list[Piece] = []
    remaining = qty
    drop = lots.pop if newest_first else lots.popleft
    end = -1 if newest_first else 0
    try:
        while remaining:
            lot = lots[end]
            lot_qty = lot.quantity
            if lot_qty <= remaining:
                drop()
                pieces.append(lot)
                remaining = qsub(remaining, lot_qty)
            else:
                pieces.append(_split(lot, remaining))
                break
    except IndexError:
        raise LotsOutOfStep(asset, remaining) from None
    _release(held, asset, qty)
    return pieces


def _closed(lot: OpenLot, asset: str) -> Lot:
    return Lot(
        asset=asset,
        quantity=lot.quantity,
        cost_basis=lot.cost,
        acquired=lot.acquired,
        acquired_at=lot.acquired_at,
        tx_ref=lot.ref,
    )


class FifoStore(LotStore):
    def __init__(self) -> None:
        super().__init__()
        self.lots: dict[str, deque[OpenLot]] = defaultdict(deque)

    def add(
        self, asset: str, qty: Decimal, cost: Decimal, acquired_at: datetime, acquired: date, long_after: date, ref: str
    ) -> None:
        self.lots[asset].append(OpenLot(qty, cost, acquired_at, acquired, long_after, ref))
        self.held[asset] = qadd(self.held.get(asset, ZERO), qty)

    def take(self, asset: str, qty: Decimal) -> list[Piece]:
        return _take_in_order(self.lots[asset], self.held, asset, qty, False)

    def snapshot(self) -> list[Lot]:
        return [_closed(lot, asset) for asset in sorted(self.lots) for lot in self.lots[asset]]


class LifoStore(FifoStore):
    def take(self, asset: str, qty: Decimal) -> list[Piece]:
        return _take_in_order(self.lots[asset], self.held, asset, qty, True)


class HifoStore(LotStore):
    """Highest unit cost first; ties go to the earliest acquired lot."""

    def __init__(self) -> None:
        super().__init__()
        self.heaps: dict[str, list[tuple[Decimal, int, OpenLot]]] = defaultdict(list)
        self.seq = 0

    def add(
        self, asset: str, qty: Decimal, cost: Decimal, acquired_at: datetime, acquired: date, long_after: date, ref: str
    ) -> None:
        self.seq += 1
        lot = OpenLot(qty, cost, acquired_at, acquired, long_after, ref)
        heapq.heappush(self.heaps[asset], (-(cost / qty), self.seq, lot))
        self.held[asset] = qadd(self.held.get(asset, ZERO), qty)

    def take(self, asset: str, qty: Decimal) -> list[Piece]:
        heap = self.heaps[asset]
        pieces: list[Piece] = []
        remaining = qty
        try:
            while remaining:
                _, _, lot = heap[0]  # the dearest per unit (ties: the earliest)
                lot_qty = lot.quantity
                if lot_qty <= remaining:
                    heapq.heappop(heap)
                    pieces.append(lot)
                    remaining = qsub(remaining, lot_qty)
                else:
                    pieces.append(_split(lot, remaining))  # its unit cost, so its place in the heap, is unchanged
                    break
        except IndexError:
            raise LotsOutOfStep(asset, remaining) from None
        _release(self.held, asset, qty)
        return pieces

    def snapshot(self) -> list[Lot]:
        out = []
        for asset in sorted(self.heaps):
            for _, _, lot in sorted(self.heaps[asset], key=lambda entry: entry[1]):  # in acquisition order
                out.append(_closed(lot, asset))
        return out


class AverageStore(LotStore):
    """One pooled cost per asset.  Acquisition-date layers are kept in a heap
    (earliest first) only to split holding periods first-in-first-out.  A
    layer is an OpenLot whose cost stays zero (the cost is pooled) until a
    ``take`` consumes it whole and prices it as a piece."""

    def __init__(self) -> None:
        super().__init__()
        self.cost: dict[str, Decimal] = {}
        self.layers: dict[str, list[tuple[datetime, int, OpenLot]]] = defaultdict(list)
        self.seq = 0

    def add(
        self, asset: str, qty: Decimal, cost: Decimal, acquired_at: datetime, acquired: date, long_after: date, ref: str
    ) -> None:
        self.seq += 1
        layer = OpenLot(qty, ZERO, acquired_at, acquired, long_after, "")
        heapq.heappush(self.layers[asset], (acquired_at, self.seq, layer))
        self.held[asset] = qadd(self.held.get(asset, ZERO), qty)
        self.cost[asset] = self.cost.get(asset, ZERO) + cost

    def take(self, asset: str, qty: Decimal) -> list[Piece]:
        held = self.held[asset]
        pool_cost = self.cost[asset]
        total_cost = pool_cost if qty == held else pool_cost * qty / held
        self.cost[asset] = pool_cost - total_cost
        heap = self.layers[asset]
        pieces: list[Piece] = []
        remaining = qty
        used = ZERO
        try:
            while remaining:
                _, _, layer = heap[0]
                layer_qty = layer.quantity
                take = layer_qty if layer_qty <= remaining else remaining
                remaining = qsub(remaining, take)
                cost = total_cost - used if not remaining else total_cost * take / qty
                used += cost
                if take == layer_qty:  # the whole layer leaves: it is the piece
                    heapq.heappop(heap)
                    layer.cost = cost
                    pieces.append(layer)
                else:
                    layer.quantity = qsub(layer_qty, take)
                    pieces.append(OpenLot(take, cost, layer.acquired_at, layer.acquired, layer.long_after, ""))
        except IndexError:
            raise LotsOutOfStep(asset, remaining) from None
        _release(self.held, asset, qty)
        return pieces

    def snapshot(self) -> list[Lot]:
        return [
            Lot(asset=asset, quantity=self.held[asset], cost_basis=self.cost[asset], acquired=VARIOUS)
            for asset in sorted(self.held)
        ]


STORES: dict[str, type[LotStore]] = {"fifo": FifoStore, "lifo": LifoStore, "hifo": HifoStore, "average": AverageStore}
