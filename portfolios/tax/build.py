"""The build of a tax report (run by ``tasks.build_tax_report``): ledger in, summary and files out.

``tax_report_build`` claims the row with a conditional update (``pending`` ->
``running``; a ``running`` row whose worker died - older than ``STALE_AFTER``
- may be claimed again), so a second delivery of the task does nothing. It
streams the ledger in one query (``inputs.tax_ledger_load``), checks that the
ledger still has the requested fingerprint, runs the pure engine, prices the
holdings, writes the summary and the three files, and marks the row ``done``
in one transaction - only if it still holds the claim (``started_at`` is the
claim token). Bad data (an oversell, a missing value) marks it ``failed``
with a message naming the transaction; so does anything unexpected (logged
with its traceback).
"""

from __future__ import annotations

import logging
import time as clock
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone as dj_timezone

from accounts.models import CostBasisMethod, Jurisdiction, LpTreatment
from config.heartbeat import Heartbeat, stale_after
from pools.fx import ONE, FxRateUnavailable
from pools.selectors_fx import fx_convert
from portfolios.ledger import TxCategory
from portfolios.tax import exports
from portfolios.tax.engine import (
    LP_ASSET_PREFIX,
    Gift,
    InsufficientHoldings,
    Lot,
    MissingBasis,
    MissingFiatValue,
    RewardSummaryRow,
    TaxEngineError,
    TaxSettings,
    TxIn,
    cents,
    compute,
    rewards_summary,
    year_summary,
)
from portfolios.tax.inputs import Ledger, ReportInputs, tax_ledger_load, year_end_cutoff
from portfolios.tax.models import TaxReport, TaxReportFile
from portfolios.tax.selectors import (
    tax_ledger_transaction_labels,
    tax_position_labels,
    tax_prices_at,
    tax_receipt_names,
)

logger = logging.getLogger(__name__)

#: A running build older than this lost its worker (past Celery's hard time limit): it may be claimed again.
STALE_AFTER = timedelta(seconds=getattr(django_settings, "CELERY_TASK_TIME_LIMIT", 360) + 60)
#: Finished reports kept per user (older ones are deleted after each build).
KEEP_REPORTS = 30

S = TaxReport.Status


class StaleInputs(Exception):
    pass


def _claimable(now: datetime) -> Q:
    """Pending, or running but abandoned: its heartbeat stopped (the worker died), or - a row
    from before heartbeats - started longer ago than any build may last."""
    silent = now - stale_after()
    return Q(status=S.PENDING) | Q(status=S.RUNNING) & (
        Q(heartbeat_at__lt=silent) | Q(heartbeat_at__isnull=True, started_at__lt=now - STALE_AFTER))


def tax_report_build(*, report_id: int, task_id: str = "") -> str:
    """Build one report; returns its final status, or ``"skipped"`` when another run
    holds (or finished) it. Safe to run twice. While it builds, a thread heartbeats the row
    (``config.heartbeat``), so a killed worker's build is reaped within minutes."""
    claimed_at = dj_timezone.now()
    claimed = (TaxReport.objects.filter(pk=report_id).filter(_claimable(claimed_at))
               .update(status=S.RUNNING, started_at=claimed_at, progress=1, error="", finished_at=None,
                       heartbeat_at=claimed_at, task_id=task_id[:255], attempts=F("attempts") + 1))
    if not claimed:
        return "skipped"
    report = TaxReport.objects.select_related("owner", "portfolio").get(pk=report_id)
    mine = TaxReport.objects.filter(pk=report_id, status=S.RUNNING, started_at=claimed_at)

    def progress(percent: int) -> None:
        mine.update(progress=max(1, min(99, percent)))

    try:
        with Heartbeat(TaxReport, report_id):
            built = _build(report, progress)
    except TaxEngineError as exc:
        message = _explain(exc)
    except FxRateUnavailable as exc:
        message = (f"{exc} Values are converted into {report.fiat_currency} at the ECB rate of each "
                   "transaction's date; load the rates (manage.py fx_load) or wait for the daily fetch, "
                   "then request the report again.")
    except StaleInputs as exc:
        message = str(exc)
    except SoftTimeLimitExceeded:
        logger.warning("tax report %s reached the soft time limit", report_id)
        message = ("Building this report took longer than the time allowed "
                   f"({getattr(django_settings, 'CELERY_TASK_SOFT_TIME_LIMIT', 300)} s), so it was stopped. "
                   "Request it again; a report for a single portfolio or a shorter history builds faster.")
    except Exception:
        logger.exception("tax report %s failed", report_id)
        message = ("The report could not be built because of an error on our side. It has been logged; "
                   "please try again later.")
    else:
        with transaction.atomic():
            done = mine.update(status=S.DONE, progress=100, summary=built.summary, leg_count=built.legs,
                               finished_at=dj_timezone.now())
            if done:
                TaxReportFile.objects.filter(report_id=report_id).delete()
                TaxReportFile.objects.bulk_create([
                    TaxReportFile(report_id=report_id, kind=kind, filename=name, content_type=ctype,
                                  size=len(content), content=content)
                    for kind, name, ctype, content in built.files
                ])
        if not done:
            return "skipped"
        tax_reports_prune(owner_id=report.owner_id)
        return S.DONE
    failed = mine.update(status=S.FAILED, error=message[:4000], finished_at=dj_timezone.now())
    return S.FAILED if failed else "skipped"


def tax_reports_prune(*, owner_id: int, keep: int = KEEP_REPORTS) -> int:
    """Delete the owner's finished reports beyond the newest ``keep`` (with their files)."""
    finished = TaxReport.objects.filter(owner_id=owner_id, status__in=[S.DONE, S.FAILED]).order_by(
        "-created_at", "-id").values_list("pk", flat=True)
    old = list(finished[keep:])
    if not old:
        return 0
    return TaxReport.objects.filter(pk__in=old).delete()[1].get(TaxReport._meta.label, 0)


def _explain(exc: TaxEngineError) -> str:
    """The engine's message with the transaction named the way the user knows it."""
    text = str(exc)
    ref = getattr(exc, "ref", "") or ""
    ids = [int(r) for r in str(ref).split(",") if r.strip().isdigit()]
    prefix = f"transaction {ref}: "
    if ids and text.startswith(prefix):
        labels = tax_ledger_transaction_labels(transaction_ids=ids[:3])
        named = ", ".join(labels.get(i, f"#{i}") for i in ids[:3]) + (" and others" if len(ids) > 3 else "")
        text = f"Transaction {named}: {text[len(prefix):]}"
    if isinstance(exc, InsufficientHoldings):
        text += (". Record the purchase, reward or transfer that brought these coins in (or correct the "
                 "quantity), then request the report again.")
    elif isinstance(exc, MissingFiatValue):
        text += ". Enter the value of that amount on the transaction, then request the report again."
    return text


@dataclass
class Built:
    summary: dict
    files: list[tuple[str, str, str, bytes]]  # kind, filename, content type, content
    legs: int


def _settings_of(report: TaxReport) -> TaxSettings:
    # Missing cost basis is a warning on the web and in the API (listed, totals marked incomplete);
    # ``manage.py tax_report --strict`` keeps the error.
    return TaxSettings(method=report.method, jurisdiction=report.jurisdiction, timezone=report.timezone,
                       lp_treatment=report.lp_treatment, fiat_currency=report.fiat_currency,
                       missing_basis="zero", lots_per_wallet_from=report.lots_per_wallet_from)


#: Missing-basis entries kept in a report's summary (the count is always exact).
MISSING_BASIS_LISTED = 200


def _missing_basis(entries: list[MissingBasis]) -> list[dict[str, object]]:
    """Each uncovered disposal, named the way the user knows the transaction (linked by id)."""
    shown = entries[:MISSING_BASIS_LISTED]
    ids = sorted({int(m.tx_ref) for m in shown if m.tx_ref.isdigit()})
    labels = tax_ledger_transaction_labels(transaction_ids=ids) if ids else {}
    rows: list[dict[str, object]] = []
    for m in shown:
        tx_id = int(m.tx_ref) if m.tx_ref.isdigit() else None
        rows.append({
            "transaction_id": tx_id,
            "transaction": labels.get(tx_id, f"#{m.tx_ref}") if tx_id is not None else m.tx_ref,
            "occurred_at": m.occurred_at.astimezone(UTC).isoformat(),
            "tax_year": m.tax_year,
            "asset": m.asset,
            "quantity_uncovered": exports.quantity(m.quantity),
            "quantity_held": exports.quantity(m.held),
            "moved_into_position": bool(m.detail),
            "fix": (f"Record how these {m.asset} came in (a buy, a reward or a transfer in) dated before this "
                    "transaction, or correct its quantity. Until then the uncovered quantity counts at a zero "
                    "cost, so the gains shown are likely too high."),
        })
    return rows


def _build(report: TaxReport, progress: Callable[[int], None]) -> Built:
    started = clock.perf_counter()
    inputs = ReportInputs.of(report)
    label = inputs.tax_year
    total = max(report.leg_count, 1)
    marks = {"start": started}

    def lap(name: str) -> None:
        marks[name] = clock.perf_counter()

    progress(2)
    ledger = tax_ledger_load(owner_id=report.owner_id, portfolio_id=report.portfolio_id, until=inputs.cutoff,
                             on_progress=lambda rows: progress(2 + 48 * rows // total),
                             currency=report.fiat_currency, timezone=report.timezone)
    if inputs.hash(ledger.fingerprint) != report.inputs_hash:
        raise StaleInputs("Your transactions changed after this report was requested, so it was not built from "
                          "outdated data. Request it again to include the changes.")
    lap("load")
    progress(50)
    settings = _settings_of(report)
    result = compute(ledger.transactions, settings, tax_year=label)
    lap("engine")
    progress(65)
    totals = result.year(label)
    disposals = exports.sorted_disposals(result.disposals_in(label))
    income = result.income_in(label)
    gifts = result.gifts_in(label)
    end = year_end_cutoff(year=report.year, jurisdiction=report.jurisdiction, tz=report.timezone)
    rewards = _rewards(ledger, settings, end, label)
    position_ids = sorted({int(p) for p in _positions_named(ledger.transactions) if p.isdigit()})
    position_labels = {str(k): v for k, v in tax_position_labels(position_ids=position_ids).items()}
    lots_at_end = result.lots_at_end_of(label)
    asset_names = _receipt_names([d.asset for d in disposals] + [e.asset for e in income]
                                 + [lot.asset for lot in lots_at_end] + [g.asset for g in gifts])
    progress(70)
    holdings, holdings_totals = _holdings(lots_at_end, ledger, report, position_labels, asset_names)
    lap("rewards_holdings")
    first, last = report.period
    summary: dict[str, Any] = {
        "version": 1,
        "tax_year": label,
        "period": {"start": first.isoformat(), "end": last.isoformat()},
        "settings": {
            "jurisdiction": report.jurisdiction,
            "jurisdiction_label": Jurisdiction(report.jurisdiction).label,
            "method": report.method,
            "method_label": CostBasisMethod(report.method).label,
            "lp_treatment": report.lp_treatment,
            "lp_treatment_label": LpTreatment(report.lp_treatment).label,
            "timezone": report.timezone,
            "fiat_currency": report.fiat_currency,
        },
        "portfolio": report.portfolio.name if report.portfolio is not None else None,
        "totals": year_summary(totals),
        "proceeds_by_asset": {k: str(cents(v)) for k, v in totals.proceeds_by_asset.items()},
        "counts": {"transactions": len(ledger.transactions), "legs": ledger.fingerprint.legs,
                   "disposals": len(disposals), "income_events": len(income), "gifts": len(gifts)},
        "gifts": _gifts(gifts, report.fiat_currency, asset_names),
        "prices_as_of": report.prices_as_of.isoformat(),
        "holdings": holdings,
        "holdings_totals": holdings_totals,
        "rewards": [
            {"position": r.position or "", "position_label": _position_label(r.position, position_labels),
             "asset": r.asset, "month": r.month, "quantity": exports.quantity(r.quantity),
             "value_at_receipt": str(cents(r.value_at_receipt)), "events": r.events}
            for r in rewards
        ],
        "asset_tokens": ledger.asset_tokens,
        "in_transit": {k: exports.quantity(v) for k, v in result.in_transit.items()},
        "warnings": list(result.warnings) + [
            f"{count} {asset} leg{'s' if count != 1 else ''} without a recorded value "
            f"{'were' if count != 1 else 'was'} valued at the stablecoin's assumed peg (1 {asset} = 1.00 USD)."
            for asset, count in sorted(ledger.pegged.items())],
        "fx": _fx_summary(ledger, report.fiat_currency),
        # Receipt assets ("LP#12") by the names people read ("LP ETH/USDC v3 range #12").
        "asset_names": asset_names,
    }
    missing = result.missing_basis_until(label)
    summary["complete"] = not missing
    summary["missing_basis_count"] = len(missing)
    summary["missing_basis"] = _missing_basis(missing)
    del ledger  # the biggest object; the files only need the records
    slug = report_file_slug(label, report.jurisdiction, report.method)
    currency = report.fiat_currency
    files = [("csv-disposals", f"{slug}-disposals.csv", "text/csv; charset=utf-8",
              exports.disposals_csv(disposals, jurisdiction=report.jurisdiction, currency=currency,
                                    asset_names=asset_names, tax_year=label))]
    progress(75)
    files.append(("csv-income", f"{slug}-income.csv", "text/csv; charset=utf-8",
                  exports.income_csv(income, position_labels=position_labels, jurisdiction=report.jurisdiction,
                                     currency=currency, asset_names=asset_names)))
    progress(80)
    lap("csv")
    owner = report.owner
    user_label = f"{owner.name} <{owner.email}>" if owner.name else owner.email
    summary["build_seconds"] = f"{clock.perf_counter() - started:.2f}"
    files.append(("pdf", f"{slug}-summary.pdf", "application/pdf",
                  exports.summary_pdf(summary, disposals, user_label=user_label, asset_names=asset_names,
                                      generated_at=dj_timezone.now().astimezone(UTC))))
    lap("pdf")
    names = list(marks)
    # A list, not an object: jsonb does not keep key order.
    summary["timings"] = [[name, f"{marks[name] - marks[prev]:.2f}"]
                          for prev, name in zip(names, names[1:], strict=False)]
    progress(95)
    return Built(summary, files, summary["counts"]["legs"])


def _gifts(gifts: list[Gift], currency: str, asset_names: dict[str, str]) -> list[dict[str, object]]:
    """Each gift given or received in the year, in the report's currency, named the way the user
    knows the transaction (linked by id)."""
    ids = sorted({int(g.tx_ref) for g in gifts if g.tx_ref.isdigit()})
    labels = tax_ledger_transaction_labels(transaction_ids=ids) if ids else {}
    rows: list[dict[str, object]] = []
    for g in gifts:
        tx_id = int(g.tx_ref) if g.tx_ref.isdigit() else None
        rows.append({
            "direction": g.direction,
            "category": g.category,
            "category_label": TxCategory(g.category).label,
            "occurred_at": g.occurred_at.astimezone(UTC).isoformat(),
            "asset": g.asset,
            "asset_label": asset_names.get(g.asset, g.asset),
            "quantity": exports.quantity(g.quantity),
            "cost_basis": str(cents(g.cost_basis)),
            "market_value": None if g.market_value is None else str(cents(g.market_value)),
            "disposal": g.disposal,
            "currency": currency,
            "transaction_id": tx_id,
            "transaction": labels.get(tx_id, f"#{g.tx_ref}") if tx_id is not None else g.tx_ref,
        })
    return rows


def _fx_summary(ledger: Ledger, currency: str) -> dict[str, object]:
    """Which rates converted the ledger into the report's currency, and from which days."""
    usage = ledger.fx
    rows = usage.rows() if usage is not None else []
    return {
        "currency": currency,
        "source": "European Central Bank euro reference rates (cross rates through EUR)",
        "converted_legs": usage.converted_legs if usage is not None else 0,
        "days": len({r["day"] for r in rows}),
        "fallback_days": len({r["day"] for r in rows if r["fallback"]}),
        "rates": rows,
    }


def report_file_slug(tax_year: str, jurisdiction: str, method: str) -> str:
    """``yieldledger-tax-2024-25-uk`` (UK pooling is implied by the UK), ``yieldledger-tax-2024-us-fifo``:
    the jurisdiction once, and the method only where there is a choice."""
    parts = ["yieldledger-tax", tax_year.replace("/", "-"), jurisdiction]
    if method != jurisdiction:
        parts.append(method)
    return "-".join(parts)


def _receipt_names(assets: Iterable[str]) -> dict[str, str]:
    """``{"LP#12": "LP ETH/USDC v3 range #12"}`` for the receipt assets among ``assets`` (one query)."""
    ids = {a[len(LP_ASSET_PREFIX):] for a in assets if a.startswith(LP_ASSET_PREFIX)}
    names = tax_receipt_names(position_ids=sorted(int(i) for i in ids if i.isdigit()))
    return {f"{LP_ASSET_PREFIX}{pk}": name for pk, name in names.items()}


def _positions_named(transactions: list[TxIn]) -> set[str]:
    return {tx.position for tx in transactions if tx.position}


def _position_label(key: str | None, labels: dict[str, str]) -> str:
    if not key:
        return ""
    return labels.get(key, f"Position {key}")


def _rewards(ledger: Ledger, settings: TaxSettings, end: datetime, label: str) -> list[RewardSummaryRow]:
    """Rewards up to the end of the tax year, per position, token and month.

    The engine values income at receipt whatever the fees, so rewards alone
    (fee legs dropped: they only change the lots' cost) give the same income
    events as the full ledger - across every year, in one cheap pass, even
    when an earlier year could not be computed."""
    only: list[TxIn] = []
    for tx in ledger.transactions:
        if tx.kind != "reward" or tx.occurred_at >= end:
            continue
        legs = tuple(leg for leg in tx.legs if not leg.is_fee)
        if legs:
            only.append(TxIn(ref=tx.ref, occurred_at=tx.occurred_at, kind="reward", legs=legs,
                             income_type=tx.income_type, position=tx.position))
    events = [e for e in compute(only, settings).income if e.tax_year <= label]
    return rewards_summary(events, {}, None)


def _asset_label(asset: str, position_labels: dict[str, str],
                 asset_names: dict[str, str] | None = None) -> tuple[str, str, bool]:
    """(label, base asset for its price, is a position receipt)."""
    if asset.startswith(LP_ASSET_PREFIX):
        key = asset[len(LP_ASSET_PREFIX) :]
        name = (asset_names or {}).get(asset)
        return name or f"LP receipt of {_position_label(key, position_labels)}", asset, True
    if "@" in asset:
        base, _, where = asset.partition("@")
        place = _position_label(where, position_labels) if where.isdigit() else where
        return f"{base} deposited in {place}", base, False
    return asset, asset, False


def _holdings(lots: Iterable[Lot], ledger: Ledger, report: TaxReport, position_labels: dict[str, str],
              asset_names: dict[str, str] | None = None) -> tuple[list[dict[str, object]], dict[str, object]]:
    """Rows of what is held at the year end (quantity, cost, price, value) and their totals."""
    quantities: dict[str, Decimal] = defaultdict(Decimal)
    costs: dict[str, Decimal] = defaultdict(Decimal)
    # Sums in an unrounded context: lot quantities can carry more than the
    # default context's 28 significant digits (the engine keeps them exact).
    exact = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
    for lot in lots:
        if lot.quantity:
            quantities[lot.asset] = exact.add(quantities[lot.asset], lot.quantity)
            costs[lot.asset] = exact.add(costs[lot.asset], lot.cost_basis)
    described = {asset: _asset_label(asset, position_labels, asset_names) for asset in quantities}
    token_ids = sorted({ledger.asset_tokens[base] for _, base, receipt in described.values()
                        if not receipt and base in ledger.asset_tokens})
    running = report.prices_as_of >= dj_timezone.now().date() - timedelta(days=1)
    prices = tax_prices_at(token_ids=token_ids, day=report.prices_as_of, latest_fallback=running)
    # Prices are in USD; holdings are valued in the report's currency at the ECB rate of the prices' day.
    usd_rate = ONE
    if report.fiat_currency != "USD" and prices:
        try:
            usd_rate = fx_convert(ONE, "USD", report.fiat_currency, report.prices_as_of).amount
        except FxRateUnavailable:
            prices = {}  # no rate: every holding is listed as unpriced rather than valued in the wrong currency
    rows: list[dict[str, object]] = []
    cost_total = value_total = gain_total = Decimal(0)
    unpriced: list[str] = []
    for asset in sorted(quantities):
        qty, cost = quantities[asset], costs[asset]
        label, base, receipt = described[asset]
        token_id = None if receipt else ledger.asset_tokens.get(base)
        price = prices.get(token_id) if token_id is not None else None
        row: dict[str, object] = {"asset": asset, "label": label, "quantity": exports.quantity(qty),
               "cost_basis": str(cents(cost)), "priced": price is not None,
               "price": None, "price_date": None, "value": None, "unrealised_gain": None}
        if price is None:
            unpriced.append(asset)
        else:
            unit_price = price.price * usd_rate
            value = qty * unit_price
            row.update(price=exports.quantity(unit_price), price_date=price.day.isoformat(),
                       value=str(cents(value)), unrealised_gain=str(cents(value - cost)))
            cost_total += cost
            value_total += value
            gain_total += value - cost
        rows.append(row)
    totals: dict[str, object] = {"cost_basis": str(cents(cost_total)), "value": str(cents(value_total)),
                                 "unrealised_gain": str(cents(gain_total)), "unpriced": unpriced,
                                 "cost_basis_all": str(cents(sum(costs.values(), Decimal(0))))}
    return rows, totals
