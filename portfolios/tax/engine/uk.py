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
normalised (see ``normalize.Normalizer``) and a plan is made per token: the
same-day quantity of each day, which later days each disposal's 30-day part
comes from, and what part of each day's acquisitions enters the pool.  Costs
of matchable acquisitions are market values known from the data itself, so a
second, chronological pass can price every disposal when it happens: the pool
part of a day's disposal is taken from the pool as it stands at that moment
(a pool's average cost only changes when something is added, so this is the
statutory answer).  Everything is linear in the number of transactions apart
from sorting days.  Quantities (day totals, the matching plan, pools and
holdings) are added and subtracted exactly (``quantities.qadd``/``qsub``), so a
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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from .normalize import (
    Acquire,
    Check,
    Dispose,
    FiatIncome,
    MoveIn,
    MoveOut,
    Normalizer,
    Op,
    UnallocatedFee,
    income_event,
)
from .quantities import ZERO, qadd, qsub
from .totals import YearEnds, build_report
from .types import (
    GIVEN,
    RECEIVED,
    VARIOUS,
    Disposal,
    Gift,
    IncomeEvent,
    InsufficientHoldings,
    Lot,
    MissingBasis,
    TaxReport,
    TaxSettings,
    TxIn,
)
from .years import Clock, tax_year_bounds

SAME_DAY = "same-day"
BED_AND_BREAKFAST = "bed-and-breakfast"
SECTION_104 = "section-104"
WINDOW_DAYS = 30

Key = tuple[str, date]  # (asset, local day)


@dataclass(slots=True)
class _DayAcquired:
    """All of a day's acquisitions of an asset: one acquisition at their total cost."""

    quantity: Decimal
    cost: Decimal


@dataclass(slots=True)
class _DayDisposed:
    """All of a day's disposals of an asset: one disposal (gifts included: they are matched
    by the same rules)."""

    quantity: Decimal
    proceeds: Decimal
    fee: Decimal
    refs: list[str]  # the disposing transactions, in order (not those of gifts that are no disposal)
    last_at: datetime  # the last of them
    gifts: list[tuple[Dispose, TxIn]] | None = None  # the day's gifts given
    uncounted: Decimal = ZERO  # the quantity of those that are no disposal (spouse: no gain, no loss)


@dataclass(slots=True)
class _Match:
    """Part of a disposal matched by the 30-day rule with a later day's acquisitions."""

    day: date  # the acquisition day
    quantity: Decimal


@dataclass(slots=True)
class _Waiting:
    """A disposal day's quantity not yet matched (it may be, by a purchase within 30 days)."""

    day: date
    quantity: Decimal


@dataclass(slots=True)
class _Part:
    """One disposal record to be: the quantity a rule matched and its cost."""

    rule: str
    quantity: Decimal
    cost: Decimal
    acquired: date | str  # the matched acquisition day, or "various" (the pool)


@dataclass(slots=True)
class _Moved:
    """Pool cost on its way through a non-taxable move (MoveOut to MoveIn)."""

    cost: Decimal
    used: Decimal


def _share(cost: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """The cost of ``part`` of ``whole`` (exactly ``cost`` when it is all of it)."""
    return cost if part == whole else cost * part / whole


def _plan(
    acquired: dict[Key, _DayAcquired], disposed: dict[Key, _DayDisposed]
) -> tuple[dict[Key, Decimal], dict[Key, list[_Match]], dict[Key, Decimal]]:
    """Quantity-only matching.  Returns (same_day, thirty_day, into_pool)."""
    days_by_asset: dict[str, set[date]] = defaultdict(set)
    for asset, day in acquired:
        days_by_asset[asset].add(day)
    for asset, day in disposed:
        days_by_asset[asset].add(day)
    same_day: dict[Key, Decimal] = {}
    thirty_day: dict[Key, list[_Match]] = defaultdict(list)
    into_pool: dict[Key, Decimal] = {}
    window = timedelta(days=WINDOW_DAYS)
    for asset, days in days_by_asset.items():
        pending: deque[_Waiting] = deque()
        for day in sorted(days):
            key = (asset, day)
            a = acquired.get(key)
            d = disposed.get(key)
            a_qty = a.quantity if a else ZERO
            d_qty = d.quantity if d else ZERO
            matched = a_qty if a_qty <= d_qty else d_qty
            if matched:
                same_day[key] = matched
            a_left = qsub(a_qty, matched)
            d_left = qsub(d_qty, matched)
            if a_left:
                earliest = day - window
                while pending and pending[0].day < earliest:
                    pending.popleft()
                for waiting in pending:
                    if not a_left:
                        break
                    take = a_left if a_left <= waiting.quantity else waiting.quantity
                    thirty_day[(asset, waiting.day)].append(_Match(day, take))
                    waiting.quantity = qsub(waiting.quantity, take)
                    a_left = qsub(a_left, take)
                while pending and not pending[0].quantity:
                    pending.popleft()
            if a_qty:
                into_pool[key] = a_left
            if d_left:
                pending.append(_Waiting(day, d_left))
    return same_day, thirty_day, into_pool


def run_uk(txs: list[TxIn], settings: TaxSettings, wanted: str | None) -> TaxReport:
    normalizer = Normalizer(settings)
    clock = Clock(settings.timezone, settings.jurisdiction)
    horizon: date | None = None
    if wanted is not None:
        horizon = tax_year_bounds(wanted, settings.jurisdiction)[1] + timedelta(days=WINDOW_DAYS)

    # pass 1: normalise and aggregate per (asset, local day).  What pass 2 needs
    # is kept in columns - the i-th transaction's day, tax year and the end of
    # its operations in ``all_ops`` - rather than a tuple and a list per
    # transaction: fewer objects for the garbage collector to walk, which on
    # a large ledger costs more than the matching itself.
    days: list[date] = []
    tax_years: list[str] = []
    all_ops: list[Op] = []
    ends: list[int] = []
    acquired: dict[Key, _DayAcquired] = {}
    disposed: dict[Key, _DayDisposed] = {}
    for tx in txs:
        day = clock.local(tx.occurred_at)
        if horizon is not None and day > horizon:
            break
        ops = normalizer.ops(tx)
        days.append(day)
        tax_years.append(clock.year(day))
        all_ops.extend(ops)
        ends.append(len(all_ops))
        for op in ops:
            if type(op) is Acquire:
                bought = acquired.get((op.asset, day))
                if bought is None:
                    acquired[(op.asset, day)] = _DayAcquired(op.quantity, op.cost)
                else:
                    bought.quantity = qadd(bought.quantity, op.quantity)
                    bought.cost += op.cost
            elif type(op) is Dispose:
                sold = disposed.get((op.asset, day))
                counted = op.gift is None or op.gift.counted
                if sold is None:
                    sold = disposed[(op.asset, day)] = _DayDisposed(
                        op.quantity, op.proceeds, op.fee, [tx.ref] if counted else [], tx.occurred_at
                    )
                else:
                    sold.quantity = qadd(sold.quantity, op.quantity)
                    sold.proceeds += op.proceeds
                    sold.fee += op.fee
                    if counted and (not sold.refs or sold.refs[-1] != tx.ref):
                        sold.refs.append(tx.ref)
                    sold.last_at = tx.occurred_at
                if op.gift is not None:
                    if sold.gifts is None:
                        sold.gifts = []
                    sold.gifts.append((op, tx))
                    if not counted:
                        sold.uncounted = qadd(sold.uncounted, op.quantity)

    same_day, thirty_day, into_pool = _plan(acquired, disposed)

    # pass 2: chronological pricing
    pool_qty: dict[str, Decimal] = {}
    pool_cost: dict[str, Decimal] = {}
    holdings: dict[str, Decimal] = {}
    pooled_days: set[Key] = set()
    settled_days: set[Key] = set()
    disposals: list[Disposal] = []
    income: list[IncomeEvent] = []
    gifts: list[Gift] = []
    unallocated: dict[str, Decimal] = defaultdict(lambda: ZERO)
    current_year: str | None = None

    def snapshot() -> tuple[Lot, ...]:
        return tuple(
            Lot(asset=asset, quantity=pool_qty[asset], cost_basis=pool_cost[asset], acquired=VARIOUS)
            for asset in sorted(pool_qty)
            if pool_qty[asset]
        )

    years = YearEnds(wanted, snapshot)

    def pool_add(asset: str, qty: Decimal, cost: Decimal) -> None:
        pool_qty[asset] = qadd(pool_qty.get(asset, ZERO), qty)
        pool_cost[asset] = pool_cost.get(asset, ZERO) + cost

    lenient = settings.missing_basis == "zero"
    missing: list[MissingBasis] = []
    missing_at: dict[tuple[str, str], int] = {}  # (ref, asset) -> index in ``missing``
    now: list[TxIn | None] = [None]  # the transaction being priced (for the missing-basis records)

    def short(asset: str, qty: Decimal, available: Decimal, ref: str, detail: str) -> None:
        """``missing_basis="zero"``: record the uncovered quantity (once per ref and asset: the
        holdings check and the pool may both find it short; the larger shortfall is kept)."""
        tx = now[0]
        assert tx is not None
        entry = MissingBasis(ref, asset, qsub(qty, available), available, tx.occurred_at,
                             clock.year(clock.local(tx.occurred_at)), detail)
        index = missing_at.get((ref, asset))
        if index is None:
            missing_at[(ref, asset)] = len(missing)
            missing.append(entry)
        elif entry.quantity > missing[index].quantity:
            missing[index] = entry

    def pool_take(asset: str, qty: Decimal, ref: str, detail: str) -> Decimal:
        available = pool_qty.get(asset, ZERO)
        if qty > available:
            if not lenient:
                raise InsufficientHoldings(ref, asset, qty, available, detail)
            short(asset, qty, available, ref, detail)
            pool_add(asset, qsub(qty, available), ZERO)  # the uncovered part costs nothing
            available = qty
        total = pool_cost[asset]
        cost = _share(total, qty, available)
        pool_qty[asset] = qsub(available, qty)
        pool_cost[asset] = total - cost
        return cost

    def check(asset: str, qty: Decimal, ref: str, detail: str = "") -> None:
        available = holdings.get(asset, ZERO)
        if qty > available:
            if not lenient:
                raise InsufficientHoldings(ref, asset, qty, available, detail)
            if detail != "transfer_out":  # not taxable: the later disposal is listed
                short(asset, qty, available, ref, detail)
                holdings[asset] = qty

    def settle(asset: str, day: date, year: str, ref: str, record: bool) -> None:
        key = (asset, day)
        sold = disposed[key]
        qty = sold.quantity
        parts: list[_Part] = []
        matched = same_day.get(key)
        if matched:
            bought = acquired[key]
            parts.append(_Part(SAME_DAY, matched, _share(bought.cost, matched, bought.quantity), day))
        rest = qsub(qty, matched or ZERO)
        for match in thirty_day.get(key, ()):
            bought = acquired[(asset, match.day)]
            cost = _share(bought.cost, match.quantity, bought.quantity)
            parts.append(_Part(BED_AND_BREAKFAST, match.quantity, cost, match.day))
            rest = qsub(rest, match.quantity)
        if rest:
            cost = pool_take(
                asset,
                rest,
                ref,
                "the Section 104 pool is short at this moment: tokens bought earlier today are reserved "
                "for a same-day match with a later disposal",
            )
            parts.append(_Part(SECTION_104, rest, cost, VARIOUS))
        if sold.gifts is not None:
            parts, qty = _gifts_given(parts, sold, asset, year, gifts if record else None)
        if not record or not parts:
            return
        joined = ",".join(sold.refs)
        proceeds = sold.proceeds
        fee = sold.fee
        used_p = used_f = ZERO
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if i == last:
                p = proceeds - used_p
                f = fee - used_f
            else:
                p = proceeds * part.quantity / qty
                f = fee * part.quantity / qty
                used_p += p
                used_f += f
            disposals.append(
                Disposal(
                    asset=asset,
                    quantity=part.quantity,
                    acquired=part.acquired,
                    disposed=day,
                    proceeds=p,
                    cost_basis=part.cost,
                    gain=p - part.cost,
                    term=None,
                    tx_ref=joined,
                    tax_year=year,
                    rule=part.rule,
                    fee=f,
                    acquired_at=None,
                    disposed_at=sold.last_at,
                )
            )

    start = 0
    for tx, day, year, end in zip(txs, days, tax_years, ends, strict=False):  # txs may go on past the horizon
        ops = all_ops[start:end]
        start = end
        if year != current_year:
            if not years.enter(year):
                break
            current_year = year
        record = wanted is None or year == wanted
        ref = tx.ref
        now[0] = tx
        carry: dict[int, _Moved] = {}
        for op in ops:
            if type(op) is Dispose:
                asset = op.asset
                check(asset, op.quantity, ref)
                holdings[asset] = qsub(holdings[asset], op.quantity)
                if (asset, day) not in settled_days:
                    settled_days.add((asset, day))
                    settle(asset, day, year, ref, record)
            elif type(op) is Acquire:
                asset = op.asset
                holdings[asset] = qadd(holdings.get(asset, ZERO), op.quantity)
                key = (asset, day)
                if key not in pooled_days:
                    pooled_days.add(key)
                    entering = into_pool[key]
                    if entering:
                        bought = acquired[key]
                        pool_add(asset, entering, _share(bought.cost, entering, bought.quantity))
                if op.income_type is not None and record:
                    income.append(income_event(op, tx, day, year))
                elif op.gift is not None and record:
                    gifts.append(Gift(RECEIVED, op.gift, asset, op.quantity, op.cost, op.fair_market_value, ref,
                                      tx.occurred_at, year))
            elif type(op) is MoveOut:
                asset = op.asset
                check(asset, op.quantity, ref, f"moving it into {tx.kind}")
                holdings[asset] = qsub(holdings[asset], op.quantity)
                cost = pool_take(
                    asset, op.quantity, ref, "the Section 104 pool is short: tokens are reserved for a same-day match"
                )
                moved = carry.get(op.slot)
                if moved is None:
                    carry[op.slot] = _Moved(cost, ZERO)
                else:
                    moved.cost += cost
            elif type(op) is MoveIn:
                moved = carry[op.slot]
                part = moved.cost - moved.used if op.last else moved.cost * op.share
                moved.used += part
                holdings[op.asset] = qadd(holdings.get(op.asset, ZERO), op.quantity)
                pool_add(op.asset, op.quantity, part + op.fee_add)
            elif type(op) is Check:
                check(op.asset, op.quantity, ref, "transfer_out")
            elif type(op) is FiatIncome:
                if record:
                    income.append(income_event(op, tx, day, year))
            elif type(op) is UnallocatedFee:
                unallocated[year] += op.amount
    years.finish()
    return build_report(
        settings, disposals, income, unallocated, years, normalizer.in_transit, normalizer.warnings, missing, gifts
    )


def _gifts_given(
    parts: list[_Part], sold: _DayDisposed, asset: str, year: str, gifts: list[Gift] | None
) -> tuple[list[_Part], Decimal]:
    """A day's disposal that includes gifts: the parts (and quantity) left to record as disposals,
    and each gift listed (into ``gifts`` unless None).

    A gift that is no disposal (to a spouse or civil partner: no gain, no loss, TCGA 1992 s.58)
    was matched with the rest of the day's disposal; its quantity is taken out of the matched parts
    in rule order (same day, 30 days, the pool) at their cost, which is the cost it carries away.
    A gift that is a disposal (at market value, s.17) stays in the parts; its share of their cost is
    pro rata to quantity (all of a day's disposals are one)."""
    assert sold.gifts is not None
    uncounted = sold.uncounted
    kept = parts
    uncounted_cost = ZERO
    if uncounted:
        kept = []
        left = uncounted
        for part in parts:
            take = part.quantity if part.quantity <= left else left
            if not take:
                kept.append(part)
                continue
            left = qsub(left, take)
            cost = _share(part.cost, take, part.quantity)
            uncounted_cost += cost
            rest = qsub(part.quantity, take)
            if rest:
                kept.append(_Part(part.rule, rest, part.cost - cost, part.acquired))
    qty = qsub(sold.quantity, uncounted)
    if gifts is not None:
        kept_cost = sum((part.cost for part in kept), ZERO)
        for op, tx in sold.gifts:
            gift = op.gift
            assert gift is not None
            if gift.counted:
                basis = _share(kept_cost, op.quantity, qty)
            else:
                basis = _share(uncounted_cost, op.quantity, uncounted)
            gifts.append(Gift(GIVEN, gift.category, asset, op.quantity, basis, gift.market_value, tx.ref,
                              tx.occurred_at, year, gift.counted))
    return kept, qty
