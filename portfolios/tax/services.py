"""Every write of the tax reports that a request makes: resolve the settings, find or enqueue.

``tax_report_request`` resolves the settings (the user's preferences fill
what is not given; UK always means UK share pooling), hashes the inputs
(``inputs.tax_inputs_hash``) and finds or creates the report keyed by
that hash. A new report - or a failed one asked for again, or one whose
message to the worker seems lost - is enqueued once the database
transaction commits (``build_tax_report.delay_on_commit``). Asking twice
with unchanged inputs returns the same report and computes nothing.

The build itself (run by the task) is in ``build.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone as dj_timezone

from accounts.models import CostBasisMethod, Jurisdiction, LpTreatment, validate_timezone
from portfolios.models import Portfolio
from portfolios.tax.build import STALE_AFTER
from portfolios.tax.inputs import ReportInputs, prices_as_of, report_currency, tax_inputs_hash
from portfolios.tax.models import TaxReport
from portfolios.tax.tasks import build_tax_report

#: A pending report older than this is enqueued again when asked for (its message may be lost);
#: a duplicate delivery is harmless (the claim).
REQUEUE_AFTER = timedelta(minutes=5)
FIRST_YEAR = 2009

S = TaxReport.Status


class TaxRequestError(Exception):
    """A request that cannot be served; the message is for the user, ``field`` names the input."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field



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


def tax_report_request(*, owner, year: int, portfolio: Portfolio | None = None, jurisdiction: str | None = None,
                       method: str | None = None, lp_treatment: str | None = None,
                       timezone: str | None = None) -> tuple[TaxReport, bool]:
    """The report for these inputs: the cached one, or a new one enqueued for building.

    Returns ``(report, queued)``; ``queued`` is true when a build was enqueued by
    this call (a new report, a failed one retried, or a lost message re-sent).
    ``portfolio`` must already be the owner's (``portfolios.selectors.portfolio_get_for_user``)."""
    if portfolio is not None and portfolio.owner_id != owner.pk:
        raise TaxRequestError("This portfolio is not yours.", field="portfolio")
    resolved = tax_settings_resolve(user=owner, jurisdiction=jurisdiction, method=method,
                                    lp_treatment=lp_treatment, timezone=timezone)
    today = dj_timezone.now().date()
    if not FIRST_YEAR <= int(year) <= today.year:
        raise TaxRequestError(f"Choose a tax year between {FIRST_YEAR} and {today.year}.", field="year")
    year = int(year)
    currency = report_currency(jurisdiction=resolved.jurisdiction, user_currency=owner.fiat_currency)
    # Lots per wallet (the owner's preference) apply to lot methods, never to UK pooling.
    per_wallet = owner.lots_per_wallet_from if resolved.method != CostBasisMethod.UK else None
    inputs = ReportInputs(
        owner_id=owner.pk, portfolio_id=portfolio.pk if portfolio else None, year=year,
        jurisdiction=resolved.jurisdiction, method=resolved.method, lp_treatment=resolved.lp_treatment,
        timezone=resolved.timezone, fiat_currency=currency,
        prices_day=prices_as_of(year=year, jurisdiction=resolved.jurisdiction, tz=resolved.timezone),
        lots_per_wallet_from=per_wallet,
    )
    inputs_hash, fingerprint = tax_inputs_hash(inputs=inputs)
    now = dj_timezone.now()
    with transaction.atomic():
        report, created = TaxReport.objects.get_or_create(
            owner=owner, inputs_hash=inputs_hash,
            defaults={"portfolio": portfolio, "year": year, "jurisdiction": resolved.jurisdiction,
                      "method": resolved.method, "lp_treatment": resolved.lp_treatment,
                      "timezone": resolved.timezone, "fiat_currency": currency,
                      "prices_as_of": inputs.prices_day, "leg_count": fingerprint.legs,
                      "lots_per_wallet_from": per_wallet},
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
            build_tax_report.delay_on_commit(report_id=report.pk)
    return report, queued

