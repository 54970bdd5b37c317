"""Tax pages: /tax/ (request a report, list yours), a report, its downloads.

Thin: a form validates, ``services.tax_report_request`` finds or enqueues
the report, ``selectors`` read. A report that is still being built
refreshes itself every two seconds with ``<meta http-equiv="refresh">`` (no
script, CSP-safe). Another user's report is a 404.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import CostBasisMethod, Jurisdiction, LpTreatment
from config.charts import bar_chart
from portfolios.selectors import portfolio_list_for_user, transactions_for_user
from portfolios.tax import selectors as sel
from portfolios.tax.engine.years import iter_months
from portfolios.tax.exports import INCOME_TYPE_LABELS
from portfolios.tax.models import TaxReport, TaxReportFile
from portfolios.tax.services import TaxRequestError, tax_report_request

ROWS_PER_PAGE = 100
_TX_REF = re.compile(r"#(\d{1,18})\b")
#: Columns of the downloaded CSVs shown on the page (name, label, is money); the CSVs have more.
DISPOSAL_DISPLAY = [
    ("(a) Description of property", "Description", False),
    ("(b) Date acquired", "Acquired", False),
    ("(c) Date sold or disposed of", "Sold", False),
    ("(d) Proceeds", "Proceeds", True),
    ("(e) Cost or other basis", "Cost basis", True),
    ("(h) Gain or (loss)", "Gain or (loss)", True),
    ("Term", "Term", False),
    ("Matching rule", "Rule", False),
    ("Transactions", "Transactions", False),
]
UK_DISPOSAL_DISPLAY = [
    ("Matching rule", "Matching rule", False),
    ("Date of disposal", "Date of disposal", False),
    ("Asset", "Asset", False),
    ("Quantity", "Quantity", False),
    ("Date acquired", "Acquired", False),
    ("Disposal proceeds", "Disposal proceeds", True),
    ("Allowable costs", "Allowable costs", True),
    ("Gain", "Gain", True),
    ("Loss", "Loss", True),
    ("Transactions", "Transactions", False),
]
#: Exchange-rate rows shown on the page (the days that fell back to an earlier rate first); the API has all.
FX_ROWS = 100
INCOME_DISPLAY = [
    ("Date received", "Received", False),
    ("Income type", "Type", False),
    ("Asset", "Asset", False),
    ("Quantity", "Quantity", False),
    ("Fair market value", "Value when received", True),
    ("Position", "Position", False),
    ("Transaction", "Transaction", False),
]
TRANSACTION_COLUMNS = {"Transactions", "Transaction"}  # cells of "#id" references, linked
NON_UK_METHODS = [(v, label) for v, label in CostBasisMethod.choices if v != CostBasisMethod.UK]


class TaxReportForm(forms.Form):
    year = forms.TypedChoiceField(coerce=int, label="Tax year",
                                  help_text="UK tax years run 6 April to 5 April: 2024 means 2024/25.")
    jurisdiction = forms.ChoiceField(choices=Jurisdiction.choices)
    method = forms.ChoiceField(choices=CostBasisMethod.choices, label="Cost-basis method",
                               help_text="The UK always uses UK share pooling (same day, 30 days, Section 104).")
    lp_treatment = forms.ChoiceField(choices=[(LpTreatment.NONTAXABLE, "Not taxable: cost basis moves"),
                                              (LpTreatment.DISPOSAL, "Disposals at market value")],
                                     label="DeFi LP treatment",
                                     help_text="How LP and staking deposits and withdrawals are treated.")
    portfolio = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Portfolios")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        tz = user.timezone or "UTC"
        years = sel.tax_years_for_user(user=user, jurisdiction="us", tz=tz)
        uk_years = sel.tax_years_for_user(user=user, jurisdiction="uk", tz=tz)
        self.fields["year"].choices = [(y, str(y)) for y in sorted(set(years) | set(uk_years), reverse=True)]
        self.portfolios = list(portfolio_list_for_user(user=user))
        self.fields["portfolio"].choices = [("", "All portfolios")] + [(p.pk, p.name) for p in self.portfolios]

    def clean(self):
        data = super().clean()
        if data.get("jurisdiction") == Jurisdiction.UK:
            data["method"] = CostBasisMethod.UK  # the UK forces share pooling
        elif data.get("method") == CostBasisMethod.UK:
            self.add_error("method", "UK share pooling applies only to the UK jurisdiction.")
        return data

    def portfolio_object(self):
        pk = self.cleaned_data.get("portfolio")
        return next((p for p in self.portfolios if p.pk == pk), None) if pk else None


def _initial(user, years: list) -> dict:
    return {"year": years[1][0] if len(years) > 1 else (years[0][0] if years else None),
            "jurisdiction": user.tax_jurisdiction, "method": user.cost_basis_method,
            "lp_treatment": user.lp_treatment, "portfolio": ""}


@login_required
@require_http_methods(["GET", "POST"])
def home(request):
    if request.method == "POST":
        form = TaxReportForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report, _ = tax_report_request(
                    owner=request.user, year=data["year"], portfolio=form.portfolio_object(),
                    jurisdiction=data["jurisdiction"], method=data["method"], lp_treatment=data["lp_treatment"])
            except TaxRequestError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                return redirect("tax:report", report_id=report.pk)
    else:
        form = TaxReportForm(user=request.user)
        form.initial = _initial(request.user, form.fields["year"].choices)
    reports = list(sel.tax_reports_for_user(user=request.user)[:20])
    return render(request, "tax/home.html", {"form": form, "reports": reports})


def _table(request, header: list[str], rows: list[list[str]], display, param: str):
    """One page of a CSV's rows, reduced to the displayed columns: (labels, page, rows of
    (text, is_money, is_transaction)); transaction columns are shown as links."""
    wanted = [(header.index(name), label, is_money) for name, label, is_money in display if name in header]
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get(param))
    cells = [
        [(row[i] if i < len(row) else "", is_money, label in TRANSACTION_COLUMNS) for i, label, is_money in wanted]
        for row in page.object_list
    ]
    return {"labels": [(label, is_money) for _, label, is_money in wanted], "page": page, "rows": cells,
            "param": param}


@login_required
def report(request, report_id: int):
    obj = sel.tax_report_get_for_user(user=request.user, report_id=report_id)
    context = {"report": obj, "summary": obj.summary, "refresh": not obj.is_finished}
    if obj.status == TaxReport.Status.FAILED:
        # The transactions an error names ("Transaction #16 ..."), as links - only the user's own.
        named = sorted({int(n) for n in _TX_REF.findall(obj.error or "")})[:10]
        context["error_transactions"] = sorted(
            transactions_for_user(user=request.user).filter(pk__in=named).values_list("pk", flat=True)
        ) if named else []
    if obj.status == TaxReport.Status.DONE:
        summary = obj.summary
        totals = summary["totals"]
        first, last = obj.period
        by_month = totals["income_by_month"]
        months: list[tuple[str, Decimal | float | int]] = [
            (m, Decimal(by_month.get(m, "0"))) for m in iter_months(first, last)]
        d_header, d_rows = sel.tax_report_csv_page(report=obj, kind=TaxReportFile.Kind.CSV_DISPOSALS)
        sa108: list[tuple[str, str, str]] = []
        if d_header and d_header[0].startswith("Capital gains summary"):
            # The UK file opens with HMRC's summary, then an empty line, then the disposals' header.
            blank = next((i for i, row in enumerate(d_rows) if not row), len(d_rows))
            sa108 = [(row[0], row[1], row[2] if len(row) > 2 else "") for row in d_rows[:blank]]
            d_header, d_rows = (d_rows[blank + 1], d_rows[blank + 2:]) if blank + 1 < len(d_rows) else ([], [])
        fx_rates = (summary.get("fx") or {}).get("rates", [])
        fx_listed = sorted(fx_rates, key=lambda r: (not r["fallback"], r["day"]))[:FX_ROWS]
        i_header, i_rows = sel.tax_report_csv_page(report=obj, kind=TaxReportFile.Kind.CSV_INCOME)
        rewards, rewards_totals = sel.tax_report_rewards(report=obj)
        context.update(
            totals=totals,
            # (PostgreSQL's jsonb does not keep key order: sort here.)
            income_chart=bar_chart(months, title=f"Income by month, tax year {obj.tax_year}", width=640),
            income_by_type=[(INCOME_TYPE_LABELS.get(k, k), v) for k, v in sorted(totals["income_by_type"].items())],
            gain_by_asset=[(k, summary.get("proceeds_by_asset", {}).get(k), v)
                           for k, v in sorted(totals["gain_by_asset"].items())],
            income_by_asset=sorted(totals["income_by_asset"].items()),
            disposals=_table(request, d_header, d_rows,
                             UK_DISPOSAL_DISPLAY if obj.jurisdiction == "uk" else DISPOSAL_DISPLAY, "page"),
            sa108=sa108,
            fx_rows=[{**r, "rate_short": f"{Decimal(r['rate']):.6f}"}
                     for r in sorted(fx_listed, key=lambda r: r["day"])],
            fx_more=max(0, len(fx_rates) - len(fx_listed)),
            income=_table(request, i_header, i_rows, INCOME_DISPLAY, "income_page"),
            rewards=rewards, rewards_totals=rewards_totals,
            is_current=sel.tax_report_is_current(report=obj),
            downloads=[(k, TaxReportFile.Kind(k).label) for k in sel.tax_report_file_kinds(report=obj)],
        )
    return render(request, "tax/report.html", context)


@login_required
@require_http_methods(["POST"])
def rebuild(request, report_id: int):
    """The same settings over the ledger as it is now (a new report if anything changed)."""
    obj = sel.tax_report_get_for_user(user=request.user, report_id=report_id)
    try:
        fresh, _ = tax_report_request(owner=request.user, year=obj.year, portfolio=obj.portfolio,
                                      jurisdiction=obj.jurisdiction, method=obj.method,
                                      lp_treatment=obj.lp_treatment, timezone=obj.timezone)
    except TaxRequestError as exc:
        messages.error(request, str(exc))
        return redirect("tax:report", report_id=obj.pk)
    return redirect("tax:report", report_id=fresh.pk)


@login_required
def download(request, report_id: int, kind: str):
    obj = sel.tax_report_get_for_user(user=request.user, report_id=report_id)
    if kind not in TaxReportFile.Kind.values:
        raise Http404("Unknown file.")
    file = sel.tax_report_file_get(report=obj, kind=kind)
    response = HttpResponse(bytes(file.content), content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response["Content-Length"] = str(file.size)
    response["Cache-Control"] = "private, no-store"
    return response
