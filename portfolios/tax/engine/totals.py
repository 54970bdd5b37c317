"""Year totals and the final report, shared by the lot methods and UK pooling.

Totals are sums of the full-precision records, never of rounded ones (rounding
to cents happens only in ``reports``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .quantities import ZERO
from .types import Disposal, Gift, IncomeEvent, Lot, MissingBasis, TaxReport, TaxSettings, YearTotals
from .years import month_of


def _sums() -> defaultdict[str, Decimal]:
    return defaultdict(lambda: ZERO)


@dataclass(slots=True)
class _YearSums:
    proceeds: Decimal = ZERO
    cost: Decimal = ZERO
    short: Decimal = ZERO
    long: Decimal = ZERO
    no_term: Decimal = ZERO
    fees: Decimal = ZERO
    count: int = 0
    income: Decimal = ZERO
    income_by_type: defaultdict[str, Decimal] = field(default_factory=_sums)
    income_by_month: defaultdict[str, Decimal] = field(default_factory=_sums)
    income_by_asset: defaultdict[str, Decimal] = field(default_factory=_sums)
    gain_by_month: defaultdict[str, Decimal] = field(default_factory=_sums)
    gain_by_asset: defaultdict[str, Decimal] = field(default_factory=_sums)
    proceeds_by_asset: defaultdict[str, Decimal] = field(default_factory=_sums)


class YearEnds:
    """The tax years a run goes through, and what is held at the end of each
    reported one (both drivers keep one).

    The driver calls ``enter(year)`` when a transaction falls in a new tax
    year (which snapshots the year that ended) and stops when it answers
    ``False`` (past the wanted year), then ``finish()`` after the last
    transaction.  ``snapshot`` returns the lots held at that moment."""

    def __init__(self, wanted: str | None, snapshot: Callable[[], tuple[Lot, ...]]) -> None:
        self.wanted = wanted
        self.snapshot = snapshot
        self.current: str | None = None
        self.seen: list[str] = []
        self.lots: dict[str, tuple[Lot, ...]] = {}

    def _close(self) -> None:
        """The current year ends: keep its lots if it is reported."""
        current = self.current
        if current is not None and (self.wanted is None or current == self.wanted):
            self.lots[current] = self.snapshot()

    def enter(self, year: str) -> bool:
        self._close()
        if self.wanted is not None and year > self.wanted:
            self.current = None
            return False
        self.current = year
        self.seen.append(year)
        return True

    def finish(self) -> None:
        self._close()
        if self.wanted is not None and self.wanted not in self.lots:
            # no transaction in the wanted year: the run stopped before the first
            # later one, so what is held now is what was held at the year end
            self.lots[self.wanted] = self.snapshot()


def build_report(
    settings: TaxSettings,
    disposals: list[Disposal],
    income: list[IncomeEvent],
    unallocated: Mapping[str, Decimal],
    years: YearEnds,
    in_transit: Mapping[str, Decimal],
    warnings: Iterable[str],
    missing_basis: Iterable[MissingBasis] = (),
    gifts: Iterable[Gift] = (),
) -> TaxReport:
    """The report: records as they are, totals per tax year summed from them.

    The years reported are those with records or lots, plus - when all years
    are asked for - every year a transaction fell in; with ``years.wanted``
    only that one."""
    wanted = years.wanted
    lots_at_year_end = years.lots
    acc: dict[str, _YearSums] = {}

    def bucket(year: str) -> _YearSums:
        b = acc.get(year)
        if b is None:
            b = acc[year] = _YearSums()
        return b

    months: dict[date, str] = {}
    for d in disposals:
        b = bucket(d.tax_year)
        b.proceeds += d.proceeds
        b.cost += d.cost_basis
        b.fees += d.fee
        b.count += 1
        term = d.term
        if term == "short":
            b.short += d.gain
        elif term == "long":
            b.long += d.gain
        else:
            b.no_term += d.gain
        month = months.get(d.disposed)
        if month is None:
            month = months[d.disposed] = month_of(d.disposed)
        b.gain_by_month[month] += d.gain
        b.gain_by_asset[d.asset] += d.gain
        b.proceeds_by_asset[d.asset] += d.proceeds
    for e in income:
        b = bucket(e.tax_year)
        b.income += e.fair_market_value
        b.income_by_type[e.income_type] += e.fair_market_value
        b.income_by_month[month_of(e.received)] += e.fair_market_value
        b.income_by_asset[e.asset] += e.fair_market_value
    for year in unallocated:
        if wanted is None or year == wanted:
            bucket(year)
    reported = set(acc) | set(lots_at_year_end)
    if wanted is not None:
        reported.add(wanted)
    else:
        reported.update(years.seen)
    totals: dict[str, YearTotals] = {}
    for year in sorted(reported):
        b = bucket(year)
        totals[year] = YearTotals(
            tax_year=year,
            proceeds=b.proceeds,
            cost_basis=b.cost,
            gain=b.short + b.long + b.no_term,
            gain_short=b.short,
            gain_long=b.long,
            gain_no_term=b.no_term,
            disposal_fees=b.fees,
            fees_unallocated=unallocated.get(year, ZERO),
            disposal_count=b.count,
            income_total=b.income,
            income_by_type=dict(sorted(b.income_by_type.items())),
            income_by_month=dict(sorted(b.income_by_month.items())),
            income_by_asset=dict(sorted(b.income_by_asset.items())),
            gain_by_month=dict(sorted(b.gain_by_month.items())),
            gain_by_asset=dict(sorted(b.gain_by_asset.items())),
            proceeds_by_asset=dict(sorted(b.proceeds_by_asset.items())),
        )
    return TaxReport(
        settings=settings,
        tax_years=tuple(sorted(totals)),
        disposals=tuple(disposals),
        income=tuple(income),
        totals=totals,
        lots_at_year_end=lots_at_year_end,
        in_transit={k: v for k, v in sorted(in_transit.items()) if v},
        warnings=tuple(warnings),
        missing_basis=tuple(missing_basis),
        gifts=tuple(gifts),
    )
