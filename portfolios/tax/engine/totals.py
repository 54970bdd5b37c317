"""Year totals and the final report, shared by the lot methods and UK pooling.

Totals are sums of the full-precision records, never of rounded ones (rounding
to cents happens only in ``reports``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .quantities import ZERO
from .types import Disposal, IncomeEvent, Lot, TaxReport, TaxSettings, YearTotals
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


def build_report(
    settings: TaxSettings,
    disposals: list[Disposal],
    income: list[IncomeEvent],
    unallocated: Mapping[str, Decimal],
    lots_at_year_end: dict[str, tuple[Lot, ...]],
    in_transit: Mapping[str, Decimal],
    warnings: Iterable[str],
    wanted: str | None,
    years_seen: list[str],
) -> TaxReport:
    """The report: records as they are, totals per tax year summed from them.

    ``wanted`` is the one tax year asked for (or ``None`` for all); the years
    reported are those with records or lots, plus ``years_seen`` (every year a
    transaction fell in) when all years are asked for."""
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
    years = set(acc) | set(lots_at_year_end)
    if wanted is not None:
        years.add(wanted)
    else:
        years.update(years_seen)
    totals: dict[str, YearTotals] = {}
    for year in sorted(years):
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
    )
