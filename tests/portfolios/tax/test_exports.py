"""The files: Form 8949-style disposals CSV, income CSV, the PDF summary (read back with pypdf)."""

import csv
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portfolios.tax.exports import DISPOSAL_COLUMNS, summary_pdf
from portfolios.tax.models import TaxReportFile

pytestmark = pytest.mark.django_db


def _file(report, kind) -> bytes:
    return bytes(TaxReportFile.objects.get(report=report, kind=kind).content)


def _rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_disposals_csv_has_form_8949_columns_short_term_rows_first(owner, ledger, build):
    content = _file(build(owner), "csv-disposals")
    assert content.startswith("\ufeff".encode())
    header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == DISPOSAL_COLUMNS
    rows = _rows(content)
    assert [(r["Part"], r["(a) Description of property"], r["(b) Date acquired"], r["(c) Date sold or disposed of"],
             r["(d) Proceeds"], r["(e) Cost or other basis"], r["(h) Gain or (loss)"]) for r in rows] == [
        ("Part I (short-term)", "0.5 ETH", "01/10/2024", "06/01/2024", "1900.00", "1250.00", "650.00"),
        ("Part I (short-term)", "50 CRV", "02/15/2024", "07/01/2024", "30.00", "40.00", "-10.00"),
        ("Part II (long-term)", "1.5 ETH", "03/01/2023", "04/01/2024", "5250.00", "2257.50", "2992.50"),
        ("Part II (long-term)", "0.5 ETH", "03/01/2023", "06/01/2024", "1900.00", "752.50", "1147.50"),
    ]
    assert {r["(f) Adjustment code"] for r in rows} == {r["(g) Adjustment amount"] for r in rows} == {""}
    assert rows[0]["Transactions"] == f"#{ledger[5].pk}"
    assert sum(Decimal(r["(h) Gain or (loss)"]) for r in rows) == Decimal("4780.00")


def test_uk_disposals_use_iso_dates_and_name_the_matching_rule(owner, ledger, build, ecb_rates):
    content = _file(build(owner, jurisdiction="uk"), "csv-disposals")
    lines = content.decode("utf-8-sig").splitlines()
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[lines.index(""):]).strip())))
    assert rows and rows[0]["Date of disposal"] == "2024-06-01"
    assert {r["Matching rule"] for r in rows} <= {"Same day", "Bed and breakfast (30 days)", "Section 104 pool"}
    assert {r["Currency"] for r in rows} == {"GBP"}


def test_the_income_csv_lists_each_reward_at_its_value_when_received(owner, ledger, build):
    rows = _rows(_file(build(owner), "csv-income"))
    assert [(r["Date received"], r["Income type"], r["Asset"], r["Quantity"], r["Fair market value"]) for r in rows] \
        == [("02/15/2024", "Liquidity mining", "CRV", "100", "80.00"),
            ("03/15/2024", "Staking", "ETH", "0.05", "150.00")]


def test_the_pdf_shows_the_settings_and_the_totals(owner, ledger, build):
    text = _pdf_text(_file(build(owner), "pdf"))
    for expected in ("Tax summary 2024", "alice@example.com", "United States", "FIFO (first in, first out)",
                     "LP deposits/withdrawals move cost basis (no gain)", "9,080.00", "4,300.00", "640.00",
                     "4,140.00", "4,780.00", "230.00", "Liquidity mining", "Staking", "Holdings at the end",
                     "1,870.00", "no price", "Disposals", "2,992.50", "not tax advice", "Page 1"):
        assert expected in text, expected


def test_a_long_pdf_repeats_the_table_header_and_points_to_the_csv_for_the_rest(owner, ledger, build):
    from portfolios.tax.engine import TaxSettings, compute
    from tests.portfolios.tax.handworked import engine_ledger

    report = build(owner)
    disposals = list(compute(engine_ledger(ledger), TaxSettings(), tax_year="2024").disposals) * 60  # 240 rows
    content = summary_pdf(report.summary, disposals, user_label="alice@example.com",
                          generated_at=report.finished_at, max_rows=200)
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 4
    pages = [page.extract_text() for page in reader.pages]
    assert sum("Gain or (loss)" in page for page in pages) >= 3  # the header on each page of the table
    assert "40 more disposals are listed in the disposals CSV" in "\n".join(pages)


def test_a_pdf_escapes_what_the_user_typed(owner, ledger, build):
    owner.name = "Ann <b>&</b> Co"
    owner.save()
    text = _pdf_text(_file(build(owner), "pdf"))
    assert "Ann <b>&</b> Co" in text


HEADINGS = ("Totals", "Income by type", "Income by month", "Gains by asset", "Holdings at the end of the tax year",
            "Disposals", "Notes")


def test_no_heading_is_left_at_the_foot_of_a_page_whatever_the_length_before_it(owner, ledger, build):
    """Grow the holdings table row by row so every section start passes through every
    position on the page: a heading must always have its section's content below it on
    the same page (keep-with-next)."""
    report = build(owner)
    base = report.summary["holdings"][0]
    checked_breaks = 0
    for extra in range(0, 48, 3):
        summary = {**report.summary, "holdings": [dict(base, label=f"TOKEN{i}") for i in range(1 + extra)]}
        content = summary_pdf(summary, [], user_label="alice@example.com", generated_at=report.finished_at)
        pages = [page.extract_text().splitlines() for page in PdfReader(io.BytesIO(content)).pages]
        for number, lines in enumerate(pages, start=1):
            body = [line for line in lines if not line.startswith(("Yieldledger ·", "Page "))]
            for i, line in enumerate(body):
                if line.startswith(HEADINGS):
                    assert i < len(body) - 1, f"{extra} extra holdings: '{line}' ends page {number}"
        checked_breaks += len(pages) - 1
    assert checked_breaks >= 10  # the loop did cross page breaks
