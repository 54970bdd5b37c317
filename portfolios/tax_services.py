"""Every write of the tax reports: request (cache or enqueue) and build.

``tax_report_request`` resolves the settings (the user's preferences fill
what is not given; UK always means UK share pooling), hashes the inputs
(``tax_selectors.tax_inputs_hash``) and finds or creates the report keyed by
that hash. A new report - or a failed one asked for again, or one whose
message to the worker seems lost - is enqueued once the database
transaction commits. Asking twice with unchanged inputs returns the same
report and computes nothing.

``tax_report_build`` (run by ``tax_tasks.build_tax_report``) claims the row
with a conditional update (``pending`` -> ``running``; a ``running`` row whose
worker died - older than ``STALE_AFTER`` - may be claimed again), so a second
delivery of the task does nothing. It streams the ledger in one query,
checks that the ledger still has the requested fingerprint, runs the pure
engine, prices the holdings, writes the summary and the three files, and
marks the row ``done`` in one transaction - only if it still holds the claim
(``started_at`` is the claim token). Bad data (an oversell, a missing value)
marks it ``failed`` with a message naming the transaction; so does anything
unexpected (logged with its traceback).
"""

from __future__ import annotations

import logging
import time as clock
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from functools import partial

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone

from accounts.models import CostBasisMethod, Jurisdiction, LpTreatment, validate_timezone
from portfolios import tax_exports
from portfolios.models import Portfolio
from portfolios.models.tax import TaxReport, TaxReportFile
from portfolios.tax import (
    InsufficientHoldings,
    MissingFiatValue,
    TaxEngineError,
    TaxSettings,
    TxIn,
    compute,
    rewards_summary,
    year_summary,
)
from portfolios.tax.reports import cents
from portfolios.tax_selectors import (
    Ledger,
    ReportInputs,
    prices_as_of,
    tax_inputs_hash,
    tax_ledger_load,
    tax_ledger_transaction_labels,
    tax_position_labels,
    tax_prices_at,
    tax_year_period,
    year_end_cutoff,
)

logger = logging.getLogger(__name__)

#: A running build older than this lost its worker (past Celery's hard time limit): it may be claimed again.
STALE_AFTER = timedelta(seconds=getattr(django_settings, "CELERY_TASK_TIME_LIMIT", 360) + 60)
#: A pending report older than this is enqueued again when asked for (its message may be lost);
#: a duplicate delivery is harmless (the claim).
REQUEUE_AFTER = timedelta(minutes=5)
#: Finished reports kept per user (older ones are deleted after each build).
KEEP_REPORTS = 30
FIRST_YEAR = 2009

S = TaxReport.Status


class TaxRequestError(Exception):
    """A request that cannot be served; the message is for the user, ``field`` names the input."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class StaleInputs(Exception):
    pass


# --------------------------------------------------------------------------- request


@dataclass(frozen=True)
class ResolvedSettings:
    jurisdiction: str
    method: str
    lp_treatment: str
    timezone: str


def tax_settings_resolve(*, user, jurisdiction: str | None = None, method: str | None = None,
                         lp_treatment: str | None = None, timezone: str | None = None) -> ResolvedSettings:
    """The report's settings: what is given, else the user's preferences. The UK
    jurisdiction always uses UK share pooling, and only it does."""
    jurisdiction = jurisdiction or user.tax_jurisdiction
    if jurisdiction not in Jurisdiction.values:
        raise TaxRequestError(f"Choose a jurisdiction: {', '.join(Jurisdiction.values)}.", field="jurisdiction")
    if jurisdiction == Jurisdiction.UK:
        method = CostBasisMethod.UK
    else:
        if method is None:
            method = user.cost_basis_method if user.cost_basis_method != CostBasisMethod.UK else CostBasisMethod.FIFO
        if method == CostBasisMethod.UK:
            raise TaxRequestError("UK share pooling applies only to the UK jurisdiction.", field="method")
        if method not in CostBasisMethod.values:
            raise TaxRequestError(f"Choose a method: {', '.join(m for m in CostBasisMethod.values if m != 'uk')}.",
                                  field="method")
    lp_treatment = lp_treatment or user.lp_treatment
    if lp_treatment not in LpTreatment.values:
        raise TaxRequestError(f"Choose an LP treatment: {', '.join(LpTreatment.values)}.", field="lp_treatment")
    timezone = timezone or user.timezone or "UTC"
    try:
        validate_timezone(timezone)
    except Exception as exc:  # django ValidationError with a message for the user
        raise TaxRequestError(f"“{timezone}” is not a known time zone (e.g. Europe/London).",
                              field="timezone") from exc
    return ResolvedSettings(jurisdiction, method, lp_treatment, timezone)


def _enqueue(report_id: int) -> None:
    from portfolios.tax_tasks import build_tax_report

    try:
        build_tax_report.delay(report_id=report_id)
    except Exception:  # broker down: the report stays pending; asking again re-enqueues it (REQUEUE_AFTER)
        logger.exception("could not enqueue tax report %s", report_id)


def tax_report_request(*, owner, year: int, portfolio: Portfolio | None = None, jurisdiction: str | None = None,
                       method: str | None = None, lp_treatment: str | None = None,
                       timezone: str | None = None) -> tuple[TaxReport, bool]:
    """The report for these inputs: the cached one, or a new one enqueued for building.

    Returns ``(report, queued)``; ``queued`` is true when a build was enqueued by
    this call (a new report, a failed one retried, or a lost message re-sent).
    ``portfolio`` must already be the owner's (``tax_selectors.portfolio_for_tax``)."""
    if portfolio is not None and portfolio.owner_id != owner.pk:
        raise TaxRequestError("This portfolio is not yours.", field="portfolio")
    resolved = tax_settings_resolve(user=owner, jurisdiction=jurisdiction, method=method,
                                    lp_treatment=lp_treatment, timezone=timezone)
    today = dj_timezone.now().date()
    if not FIRST_YEAR <= int(year) <= today.year:
        raise TaxRequestError(f"Choose a tax year between {FIRST_YEAR} and {today.year}.", field="year")
    year = int(year)
    inputs = ReportInputs(
        owner_id=owner.pk, portfolio_id=portfolio.pk if portfolio else None, year=year,
        jurisdiction=resolved.jurisdiction, method=resolved.method, lp_treatment=resolved.lp_treatment,
        timezone=resolved.timezone, fiat_currency=owner.fiat_currency,
        prices_day=prices_as_of(year=year, jurisdiction=resolved.jurisdiction, tz=resolved.timezone),
    )
    inputs_hash, fingerprint = tax_inputs_hash(inputs=inputs)
    now = dj_timezone.now()
    with transaction.atomic():
        report, created = TaxReport.objects.get_or_create(
            owner=owner, inputs_hash=inputs_hash,
            defaults={"portfolio": portfolio, "year": year, "jurisdiction": resolved.jurisdiction,
                      "method": resolved.method, "lp_treatment": resolved.lp_treatment,
                      "timezone": resolved.timezone, "fiat_currency": owner.fiat_currency,
                      "prices_as_of": inputs.prices_day, "leg_count": fingerprint.legs},
        )
        queued = created
        if report.status == S.FAILED:
            # Asked again with the same inputs: try again (the failure may have been transient).
            queued = bool(TaxReport.objects.filter(pk=report.pk, status=S.FAILED).update(
                status=S.PENDING, progress=0, error="", started_at=None, finished_at=None))
            report.refresh_from_db()
        elif report.status == S.PENDING and not created and report.created_at < now - REQUEUE_AFTER:
            queued = True
        elif report.status == S.RUNNING and report.started_at and report.started_at < now - STALE_AFTER:
            queued = True
        if queued:
            transaction.on_commit(partial(_enqueue, report.pk))
    return report, queued


# --------------------------------------------------------------------------- build


def tax_report_build(*, report_id: int) -> str:
    """Build one report; returns its final status, or ``"skipped"`` when another run
    holds (or finished) it. Safe to run twice."""
    claimed_at = dj_timezone.now()
    claimed = (TaxReport.objects.filter(pk=report_id)
               .filter(Q(status=S.PENDING) | Q(status=S.RUNNING, started_at__lt=claimed_at - STALE_AFTER))
               .update(status=S.RUNNING, started_at=claimed_at, progress=1, error="", finished_at=None))
    if not claimed:
        return "skipped"
    report = TaxReport.objects.select_related("owner", "portfolio").get(pk=report_id)
    mine = TaxReport.objects.filter(pk=report_id, status=S.RUNNING, started_at=claimed_at)

    def progress(percent: int) -> None:
        mine.update(progress=max(1, min(99, percent)))

    try:
        built = _build(report, progress)
    except TaxEngineError as exc:
        message = _explain(exc)
    except StaleInputs as exc:
        message = str(exc)
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
    return TaxReport.objects.filter(pk__in=old).delete()[1].get("portfolios.TaxReport", 0)


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
    return TaxSettings(method=report.method, jurisdiction=report.jurisdiction, timezone=report.timezone,
                       lp_treatment=report.lp_treatment, fiat_currency=report.fiat_currency)


def _build(report: TaxReport, progress) -> Built:
    started = clock.perf_counter()
    inputs = ReportInputs.of(report)
    label = inputs.tax_year
    total = max(report.leg_count, 1)
    marks = {"start": started}

    def lap(name: str) -> None:
        marks[name] = clock.perf_counter()

    progress(2)
    ledger = tax_ledger_load(owner_id=report.owner_id, portfolio_id=report.portfolio_id, until=inputs.cutoff,
                             on_progress=lambda rows: progress(2 + 48 * rows // total))
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
    disposals = tax_exports.sorted_disposals(result.disposals_in(label))
    income = result.income_in(label)
    end = year_end_cutoff(year=report.year, jurisdiction=report.jurisdiction, tz=report.timezone)
    rewards = _rewards(ledger, settings, end, label)
    position_ids = sorted({int(p) for p in _positions_named(ledger.transactions) if p.isdigit()})
    position_labels = {str(k): v for k, v in tax_position_labels(position_ids=position_ids).items()}
    progress(70)
    holdings, holdings_totals = _holdings(result.lots_at_end_of(label), ledger, report, position_labels)
    lap("rewards_holdings")
    first, last = tax_year_period(report.year, report.jurisdiction)
    summary = {
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
        "portfolio": report.portfolio.name if report.portfolio_id else None,
        "totals": year_summary(totals),
        "proceeds_by_asset": {k: str(cents(v)) for k, v in totals.proceeds_by_asset.items()},
        "counts": {"transactions": len(ledger.transactions), "legs": ledger.fingerprint.legs,
                   "disposals": len(disposals), "income_events": len(income)},
        "prices_as_of": report.prices_as_of.isoformat(),
        "holdings": holdings,
        "holdings_totals": holdings_totals,
        "rewards": [
            {"position": r.position or "", "position_label": _position_label(r.position, position_labels),
             "asset": r.asset, "month": r.month, "quantity": tax_exports.quantity(r.quantity),
             "value_at_receipt": str(cents(r.value_at_receipt)), "events": r.events}
            for r in rewards
        ],
        "asset_tokens": ledger.asset_tokens,
        "in_transit": {k: tax_exports.quantity(v) for k, v in result.in_transit.items()},
        "warnings": list(result.warnings),
    }
    del ledger  # the biggest object; the files only need the records
    slug = f"yieldledger-tax-{label.replace('/', '-')}-{report.jurisdiction}-{report.method}"
    files = [("csv-disposals", f"{slug}-disposals.csv", "text/csv; charset=utf-8",
              tax_exports.disposals_csv(disposals, jurisdiction=report.jurisdiction))]
    progress(75)
    files.append(("csv-income", f"{slug}-income.csv", "text/csv; charset=utf-8",
                  tax_exports.income_csv(income, position_labels=position_labels,
                                         jurisdiction=report.jurisdiction)))
    progress(80)
    lap("csv")
    owner = report.owner
    user_label = f"{owner.name} <{owner.email}>" if owner.name else owner.email
    summary["build_seconds"] = f"{clock.perf_counter() - started:.2f}"
    files.append(("pdf", f"{slug}-summary.pdf", "application/pdf",
                  tax_exports.summary_pdf(summary, disposals, user_label=user_label,
                                          generated_at=dj_timezone.now().astimezone(UTC))))
    lap("pdf")
    names = list(marks)
    # A list, not an object: jsonb does not keep key order.
    summary["timings"] = [[name, f"{marks[name] - marks[prev]:.2f}"]
                          for prev, name in zip(names, names[1:], strict=False)]
    progress(95)
    return Built(summary, files, summary["counts"]["legs"])


def _positions_named(transactions: list[TxIn]) -> set[str]:
    return {tx.position for tx in transactions if tx.position}


def _position_label(key: str | None, labels: dict[str, str]) -> str:
    if not key:
        return ""
    return labels.get(key, f"Position {key}")


def _rewards(ledger: Ledger, settings: TaxSettings, end: datetime, label: str):
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
            only.append(TxIn(tx.ref, tx.occurred_at, "reward", legs, tx.income_type, tx.position))
    events = [e for e in compute(only, settings).income if e.tax_year <= label]
    return rewards_summary(events, {}, None)


def _asset_label(asset: str, position_labels: dict[str, str]) -> tuple[str, str, bool]:
    """(label, base asset for its price, is a position receipt)."""
    if asset.startswith("LP#"):
        key = asset[3:]
        return f"LP receipt of {_position_label(key, position_labels)}", asset, True
    if "@" in asset:
        base, _, where = asset.partition("@")
        place = _position_label(where, position_labels) if where.isdigit() else where
        return f"{base} deposited in {place}", base, False
    return asset, asset, False


def _holdings(lots, ledger: Ledger, report: TaxReport, position_labels: dict[str, str]):
    per_asset: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    # Sums in an unrounded context: lot quantities can carry more than the
    # default context's 28 significant digits (the engine keeps them exact).
    exact = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
    for lot in lots:
        if lot.quantity:
            per_asset[lot.asset][0] = exact.add(per_asset[lot.asset][0], lot.quantity)
            per_asset[lot.asset][1] = exact.add(per_asset[lot.asset][1], lot.cost_basis)
    described = {asset: _asset_label(asset, position_labels) for asset in per_asset}
    token_ids = sorted({ledger.asset_tokens[base] for _, base, receipt in described.values()
                        if not receipt and base in ledger.asset_tokens})
    running = report.prices_as_of >= dj_timezone.now().date() - timedelta(days=1)
    prices = tax_prices_at(token_ids=token_ids, day=report.prices_as_of, latest_fallback=running)
    rows = []
    cost_total = value_total = gain_total = Decimal(0)
    unpriced: list[str] = []
    for asset in sorted(per_asset):
        qty, cost = per_asset[asset]
        label, base, receipt = described[asset]
        token_id = None if receipt else ledger.asset_tokens.get(base)
        price = prices.get(token_id) if token_id is not None else None
        row = {"asset": asset, "label": label, "quantity": tax_exports.quantity(qty),
               "cost_basis": str(cents(cost)), "priced": price is not None,
               "price": None, "price_date": None, "value": None, "unrealised_gain": None}
        if price is None:
            unpriced.append(asset)
        else:
            value = qty * price.price
            row.update(price=tax_exports.quantity(price.price), price_date=price.day.isoformat(),
                       value=str(cents(value)), unrealised_gain=str(cents(value - cost)))
            cost_total += cost
            value_total += value
            gain_total += value - cost
        rows.append(row)
    totals = {"cost_basis": str(cents(cost_total)), "value": str(cents(value_total)),
              "unrealised_gain": str(cents(gain_total)), "unpriced": unpriced,
              "cost_basis_all": str(cents(sum((v[1] for v in per_asset.values()), Decimal(0))))}
    return rows, totals

