"""Presentation of engine results: the only place fiat is rounded.

Fiat amounts are quantized to cents with ROUND_HALF_UP here and nowhere
else.  Row values are rounded one by one; totals are rounded once from the
full-precision sum (so a column of rounded rows can differ from the rounded
total by a few cents - the total is the correct one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from .quantities import ZERO, plain, qadd
from .types import Disposal, IncomeEvent, Lot, TaxReport, YearTotals
from .years import local_date, month_of

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


def disposal_row(d: Disposal) -> dict[str, str]:
    """One Form-8949-like row: description, dates, proceeds, cost, gain."""
    return {
        "asset": d.asset,
        "quantity": plain(d.quantity),
        "acquired": _day(d.acquired),
        "disposed": d.disposed.isoformat(),
        "proceeds": str(cents(d.proceeds)),
        "cost_basis": str(cents(d.cost_basis)),
        "gain": str(cents(d.gain)),
        "term": d.term or "",
        "rule": d.rule,
        "tx_ref": d.tx_ref,
        "tax_year": d.tax_year,
    }


def disposal_rows(report: TaxReport, tax_year: str | int | None = None) -> list[dict[str, str]]:
    items = report.disposals if tax_year is None else report.disposals_in(tax_year)
    return [disposal_row(d) for d in items]


def income_rows(report: TaxReport, tax_year: str | int | None = None) -> list[dict[str, str]]:
    items = report.income if tax_year is None else report.income_in(tax_year)
    return [
        {
            "received": e.received.isoformat(),
            "income_type": e.income_type,
            "asset": e.asset,
            "quantity": plain(e.quantity),
            "fair_market_value": str(cents(e.fair_market_value)),
            "position": e.position or "",
            "tx_ref": e.tx_ref,
        }
        for e in items
    ]


def lot_rows(lots: Iterable[Lot]) -> list[dict[str, str]]:
    return [
        {
            "asset": lot.asset,
            "quantity": plain(lot.quantity),
            "cost_basis": str(cents(lot.cost_basis)),
            "acquired": _day(lot.acquired),
            "tx_ref": lot.tx_ref,
        }
        for lot in lots
    ]


def _money_map(values: Mapping[str, Decimal]) -> dict[str, str]:
    return {key: str(cents(value)) for key, value in values.items()}


def year_summary(totals: YearTotals) -> dict[str, object]:
    """Year totals rounded to cents (each from its full-precision sum)."""
    return {
        "tax_year": totals.tax_year,
        "disposal_count": totals.disposal_count,
        "proceeds": str(cents(totals.proceeds)),
        "cost_basis": str(cents(totals.cost_basis)),
        "gain": str(cents(totals.gain)),
        "gain_short": str(cents(totals.gain_short)),
        "gain_long": str(cents(totals.gain_long)),
        "gain_no_term": str(cents(totals.gain_no_term)),
        "disposal_fees": str(cents(totals.disposal_fees)),
        "fees_unallocated": str(cents(totals.fees_unallocated)),
        "income_total": str(cents(totals.income_total)),
        "income_by_type": _money_map(totals.income_by_type),
        "income_by_month": _money_map(totals.income_by_month),
        "income_by_asset": _money_map(totals.income_by_asset),
        "gain_by_month": _money_map(totals.gain_by_month),
        "gain_by_asset": _money_map(totals.gain_by_asset),
    }


# --------------------------------------------------------------------------- rewards


@dataclass(frozen=True, slots=True)
class RewardSummaryRow:
    position: str | None
    asset: str
    month: str  # "YYYY-MM", local
    quantity: Decimal
    value_at_receipt: Decimal  # sum of fair market values when received (full precision)
    value_now: Decimal | None  # quantity x current price; None when no price is known
    events: int

    @property
    def change(self) -> Decimal | None:
        return None if self.value_now is None else self.value_now - self.value_at_receipt


@dataclass(slots=True)
class _RewardSums:
    quantity: Decimal
    value: Decimal
    events: int


def rewards_summary(
    income: Iterable[IncomeEvent],
    current_prices: Mapping[str, Decimal],
    timezone: str | None = None,
) -> list[RewardSummaryRow]:
    """Per position (when the transaction carried one), reward token and month:
    quantity received, value at receipt and value at ``current_prices``
    (fiat per unit).  Months are the event's local month - in ``timezone`` if
    given, else the one the engine already computed."""
    groups: dict[tuple[str | None, str, str], _RewardSums] = {}
    for event in income:
        day = local_date(event.occurred_at, timezone) if timezone else event.received
        key = (event.position, event.asset, month_of(day))
        group = groups.get(key)
        if group is None:
            groups[key] = _RewardSums(event.quantity, event.fair_market_value, 1)
        else:
            group.quantity = qadd(group.quantity, event.quantity)  # exact, whatever the caller's context
            group.value += event.fair_market_value
            group.events += 1
    rows = []
    for (position, asset, month), group in sorted(groups.items(), key=lambda item: (item[0][0] or "", *item[0][1:])):
        price = current_prices.get(asset)
        if price is not None and not isinstance(price, Decimal):
            raise TypeError(f"price of {asset} must be a Decimal")
        rows.append(
            RewardSummaryRow(
                position=position,
                asset=asset,
                month=month,
                quantity=group.quantity,
                value_at_receipt=group.value,
                value_now=None if price is None else group.quantity * price,
                events=group.events,
            )
        )
    return rows


def rewards_totals(rows: Iterable[RewardSummaryRow]) -> dict[str, Decimal | None]:
    """Grand totals of a rewards summary (value_now is None if any price is missing)."""
    at_receipt = ZERO
    now: Decimal | None = ZERO
    for row in rows:
        at_receipt += row.value_at_receipt
        now = None if now is None or row.value_now is None else now + row.value_now
    return {"value_at_receipt": at_receipt, "value_now": now}
