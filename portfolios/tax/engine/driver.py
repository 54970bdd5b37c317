"""The driver: ``compute`` runs a ledger through the chosen method.

FIFO, LIFO, HIFO and average cost stream the transactions through a lot store
(``stores``) as they are normalised; UK share pooling (``uk``) plans its
matches over the whole ledger first.  Both share the normalisation and the
year totals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, FloatOperation, localcontext
from operator import attrgetter

from .normalize import (
    Acquire,
    Check,
    Dispose,
    FiatIncome,
    MoveIn,
    MoveOut,
    Normalizer,
    UnallocatedFee,
    income_event,
)
from .quantities import PRECISION, ZERO, qadd, qsub, rescale
from .stores import STORES, OpenLot, Piece
from .totals import YearEnds, build_report
from .types import (
    GIVEN,
    RECEIVED,
    VARIOUS,
    Disposal,
    Gift,
    IncomeEvent,
    InsufficientHoldings,
    MissingBasis,
    TaxReport,
    TaxSettings,
    TxIn,
)
from .uk import run_uk
from .wallets import WalletLots
from .years import Clock, normalize_tax_year

_occurred_at = attrgetter("occurred_at")


def _sorted(transactions: Iterable[TxIn]) -> list[TxIn]:
    txs = list(transactions)
    for tx in txs:
        if not isinstance(tx, TxIn):
            raise TypeError(f"expected TxIn, got {type(tx).__name__}")
    txs.sort(key=_occurred_at)
    return txs


def compute(
    transactions: Iterable[TxIn],
    settings: TaxSettings | None = None,
    tax_year: str | int | None = None,
) -> TaxReport:
    """Run the whole ledger and report.

    With ``tax_year`` only that year's disposals, income and totals are built
    (the history before it is still processed - it decides the lots - and
    processing stops at the end of the year; UK matching looks 30 days past
    it).  Without it every year is reported.
    """
    settings = settings or TaxSettings()
    wanted = normalize_tax_year(tax_year, settings.jurisdiction) if tax_year is not None else None
    txs = _sorted(transactions)
    with localcontext() as ctx:
        ctx.prec = PRECISION
        ctx.rounding = ROUND_HALF_EVEN
        ctx.traps[FloatOperation] = True
        if settings.method == "uk":
            return run_uk(txs, settings, wanted)
        return run_lots(txs, settings, wanted)


@dataclass(slots=True)
class _Carried:
    """Cost basis on its way through a non-taxable move, between its MoveOut and MoveIn ops."""

    pieces: list[Piece]
    quantity: Decimal  # taken out, exactly
    cost: Decimal  # the pieces' total cost
    used: Decimal  # the part already handed to earlier MoveIn ops


def run_lots(txs: list[TxIn], settings: TaxSettings, wanted: str | None) -> TaxReport:
    """FIFO, LIFO, HIFO or average cost over ``txs`` (sorted), optionally one tax year."""
    method = settings.method
    cut_over = settings.lots_per_wallet_from
    wallets = WalletLots(STORES[method], cut_over) if cut_over is not None else None
    store = wallets if wallets is not None else STORES[method]()
    normalizer = Normalizer(settings)
    clock = Clock(settings.timezone, settings.jurisdiction)
    with_term = settings.jurisdiction != "uk"
    average = method == "average"
    rule = method
    disposals: list[Disposal] = []
    income: list[IncomeEvent] = []
    gifts: list[Gift] = []
    unallocated: dict[str, Decimal] = defaultdict(lambda: ZERO)
    years = YearEnds(wanted, lambda: tuple(store.snapshot()))
    current_year: str | None = None
    held = store.held
    take = store.take
    add = store.add
    local = clock.local
    ops_of = normalizer.ops
    lenient = settings.missing_basis == "zero"
    missing: list[MissingBasis] = []
    last_day: date | None = None
    year = ""
    long_after = date.min  # the anniversary of ``day``: lots acquired that day are long term after it

    for tx in txs:
        moment = tx.occurred_at
        day = local(moment)
        if day != last_day:  # a ledger has many transactions a day
            last_day = day
            year = clock.year(day)
            long_after = clock.anniversary(day)
        if year != current_year:
            if not years.enter(year):
                break
            current_year = year
        record = wanted is None or year == wanted
        ref = tx.ref
        carry: dict[int, _Carried] = {}
        if wallets is not None:
            wallets.begin(tx, day)
        ops = ops_of(tx)
        for op in ops:
            if type(op) is Dispose:
                asset = op.asset
                qty = op.quantity
                available = held.get(asset, ZERO)
                if qty <= available:
                    pieces = take(asset, qty)
                elif lenient:
                    pieces = _take_short(take, missing, asset, qty, available, moment, day, ref, year, "")
                else:
                    raise InsufficientHoldings(ref, asset, qty, available)
                gift = op.gift
                if gift is not None:  # the lots leave with the gift, their cost listed with it
                    if record:
                        basis = sum((piece.cost for piece in pieces), ZERO)
                        gifts.append(
                            Gift(
                                GIVEN,
                                gift.category,
                                asset,
                                qty,
                                basis,
                                gift.market_value,
                                ref,
                                moment,
                                year,
                                gift.counted,
                            )
                        )
                    if not gift.counted:
                        continue
                if not record:
                    continue
                if average:
                    _record_average(disposals, pieces, op, day, moment, ref, year, with_term)
                    continue
                proceeds = op.proceeds
                fee = op.fee
                last = len(pieces) - 1
                used_p = used_f = ZERO
                for i, piece in enumerate(pieces):
                    pq = piece.quantity
                    if not last:  # one lot: no split
                        p = proceeds
                        f = fee
                    elif i == last:
                        p = proceeds - used_p
                        f = fee - used_f
                    else:
                        p = proceeds * pq / qty
                        f = fee * pq / qty if fee else ZERO
                        used_p += p
                        used_f += f
                    cost = piece.cost
                    disposals.append(
                        Disposal(
                            asset=asset,
                            quantity=pq,
                            acquired=piece.acquired,
                            disposed=day,
                            proceeds=p,
                            cost_basis=cost,
                            gain=p - cost,
                            term=("long" if day > piece.long_after else "short") if with_term else None,
                            tx_ref=ref,
                            tax_year=year,
                            rule=rule,
                            fee=f,
                            acquired_at=piece.acquired_at,
                            disposed_at=moment,
                        )
                    )
            elif type(op) is Acquire:
                add(op.asset, op.quantity, op.cost, moment, day, long_after, ref)
                if op.income_type is not None and record:
                    income.append(income_event(op, tx, day, year))
                elif op.gift is not None and record:
                    gifts.append(
                        Gift(RECEIVED, op.gift, op.asset, op.quantity, op.cost, op.fair_market_value, ref, moment, year)
                    )
            elif type(op) is MoveOut:
                asset = op.asset
                qty = op.quantity
                available = held.get(asset, ZERO)
                if qty <= available:
                    pieces = take(asset, qty)
                elif lenient:
                    detail = f"moving it into {tx.kind}"
                    pieces = _take_short(take, missing, asset, qty, available, moment, day, ref, year, detail)
                else:
                    raise InsufficientHoldings(ref, asset, qty, available, f"moving it into {tx.kind}")
                cost = sum((piece.cost for piece in pieces), ZERO)
                moved = carry.get(op.slot)
                if moved is None:
                    carry[op.slot] = _Carried(pieces, qty, cost, ZERO)
                else:  # several assets into one position
                    moved.pieces = moved.pieces + pieces
                    moved.quantity = qadd(moved.quantity, qty)
                    moved.cost += cost
            elif type(op) is MoveIn:
                moved = carry[op.slot]
                if op.preserve:
                    _redenominate(add, op.asset, moved.pieces, moved.quantity, op.quantity, op.fee_add)
                else:
                    part = moved.cost - moved.used if op.last else moved.cost * op.share
                    moved.used += part
                    add(op.asset, op.quantity, part + op.fee_add, moment, day, long_after, ref)
            elif type(op) is Check:
                available = held.get(op.asset, ZERO)
                if op.quantity > available and not lenient:  # lenient: the later disposal is listed
                    raise InsufficientHoldings(ref, op.asset, op.quantity, available, "transfer_out")
            elif type(op) is FiatIncome:
                if record:
                    income.append(income_event(op, tx, day, year))
            elif type(op) is UnallocatedFee:
                unallocated[year] += op.amount
        if wallets is not None:
            wallets.finish(tx, ops)
    years.finish()
    return build_report(
        settings, disposals, income, unallocated, years, normalizer.in_transit, normalizer.warnings, missing, gifts
    )


def _take_short(
    take: Callable[[str, Decimal], list[Piece]],
    missing: list[MissingBasis],
    asset: str,
    qty: Decimal,
    available: Decimal,
    moment: datetime,
    day: date,
    ref: str,
    year: str,
    detail: str,
) -> list[Piece]:
    """``missing_basis="zero"``: everything held, plus a zero-cost piece for the
    uncovered rest, acquired on the disposal day (short term); the case is
    recorded in ``missing``."""
    pieces = take(asset, available) if available else []
    uncovered = qsub(qty, available)
    pieces.append(OpenLot(uncovered, ZERO, moment, day, day, ref))
    missing.append(MissingBasis(ref, asset, uncovered, available, moment, year, detail))
    return pieces


def _redenominate(
    add: Callable[[str, Decimal, Decimal, datetime, date, date, str], None],
    asset: str,
    pieces: list[Piece],
    out_qty: Decimal,
    qty: Decimal,
    fee_add: Decimal,
) -> None:
    """Non-taxable move of one asset into another: the ``pieces`` taken out
    (``out_qty`` in all) become lots of ``qty`` of ``asset``, each keeping its
    cost and dates, the new quantities summing exactly to ``qty`` (see
    :func:`rescale`); ``fee_add`` is shared pro rata, the last piece taking the
    remainder.  A piece whose share rounds to nothing (below 1e-24) hands its
    cost on to the next piece, so no cost is lost either."""
    if qty == out_qty:
        quantities = [piece.quantity for piece in pieces]  # same quantity: the lots move unchanged
    else:
        quantities = rescale([piece.quantity for piece in pieces], out_qty, qty)
    last = len(pieces) - 1
    used_f = ZERO
    carried = ZERO
    for i, piece in enumerate(pieces):
        cost = piece.cost
        if fee_add:
            if i == last:
                cost += fee_add - used_f
            else:
                nf = fee_add * piece.quantity / out_qty
                used_f += nf
                cost += nf
        if carried:
            cost += carried
            carried = ZERO
        nq = quantities[i]
        if nq:
            add(asset, nq, cost, piece.acquired_at, piece.acquired, piece.long_after, piece.ref)
        else:
            carried = cost
    # the last piece is never empty (rescale rounds earlier shares down), so nothing is left in ``carried``


def _record_average(
    disposals: list[Disposal],
    pieces: list[Piece],
    op: Dispose,
    day: date,
    moment: datetime,
    ref: str,
    year: str,
    with_term: bool,
) -> None:
    """Average cost: at most one record per holding-period term, acquired 'various'."""
    quantities: dict[str | None, Decimal] = {}  # by term (insertion order: the pieces' order)
    costs: dict[str | None, Decimal] = {}
    for piece in pieces:
        term = ("long" if day > piece.long_after else "short") if with_term else None
        if term in quantities:
            quantities[term] = qadd(quantities[term], piece.quantity)
            costs[term] += piece.cost
        else:
            quantities[term] = piece.quantity
            costs[term] = piece.cost
    qty = op.quantity
    proceeds = op.proceeds
    fee = op.fee
    last = len(quantities) - 1
    used_p = used_f = ZERO
    for i, (term, pq) in enumerate(quantities.items()):
        cost = costs[term]
        if i == last:
            p = proceeds - used_p
            f = fee - used_f
        else:
            p = proceeds * pq / qty
            f = fee * pq / qty
            used_p += p
            used_f += f
        disposals.append(
            Disposal(
                asset=op.asset,
                quantity=pq,
                acquired=VARIOUS,
                disposed=day,
                proceeds=p,
                cost_basis=cost,
                gain=p - cost,
                term=term,
                tx_ref=ref,
                tax_year=year,
                rule="average",
                fee=f,
                acquired_at=None,
                disposed_at=moment,
            )
        )
