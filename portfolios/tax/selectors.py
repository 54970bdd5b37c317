"""Every read of the tax reports apart from their inputs (``inputs.py``): access,
tax years, labels, prices and the rewards summary.

Access: ``tax_report_get_for_user`` (404 for anything that is not the user's).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Max, Min, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone as dj_timezone

from pools.fx import FxRateUnavailable
from pools.models import Token, TokenPrice
from pools.selectors_fx import fx_convert
from portfolios.models import Position, Transaction
from portfolios.tax.inputs import ReportInputs, prices_as_of, tax_inputs_hash
from portfolios.tax.models import TaxReport, TaxReportFile
from portfolios.tax.naming import receipt_name
from portfolios.validation import EARLIEST_MOMENT

# --------------------------------------------------------------------------- access


def tax_reports_for_user(*, user) -> QuerySet[TaxReport]:
    """The user's reports, newest first (index: tax_report_list_idx). ``summary`` is deferred;
    ``missing_basis_count`` (text, None for older reports) is read out of it for the list."""
    return (TaxReport.objects.filter(owner=user).select_related("portfolio").defer("summary")
            .annotate(missing_basis_count=KT("summary__missing_basis_count"))
            .order_by("-created_at", "-id"))


def tax_report_get_for_user(*, user, report_id: int) -> TaxReport:
    return get_object_or_404(TaxReport.objects.filter(owner=user).select_related("portfolio", "owner"), pk=report_id)


def tax_report_file_get(*, report: TaxReport, kind: str) -> TaxReportFile:
    """A finished report's file (404 while the report is not done, or for an unknown kind)."""
    if report.status != TaxReport.Status.DONE:
        raise Http404("The report is not ready.")
    return get_object_or_404(TaxReportFile.objects.filter(report=report), kind=kind)


def tax_report_file_kinds(*, report: TaxReport) -> list[str]:
    if report.status != TaxReport.Status.DONE:
        return []
    return list(TaxReportFile.objects.filter(report=report).order_by("kind").values_list("kind", flat=True))


def tax_report_csv_page(*, report: TaxReport, kind: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of one of the report's CSV files (the web tables show exactly what is downloaded)."""
    row = TaxReportFile.objects.filter(report=report, kind=kind).values_list("content", flat=True).first()
    if row is None:
        return [], []
    reader = csv.reader(io.StringIO(bytes(row).decode("utf-8-sig"), newline=""))
    header = next(reader, [])
    return header, list(reader)


# --------------------------------------------------------------------------- tax years


def tax_years_for_user(*, user, jurisdiction: str, tz: str) -> list[int]:
    """Tax years (first calendar year) that hold any of the user's transactions, newest
    first; always includes the current one."""
    bounds = Transaction.objects.counted().filter(portfolio__owner=user).aggregate(first=Min("occurred_at"),
                                                                         last=Max("occurred_at"))
    zone = ZoneInfo(tz)
    now = dj_timezone.now().astimezone(zone).date()

    def start_year(day: date) -> int:
        if jurisdiction == "uk" and (day.month, day.day) < (4, 6):
            return day.year - 1
        return day.year

    newest = start_year(now)
    # Rows older than the first block (entered before the input rules refused them) count from 2009:
    # 0001-01-01 shifted west of UTC is not a date at all.
    first = max(bounds["first"], EARLIEST_MOMENT) if bounds["first"] else None
    oldest = start_year(first.astimezone(zone).date()) if first else newest
    oldest = min(oldest, newest)
    return list(range(newest, oldest - 1, -1))



# --------------------------------------------------------------------------- labels


def tax_ledger_transaction_labels(*, transaction_ids: list[int]) -> dict[int, str]:
    """How an error message names transactions: kind, date and portfolio."""
    rows = Transaction.objects.filter(pk__in=transaction_ids).values_list("pk", "kind", "occurred_at",
                                                                           "portfolio__name")
    return {pk: f"#{pk} ({kind.replace('_', ' ')} on {when:%Y-%m-%d %H:%M} UTC in “{name}”)"
            for pk, kind, when, name in rows}


def tax_position_labels(*, position_ids: list[int]) -> dict[int, str]:
    positions = Position.objects.filter(pk__in=position_ids).select_related("pool")
    return {p.pk: str(p) for p in positions}


def tax_receipt_names(*, position_ids: list[int]) -> dict[int, str]:
    """Names people read for the positions' receipt assets (``LP#<id>``): "LP ETH/USDC v3
    range #12" (``portfolios.tax.naming``), in one query."""
    rows = Position.objects.filter(pk__in=position_ids).values_list(
        "pk", "kind", "label", "pool__symbol", "pool__protocol__slug")
    return {pk: receipt_name(position_id=pk, kind=kind, pool_symbol=symbol or "", protocol=protocol or "",
                             label=label)
            for pk, kind, label, symbol, protocol in rows}



# --------------------------------------------------------------------------- prices


@dataclass(frozen=True)
class PriceAt:
    price: Decimal
    day: date  # the day of the stored price used (may be earlier than asked)


def tax_prices_at(*, token_ids: list[int], day: date, latest_fallback: bool = False) -> dict[int, PriceAt]:
    """USD price of each token on ``day``: its stored daily price of that UTC day or the
    nearest earlier one (``pools.TokenPrice``, index pools_tokenprice_token_ts_uniq),
    in one query. ``latest_fallback``: a token without any such row uses its latest
    quote (``Token.last_price_usd``) - for a year that is still running."""
    if not token_ids:
        return {}
    end = datetime.combine(day, time(0), tzinfo=UTC)
    nearest = TokenPrice.objects.filter(token=OuterRef("pk"), timestamp__lte=end).order_by("-timestamp")
    rows = Token.objects.filter(pk__in=token_ids).annotate(
        p=Subquery(nearest.values("price_usd")[:1]), p_at=Subquery(nearest.values("timestamp")[:1]),
    ).values_list("pk", "p", "p_at", "last_price_usd", "last_price_at")
    out: dict[int, PriceAt] = {}
    for pk, price, price_at, last, last_at in rows:
        if price is not None:
            out[pk] = PriceAt(price, price_at.astimezone(UTC).date())
        elif latest_fallback and last is not None:
            out[pk] = PriceAt(last, (last_at or dj_timezone.now()).astimezone(UTC).date())
    return out


def tax_latest_prices(*, token_ids: list[int]) -> dict[int, Decimal]:
    """The latest known USD price of each token (``Token.last_price_usd``)."""
    if not token_ids:
        return {}
    return {pk: price for pk, price in Token.objects.filter(pk__in=token_ids, last_price_usd__isnull=False)
            .values_list("pk", "last_price_usd") if price is not None}


@dataclass(frozen=True)
class RewardRow:
    position: str  # label ("" when the reward names no position)
    asset: str
    month: str
    quantity: Decimal
    value_at_receipt: Decimal
    value_now: Decimal | None
    events: int

    @property
    def change(self) -> Decimal | None:
        return None if self.value_now is None else self.value_now - self.value_at_receipt


def tax_report_rewards(*, report: TaxReport) -> tuple[list[RewardRow], dict[str, Decimal | None]]:
    """The report's rewards summary (stored quantities and values at receipt) valued at
    today's prices: "value now" is read when asked, so it never goes stale."""
    summary = report.summary or {}
    stored = summary.get("rewards", [])
    tokens: Mapping[str, int] = summary.get("asset_tokens", {})
    prices = tax_latest_prices(token_ids=sorted({tokens[r["asset"]] for r in stored if r["asset"] in tokens}))
    if report.fiat_currency != "USD" and prices:
        # Latest prices are in USD: into the report's currency at the latest ECB rate (none: no "value now").
        try:
            rate = fx_convert(Decimal(1), "USD", report.fiat_currency, dj_timezone.now().date()).amount
        except FxRateUnavailable:
            prices = {}
        else:
            prices = {k: v * rate for k, v in prices.items()}
    rows: list[RewardRow] = []
    at_receipt = Decimal(0)
    now: Decimal | None = Decimal(0)
    for r in stored:
        qty = Decimal(r["quantity"])
        token_id = tokens.get(r["asset"])
        price = prices.get(token_id) if token_id is not None else None
        value_now = None if price is None else qty * price
        value = Decimal(r["value_at_receipt"])
        rows.append(RewardRow(r.get("position_label", ""), r["asset"], r["month"], qty, value, value_now,
                              r["events"]))
        at_receipt += value
        now = None if now is None or value_now is None else now + value_now
    return rows, {"value_at_receipt": at_receipt, "value_now": now}


def tax_report_is_current(*, report: TaxReport) -> bool:
    """Whether the report was built from the ledger as it is now (one aggregate query).
    A report of the running year also goes out of date each day (its prices day moves)."""
    inputs = ReportInputs.of(report)
    today = prices_as_of(year=report.year, jurisdiction=report.jurisdiction, tz=report.timezone)
    if today != report.prices_as_of:
        return False
    return tax_inputs_hash(inputs=inputs)[0] == report.inputs_hash
