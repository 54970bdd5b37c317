"""Serializers of /api/v1/tax-reports/: the request in, the report out."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers
from rest_framework.request import Request

from portfolios.tax import selectors as sel
from portfolios.tax.models import TaxReport


class TaxReportIn(serializers.Serializer):
    year = serializers.CharField(max_length=7, help_text='First year of the tax year: 2024 (UK: 2024 or "2024/25").')
    jurisdiction = serializers.CharField(required=False, max_length=8, help_text="us, uk or other; default: yours")
    method = serializers.CharField(required=False, max_length=8,
                                   help_text="fifo, lifo, hifo or average (the UK always uses uk); default: yours")
    lp_treatment = serializers.CharField(required=False, max_length=12, help_text="nontaxable or disposal")
    timezone = serializers.CharField(required=False, max_length=64, help_text="e.g. Europe/London; default: yours")
    portfolio = serializers.IntegerField(required=False, allow_null=True,
                                         help_text="one of your portfolios; omit for all of them")

    def validate_year(self, value: str) -> int:
        text = value.strip()
        head = text.split("/")[0].split("-")[0]
        if not (head.isdigit() and len(head) == 4):
            raise serializers.ValidationError('Write the year like 2024 (or "2024/25" for the UK).')
        return int(head)


class TaxReportOut(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    status = serializers.CharField(help_text="pending, running, done or failed")
    progress = serializers.IntegerField(help_text="0-100")
    year = serializers.IntegerField()
    tax_year = serializers.CharField(help_text='"2024" or, in the UK, "2024/25"')
    jurisdiction = serializers.CharField()
    method = serializers.CharField()
    lp_treatment = serializers.CharField()
    timezone = serializers.CharField()
    fiat_currency = serializers.CharField(help_text="the report's currency (same as `currency`)")
    currency = serializers.CharField(
        source="fiat_currency",
        help_text="ISO 4217 currency of every money figure of the report: GBP in the UK, USD in the US, "
                  "else your currency. Values entered in another currency are converted at the ECB rate of "
                  "their transaction's date (summary.fx lists the rates and days used).")
    portfolio = serializers.IntegerField(source="portfolio_id", allow_null=True)
    prices_as_of = serializers.DateField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(help_text="why the build failed (empty otherwise)")

    def get_url(self, obj: TaxReport) -> str:
        return _absolute(self.context.get("request"), reverse("tax-report-detail", args=[obj.pk]))


def _absolute(request: Request | None, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


class TaxReportDetailOut(TaxReportOut):
    summary = serializers.SerializerMethodField(
        help_text="when done: totals, breakdowns, holdings, rewards (money as strings in `currency`); "
                  "fx: {currency, source, converted_legs, days, fallback_days, rates: [{day, from, to, rate, "
                  "rate_day, fallback, ...}]} - the ECB rates used, a weekend or holiday taking the day before's; "
                  "asset_names: receipt assets (LP#12) by the names people read; "
                  "gifts: [{direction (given, received), category (gift, gift_spouse), category_label, "
                  "occurred_at, asset, asset_label, quantity, cost_basis (that left, or that a gift received "
                  "starts with), market_value (null: unknown), disposal (also a disposal at market value: UK), "
                  "currency, transaction_id, transaction}] - transfers categorised as gifts")
    files = serializers.SerializerMethodField(help_text="when done: file kind -> download URL")
    complete = serializers.SerializerMethodField(
        help_text="when done: false if some disposal had no recorded acquisition (missing cost basis, counted at "
                  "zero cost: see summary.missing_basis), so the totals are incomplete; null until done")

    def get_summary(self, obj: TaxReport) -> dict | None:
        return obj.summary if obj.status == TaxReport.Status.DONE else None

    def get_complete(self, obj: TaxReport) -> bool | None:
        if obj.status != TaxReport.Status.DONE:
            return None
        return bool(obj.summary.get("complete", True))

    def get_files(self, obj: TaxReport) -> dict[str, str]:
        request = self.context.get("request")
        return {kind: _absolute(request, reverse("tax-report-file", args=[obj.pk, kind]))
                for kind in sel.tax_report_file_kinds(report=obj)}
