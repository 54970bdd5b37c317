"""UK share matching for cryptoassets (HMRC CRYPTO22200 ff., TCGA 1992 s104-106A).

Every disposal of a token is identified, in this order, with:

1. **same day** - acquisitions of that token on the same day (all of a day's
   acquisitions count as one acquisition at their average cost, and all of a
   day's disposals as one disposal);
2. **30 days** ("bed and breakfast") - acquisitions in the 30 days *after*
   the disposal, earliest first; where several disposals compete, the earlier
   disposal is matched first;
3. **Section 104 pool** - everything else, at the pool's average cost; an
   acquisition that is not matched by 1. or 2. joins the pool.

Days are local dates in ``TaxSettings.timezone`` (normally Europe/London).

How it is computed
------------------
Matching depends only on *quantities* and dates, so all transactions are first
normalised (see ``engine.Normalizer``) and a plan is made per token: the
same-day quantity of each day, which later days each disposal's 30-day part
comes from, and what part of each day's acquisitions enters the pool.  Costs
of matchable acquisitions are market values known from the data itself, so a
second, chronological pass can price every disposal when it happens: the pool
part of a day's disposal is taken from the pool as it stands at that moment
(a pool's average cost only changes when something is added, so this is the
statutory answer).  Everything is linear in the number of transactions apart
from sorting days.  Quantities (day totals, the matching plan, pools and
holdings) are added and subtracted exactly (``engine.qadd``/``qsub``), so a
pool and the holdings never drift apart by a rounding residue.

One disposal record is produced per (token, day, rule, matched acquisition
day), like HMRC's worked computations; its ``tx_ref`` lists the day's
disposal refs.  ``term`` is ``None``: the UK has no short/long split.

Remaining lots at a year end are the Section 104 pools ("various").  When a
disposal late in the year is identified with a repurchase after the year end
(30-day rule), the pool at the year end still contains the tokens that
disposal is treated as not having taken - HMRC's own statutory view - so it
can exceed what was physically held until the repurchase settles it.

Non-taxable LP/staking moves (``lp_treatment="nontaxable"``) are not
disposals: they take cost out of the pool at average cost and put it into the
receiving token's pool; they are not matched by the same-day or 30-day rules.
If such a move needs tokens that, at that moment, are reserved for a same-day
match with a later disposal that day, the pool is short and
``InsufficientHoldings`` explains it (a rare intraday ordering we do not
resolve).
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import date, timedelta

from .engine import (
    OP_ACQUIRE,
    OP_CHECK,
    OP_DISPOSE,
    OP_FIAT_INCOME,
    OP_MOVE_IN,
    OP_MOVE_OUT,
    OP_UNALLOCATED_FEE,
    VARIOUS,
    ZERO,
    Disposal,
    IncomeEvent,
    InsufficientHoldings,
    Lot,
    Normalizer,
    TaxReport,
    TaxSettings,
    TxIn,
    _Clock,
    build_report,
    qadd,
    qsub,
)
from .years import tax_year_bounds

SAME_DAY = "same-day"
BED_AND_BREAKFAST = "bed-and-breakfast"
SECTION_104 = "section-104"
WINDOW_DAYS = 30


def _plan(acquired: dict, disposed: dict):
    """Quantity-only matching.  Returns (same_day, thirty_day, into_pool)."""
    days_by_asset: dict[str, set[date]] = defaultdict(set)
    for asset, day in acquired:
        days_by_asset[asset].add(day)
    for asset, day in disposed:
        days_by_asset[asset].add(day)
    same_day: dict[tuple[str, date], object] = {}
    thirty_day: dict[tuple[str, date], list] = defaultdict(list)
    into_pool: dict[tuple[str, date], object] = {}
    window = timedelta(days=WINDOW_DAYS)
    for asset, days in days_by_asset.items():
        pending: deque = deque()  # [disposal day, quantity still unmatched]
        for day in sorted(days):
            key = (asset, day)
            a = acquired.get(key)
            d = disposed.get(key)
            a_qty = a[0] if a else ZERO
            d_qty = d[0] if d else ZERO
            matched = a_qty if a_qty <= d_qty else d_qty
            if matched:
                same_day[key] = matched
            a_left = qsub(a_qty, matched)
            d_left = qsub(d_qty, matched)
            if a_left:
                earliest = day - window
                while pending and pending[0][0] < earliest:
                    pending.popleft()
                for item in pending:
                    if not a_left:
                        break
                    take = a_left if a_left <= item[1] else item[1]
                    thirty_day[(asset, item[0])].append((day, take))
                    item[1] = qsub(item[1], take)
                    a_left = qsub(a_left, take)
                while pending and not pending[0][1]:
                    pending.popleft()
            if a_qty:
                into_pool[key] = a_left
            if d_left:
                pending.append([day, d_left])
    return same_day, thirty_day, into_pool


def run_uk(txs: list[TxIn], settings: TaxSettings, wanted: str | None) -> TaxReport:
    normalizer = Normalizer(settings)
    clock = _Clock(settings)
    horizon: date | None = None
    if wanted is not None:
        horizon = tax_year_bounds(wanted, settings.jurisdiction)[1] + timedelta(days=WINDOW_DAYS)

    # pass 1: normalise and aggregate per (asset, local day)
    entries = []
    acquired: dict[tuple[str, date], list] = {}  # -> [qty, cost]
    disposed: dict[tuple[str, date], list] = {}  # -> [qty, proceeds, fee, refs, last moment]
    for tx in txs:
        day = clock.local(tx.occurred_at)
        if horizon is not None and day > horizon:
            break
        ops = normalizer.ops(tx)
        entries.append((tx, day, clock.year(day), ops))
        for op in ops:
            code = op[0]
            if code == OP_ACQUIRE:
                item = acquired.get((op[1], day))
                if item is None:
                    acquired[(op[1], day)] = [op[2], op[3]]
                else:
                    item[0] = qadd(item[0], op[2])
                    item[1] += op[3]
            elif code == OP_DISPOSE:
                item = disposed.get((op[1], day))
                if item is None:
                    disposed[(op[1], day)] = [op[2], op[3], op[4], [tx.ref], tx.occurred_at]
                else:
                    item[0] = qadd(item[0], op[2])
                    item[1] += op[3]
                    item[2] += op[4]
                    if item[3][-1] != tx.ref:
                        item[3].append(tx.ref)
                    item[4] = tx.occurred_at

    same_day, thirty_day, into_pool = _plan(acquired, disposed)

    # pass 2: chronological pricing
    pool_qty: dict[str, object] = {}
    pool_cost: dict[str, object] = {}
    holdings: dict[str, object] = {}
    pooled_days: set[tuple[str, date]] = set()
    settled_days: set[tuple[str, date]] = set()
    disposals: list[Disposal] = []
    income: list[IncomeEvent] = []
    unallocated: dict[str, object] = defaultdict(lambda: ZERO)
    lots_at_year_end: dict[str, tuple[Lot, ...]] = {}
    years_seen: list[str] = []
    current_year: str | None = None

    def snapshot() -> tuple[Lot, ...]:
        return tuple(
            Lot(asset, pool_qty[asset], pool_cost[asset], VARIOUS) for asset in sorted(pool_qty) if pool_qty[asset]
        )

    def pool_add(asset: str, qty, cost) -> None:
        pool_qty[asset] = qadd(pool_qty.get(asset, ZERO), qty)
        pool_cost[asset] = pool_cost.get(asset, ZERO) + cost

    def pool_take(asset: str, qty, ref: str, detail: str):
        available = pool_qty.get(asset, ZERO)
        if qty > available:
            raise InsufficientHoldings(ref, asset, qty, available, detail)
        total = pool_cost[asset]
        cost = total if qty == available else total * qty / available
        pool_qty[asset] = qsub(available, qty)
        pool_cost[asset] = total - cost
        return cost

    def check(asset: str, qty, ref: str, detail: str = "") -> None:
        available = holdings.get(asset, ZERO)
        if qty > available:
            raise InsufficientHoldings(ref, asset, qty, available, detail)

    def settle(asset: str, day: date, year: str, ref: str, record: bool) -> None:
        key = (asset, day)
        qty, proceeds, fee, refs, moment = disposed[key]
        parts = []  # (rule, qty, cost, acquired)
        matched = same_day.get(key)
        if matched:
            a_qty, a_cost = acquired[key]
            parts.append((SAME_DAY, matched, a_cost if matched == a_qty else a_cost * matched / a_qty, day))
        rest = qsub(qty, matched or ZERO)
        for acq_day, take in thirty_day.get(key, ()):
            a_qty, a_cost = acquired[(asset, acq_day)]
            parts.append((BED_AND_BREAKFAST, take, a_cost if take == a_qty else a_cost * take / a_qty, acq_day))
            rest = qsub(rest, take)
        if rest:
            cost = pool_take(
                asset,
                rest,
                ref,
                "the Section 104 pool is short at this moment: tokens bought earlier today are reserved "
                "for a same-day match with a later disposal",
            )
            parts.append((SECTION_104, rest, cost, VARIOUS))
        if not record:
            return
        joined = ",".join(refs)
        used_p = used_f = ZERO
        last = len(parts) - 1
        for i, (rule, part_qty, cost, acq) in enumerate(parts):
            if i == last:
                p = proceeds - used_p
                f = fee - used_f
            else:
                p = proceeds * part_qty / qty
                f = fee * part_qty / qty
                used_p += p
                used_f += f
            disposals.append(
                Disposal(asset, part_qty, acq, day, p, cost, p - cost, None, joined, year, rule, f, None, moment)
            )

    for tx, day, year, ops in entries:
        if year != current_year:
            if current_year is not None and (wanted is None or current_year == wanted):
                lots_at_year_end[current_year] = snapshot()
            if wanted is not None and year > wanted:
                current_year = None
                break
            current_year = year
            years_seen.append(year)
        record = wanted is None or year == wanted
        ref = tx.ref
        carry: dict[int, list] = {}
        for op in ops:
            code = op[0]
            if code == OP_DISPOSE:
                _, asset, qty, _, _ = op
                check(asset, qty, ref)
                holdings[asset] = qsub(holdings[asset], qty)
                if (asset, day) not in settled_days:
                    settled_days.add((asset, day))
                    settle(asset, day, year, ref, record)
            elif code == OP_ACQUIRE:
                _, asset, qty, _, income_type, fmv = op
                holdings[asset] = qadd(holdings.get(asset, ZERO), qty)
                key = (asset, day)
                if key not in pooled_days:
                    pooled_days.add(key)
                    entering = into_pool[key]
                    if entering:
                        a_qty, a_cost = acquired[key]
                        pool_add(asset, entering, a_cost if entering == a_qty else a_cost * entering / a_qty)
                if income_type is not None and record:
                    income.append(
                        IncomeEvent(income_type, asset, qty, fmv, ref, tx.occurred_at, day, year, tx.position)
                    )
            elif code == OP_MOVE_OUT:
                _, asset, qty, slot = op
                check(asset, qty, ref, f"moving it into {tx.kind}")
                holdings[asset] = qsub(holdings[asset], qty)
                cost = pool_take(
                    asset, qty, ref, "the Section 104 pool is short: tokens are reserved for a same-day match"
                )
                moved = carry.get(slot)
                if moved is None:
                    carry[slot] = [cost, ZERO]
                else:
                    moved[0] += cost
            elif code == OP_MOVE_IN:
                _, asset, qty, slot, share, fee_add, _, last = op
                moved = carry[slot]
                part = moved[0] - moved[1] if last else moved[0] * share
                moved[1] += part
                holdings[asset] = qadd(holdings.get(asset, ZERO), qty)
                pool_add(asset, qty, part + fee_add)
            elif code == OP_CHECK:
                check(op[1], op[2], ref, "transfer_out")
            elif code == OP_FIAT_INCOME:
                _, asset, qty, fmv, income_type = op
                if record:
                    income.append(
                        IncomeEvent(income_type, asset, qty, fmv, ref, tx.occurred_at, day, year, tx.position)
                    )
            elif code == OP_UNALLOCATED_FEE:
                unallocated[year] += op[1]
    if current_year is not None and (wanted is None or current_year == wanted):
        lots_at_year_end[current_year] = snapshot()
    if wanted is not None and wanted not in lots_at_year_end:
        lots_at_year_end[wanted] = snapshot()
    return build_report(settings, disposals, income, unallocated, lots_at_year_end, normalizer, wanted, years_seen)
