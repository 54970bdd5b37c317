"""Tax reports: one row per requested report, its files beside it.

A ``TaxReport`` is keyed by a hash of everything it is computed from
(``inputs_hash``: the owner's transactions and legs up to the end of the tax
year, the settings, the date prices are read at, and the code version; see
``portfolios.tax.inputs.tax_inputs_hash``). Asking again with the same
inputs finds the same row; any change to a transaction, a leg or a setting
gives a new hash and so a new report. Rows are built by
``portfolios.tax.tasks.build_tax_report`` (pending -> running -> done/failed).

The tables kept the names they had when these models lived in the portfolios
app (``db_table``); migration tax.0001 took the models over without touching them.

Files (Form 8949-style disposals CSV, income CSV, PDF summary) are stored in
the database (``TaxReportFile.content``, bytea), not in MEDIA storage: they
are written in the same transaction that marks the report done (no report
without its files, no orphan files), every web and worker machine sees them
without shared storage, and they go with the report when it is deleted.
A 100,000-transaction ledger gives a few MB; PostgreSQL compresses them
(TOAST). ``summary`` holds the totals as JSON with Decimals as strings.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.models import CostBasisMethod, Jurisdiction, LpTreatment
from config.heartbeat import HeartbeatFields
from portfolios.tax.engine.years import tax_year_bounds, tax_year_label


class TaxReport(HeartbeatFields, models.Model):
    """A requested report. While ``running`` its worker heartbeats (``heartbeat_at``); a build
    whose worker dies is put back to ``pending`` and queued again by the reaper
    (``portfolios.tax.reaping``), up to ``MAX_ATTEMPTS`` builds, then ``failed``."""

    MAX_ATTEMPTS = 3

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Being built"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tax_reports",
                              db_index=False)  # covered by tax_report_owner_inputs_uniq / tax_report_list_idx
    # Null: all the owner's portfolios together (lots are per person); else that portfolio alone.
    portfolio = models.ForeignKey("portfolios.Portfolio", on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="tax_reports")
    # First calendar year of the tax year: 2024 is "2024" (US/other) or "2024/25" (UK, 6 April - 5 April).
    year = models.PositiveSmallIntegerField()
    jurisdiction = models.CharField(max_length=8, choices=Jurisdiction.choices)
    method = models.CharField(max_length=8, choices=CostBasisMethod.choices)
    lp_treatment = models.CharField(max_length=12, choices=LpTreatment.choices)
    timezone = models.CharField(max_length=64)
    fiat_currency = models.CharField(max_length=3, default="USD")
    lots_per_wallet_from = models.DateField(null=True, blank=True)  # the owner's preference when requested
    # Holdings at the year end are valued with prices of this day (the year end, or
    # today while the year is still running); part of the inputs hash.
    prices_as_of = models.DateField()

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)  # 0-100
    inputs_hash = models.CharField(max_length=64)
    leg_count = models.PositiveIntegerField(default=0)  # legs read (at request time; the build re-checks)
    summary = models.JSONField(default=dict, blank=True)  # Decimals as strings
    error = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)  # also the claim token of the running build
    attempts = models.PositiveSmallIntegerField(default=0, editable=False,
                                                help_text="Builds started (a killed worker's build counts).")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "portfolios_taxreport"  # created by portfolios.0004, before tax was an app of its own
        ordering = ["-created_at", "-id"]
        constraints = [
            # The cache: one report per owner and inputs (settings, portfolio and year are in the hash).
            # Also the index of the cache lookup in services.tax_report_request.
            models.UniqueConstraint(fields=["owner", "inputs_hash"], name="tax_report_owner_inputs_uniq"),
            models.CheckConstraint(condition=Q(status__in=["pending", "running", "done", "failed"]),
                                   name="tax_report_status_valid"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="tax_report_progress_max_100"),
            models.CheckConstraint(
                condition=Q(jurisdiction="uk", method="uk") | (~Q(jurisdiction="uk") & ~Q(method="uk")),
                name="tax_report_uk_pooling_iff_uk",
                violation_error_message="UK share pooling applies to, and only to, the UK jurisdiction."),
            models.CheckConstraint(condition=~Q(status="done") | Q(progress=100, finished_at__isnull=False),
                                   name="tax_report_done_is_finished"),
        ]
        indexes = [
            # selectors.tax_reports_for_user (web list, API list): the owner's newest first.
            models.Index(F("owner"), F("created_at").desc(), F("id").desc(), name="tax_report_list_idx"),
            # config.heartbeat.reap (every minute): running builds whose heartbeat stopped.
            models.Index(fields=["heartbeat_at"], name="tax_report_running_idx", condition=Q(status="running")),
        ]

    def __str__(self) -> str:
        return f"Tax report {self.tax_year} ({self.jurisdiction}, {self.method}) #{self.pk}"

    @property
    def tax_year(self) -> str:
        """The engine's label: "2024" or, in the UK, "2024/25"."""
        return tax_year_label(self.year, self.jurisdiction)

    @property
    def period(self) -> tuple[date, date]:
        """First and last local date of the tax year."""
        return tax_year_bounds(self.tax_year, self.jurisdiction)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class TaxReportFile(models.Model):
    class Kind(models.TextChoices):
        CSV_DISPOSALS = "csv-disposals", "Disposals (Form 8949-style CSV)"
        CSV_INCOME = "csv-income", "Income (CSV)"
        PDF = "pdf", "Summary for your accountant (PDF)"

    report = models.ForeignKey(TaxReport, on_delete=models.CASCADE, related_name="files",
                               db_index=False)  # covered by tax_report_file_kind_uniq
    kind = models.CharField(max_length=16, choices=Kind.choices)
    filename = models.CharField(max_length=160)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "portfolios_taxreportfile"  # as TaxReport
        ordering = ["report", "kind"]
        constraints = [
            # One file of each kind per report; also the index of the download lookup.
            models.UniqueConstraint(fields=["report", "kind"], name="tax_report_file_kind_uniq"),
            models.CheckConstraint(condition=Q(kind__in=["csv-disposals", "csv-income", "pdf"]),
                                   name="tax_report_file_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.filename
