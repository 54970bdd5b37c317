"""Tax summary of a transactions CSV, for power users and accountants.

    python manage.py tax_report FILE --format koinly|native --year 2024 \\
        --jurisdiction us|uk|other --method fifo|lifo|hifo|average|uk \\
        [--lp-treatment nontaxable|disposal] [--timezone Europe/London] [--fiat USD] [--json] [--strict]

Reads the file with ``portfolios.csvformats`` and runs the pure engine; it
touches no user's data (no database query at all). ``--json`` prints
``{"settings", "tax_year", "summary", "disposals", "income", "in_transit",
"warnings"}`` with every amount as a string; without it a short text summary.
Row errors (and engine errors) are listed on stderr and the command exits
with status 1.  A disposal of more than the file shows as held ("missing cost
basis") is computed at a zero cost for the uncovered quantity and listed
(``missing_basis`` and ``"complete": false`` in the JSON, a warning on stderr);
``--strict`` makes it an error as before.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portfolios.csvformats import parse_koinly, parse_native
from portfolios.tax.engine import (
    JURISDICTIONS,
    LP_TREATMENTS,
    METHODS,
    TaxEngineError,
    TaxSettings,
    compute,
    disposal_rows,
    income_rows,
    normalize_tax_year,
    year_summary,
)
from portfolios.tax.engine.years import tax_year_label


class Command(BaseCommand):
    help = "Compute a tax year's summary and disposals from a transactions CSV (no database access)."
    # No system checks, no migration check: the command must not need (or touch) the database.
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (use - for standard input)")
        parser.add_argument("--format", choices=["native", "koinly"], default="native", dest="fmt")
        parser.add_argument("--year", required=True, help="2024, or for the UK 2024 / 2024/25 (6 April - 5 April)")
        parser.add_argument("--jurisdiction", choices=JURISDICTIONS, default="us")
        parser.add_argument("--method", choices=METHODS, default=None,
                            help="default: uk for the UK jurisdiction, else fifo")
        parser.add_argument("--lp-treatment", choices=LP_TREATMENTS, default="nontaxable")
        parser.add_argument("--timezone", default=None, help="default: Europe/London for the UK, else UTC")
        parser.add_argument("--fiat", default="USD", help="the currency fiat values are in (default USD)")
        parser.add_argument("--json", action="store_true", help="print JSON (amounts as strings)")
        parser.add_argument("--strict", action="store_true",
                            help="fail on a disposal of more than is held, instead of a zero-cost warning")

    def handle(self, *args, **options):
        jurisdiction = options["jurisdiction"]
        method = options["method"] or ("uk" if jurisdiction == "uk" else "fifo")
        if (jurisdiction == "uk") != (method == "uk"):
            raise CommandError("UK share pooling (--method uk) goes with, and only with, --jurisdiction uk.")
        timezone = options["timezone"] or ("Europe/London" if jurisdiction == "uk" else "UTC")
        fiat = options["fiat"].upper()
        try:
            settings = TaxSettings(method=method, jurisdiction=jurisdiction, timezone=timezone,
                                   lp_treatment=options["lp_treatment"], fiat_currency=fiat,
                                   missing_basis="error" if options["strict"] else "zero")
        except (ValueError, LookupError) as exc:
            raise CommandError(str(exc)) from exc
        year = options["year"].strip()
        if jurisdiction == "uk" and year.isdigit():
            year = tax_year_label(int(year), jurisdiction)
        try:
            label = normalize_tax_year(year, jurisdiction)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        source = options["file"]
        try:
            data = self.stdin.buffer.read() if source == "-" and hasattr(self, "stdin") else Path(source).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror or exc}") from exc
        if options["fmt"] == "koinly":
            transactions, errors = parse_koinly(data, fiat_currency=fiat)
        else:
            transactions, errors = parse_native(data)
        if errors:
            for error in errors:
                self.stderr.write(f"row {error.row_number}, {error.field}: {error.message}")
            raise CommandError(f"{len(errors)} row error{'s' if len(errors) != 1 else ''} in {source}; "
                               "nothing was computed.")
        try:
            report = compute(transactions, settings, tax_year=label)
        except TaxEngineError as exc:
            raise CommandError(str(exc)) from exc

        summary = year_summary(report.year(label))
        missing = report.missing_basis_until(label)
        for m in missing:
            self.stderr.write(f"warning: transaction {m.tx_ref}: missing cost basis for {format(m.quantity, 'f')} "
                              f"{m.asset} (only {format(m.held, 'f')} held); counted at zero cost. Add the "
                              "acquisition to the file, or use --strict to make this an error.")
        if options["json"]:
            payload = {
                "settings": {"jurisdiction": jurisdiction, "method": method, "lp_treatment": settings.lp_treatment,
                             "timezone": timezone, "fiat_currency": fiat},
                "tax_year": label,
                "transactions_read": len(transactions),
                "summary": summary,
                "disposals": disposal_rows(report, label),
                "income": income_rows(report, label),
                "in_transit": {k: format(v, "f") for k, v in report.in_transit.items()},
                "warnings": list(report.warnings),
                "complete": not missing,
                "missing_basis": [
                    {"ref": m.tx_ref, "asset": m.asset, "quantity_uncovered": format(m.quantity, "f"),
                     "quantity_held": format(m.held, "f"), "occurred_at": m.occurred_at.isoformat(),
                     "tax_year": m.tax_year}
                    for m in missing
                ],
            }
            self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        self.stdout.write(f"Tax year {label} ({jurisdiction}, {method}, LP {settings.lp_treatment}, {timezone}); "
                          f"{len(transactions)} transactions read")
        if missing:
            self.stdout.write(f"  INCOMPLETE: {len(missing)} disposal{'s' if len(missing) != 1 else ''} with missing "
                              "cost basis (counted at zero cost; see the warnings)")
        for key in ("proceeds", "cost_basis", "gain_short", "gain_long", "gain", "income_total"):
            self.stdout.write(f"  {key.replace('_', ' '):<12} {summary[key]:>16} {fiat}")
        self.stdout.write(f"  disposals    {summary['disposal_count']:>16}")
        for income_type, amount in summary["income_by_type"].items():
            self.stdout.write(f"  income: {income_type:<20} {amount:>12} {fiat}")
        for warning in report.warnings:
            self.stdout.write(f"  warning: {warning}")
