"""Issue 11 item 3 in the files: HMRC's capital gains summary (SA108) for the UK with
disposals by matching rule, every file naming its currency, the jurisdiction once in
file names, LP receipts named for people."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portfolios.models import Leg, Portfolio, Position, Transaction
from portfolios.tax.models import TaxReportFile
from portfolios.tax.services import tax_report_request
from tests.pools.factories import PoolFactory, ProtocolFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _record(portfolio, when, kind, legs, currency="GBP", position=None, income_type=""):
    txn = Transaction.objects.create(portfolio=portfolio, kind=kind, income_type=income_type, position=position,
                                     occurred_at=datetime.fromisoformat(when).replace(tzinfo=UTC))
    Leg.objects.bulk_create([Leg(transaction=txn, asset=a, quantity=D(q), fiat_value=D(v), fiat_currency=currency)
                             for a, q, v in legs])
    return txn


def _build(owner, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        report, _ = tax_report_request(owner=owner, **kwargs)
    report.refresh_from_db()
    assert report.status == "done", report.error
    return report


def _files(report) -> dict[str, TaxReportFile]:
    return {f.kind: f for f in TaxReportFile.objects.filter(report=report)}


@pytest.fixture
def uk_owner(owner):
    owner.tax_jurisdiction, owner.cost_basis_method, owner.fiat_currency = "uk", "uk", "GBP"
    owner.save()
    return owner


@pytest.fixture
def uk_ledger(uk_owner):
    """Worked by hand, in pounds (entered in GBP: no conversion):

    1 May 2024   buy 10 ETH for 10,000            -> Section 104 pool: 10 ETH, cost 10,000
    3 Jun 2024   buy 2 ETH for 3,000 (09:00), sell 3 ETH for 4,800 (15:00)
                 same day:          2 ETH, proceeds 4,800 x 2/3 = 3,200, cost 3,000 -> gain 200
                 bed and breakfast: 1 ETH (bought back 20 Jun for 1,400), proceeds 1,600 -> gain 200
    20 Jun 2024  buy 1 ETH for 1,400               (matched above, so it never enters the pool)
    2 Sep 2024   sell 5 ETH for 4,000              Section 104: cost 5/10 x 10,000 = 5,000 -> loss 1,000

    SA108: 2 disposals (ETH on 3 June, ETH on 2 September); proceeds 8,800; allowable
    costs 3,000 + 1,400 + 5,000 = 9,400; gains before losses 400; losses 1,000.
    """
    portfolio = Portfolio.objects.create(owner=uk_owner, name="Main")
    _record(portfolio, "2024-05-01T10:00", "buy", [("GBP", "-10000", "10000"), ("ETH", "10", "10000")])
    _record(portfolio, "2024-06-03T09:00", "buy", [("GBP", "-3000", "3000"), ("ETH", "2", "3000")])
    _record(portfolio, "2024-06-03T15:00", "sell", [("ETH", "-3", "4800"), ("GBP", "4800", "4800")])
    _record(portfolio, "2024-06-20T10:00", "buy", [("GBP", "-1400", "1400"), ("ETH", "1", "1400")])
    _record(portfolio, "2024-09-02T10:00", "sell", [("ETH", "-5", "4000"), ("GBP", "4000", "4000")])
    return portfolio


def test_the_uk_csv_opens_with_the_sa108_figures_then_lists_disposals_by_matching_rule(
        uk_owner, uk_ledger, django_capture_on_commit_callbacks):
    report = _build(uk_owner, django_capture_on_commit_callbacks, year=2024)
    content = bytes(_files(report)["csv-disposals"].content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["Capital gains summary (SA108), tax year 2024/25", "", "GBP"]
    assert rows[1:6] == [
        ["Number of disposals", "2", ""],
        ["Disposal proceeds", "8800.00", "GBP"],
        ["Allowable costs (including purchase price)", "9400.00", "GBP"],
        ["Gains in the year, before losses", "400.00", "GBP"],
        ["Losses in the year", "1000.00", "GBP"],
    ]
    assert rows[6] == []
    detail = list(csv.DictReader(io.StringIO("\n".join(",".join(f'"{c}"' for c in r) for r in rows[7:]))))
    assert [(r["Matching rule"], r["Date of disposal"], r["Quantity"], r["Disposal proceeds"], r["Allowable costs"],
             r["Gain"], r["Loss"]) for r in detail] == [
        ("Same day", "2024-06-03", "2", "3200.00", "3000.00", "200.00", "0.00"),
        ("Bed and breakfast (30 days)", "2024-06-03", "1", "1600.00", "1400.00", "200.00", "0.00"),
        ("Section 104 pool", "2024-09-02", "5", "4000.00", "5000.00", "0.00", "1000.00"),
    ]
    assert {r["Currency"] for r in detail} == {"GBP"}


def test_the_uk_pdf_shows_the_sa108_figures_in_pounds_and_the_rules(
        uk_owner, uk_ledger, django_capture_on_commit_callbacks):
    report = _build(uk_owner, django_capture_on_commit_callbacks, year=2024)
    pdf = bytes(_files(report)["pdf"].content)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    section = text[text.index("Capital gains summary (SA108)"):text.index("Totals")]
    assert section.split("\n")[2:13] == [
        "Amount (GBP)", "Number of disposals", "2", "Disposal proceeds", "8,800.00",
        "Allowable costs (including purchase price)", "9,400.00", "Gains in the year, before losses", "400.00",
        "Losses in the year", "1,000.00"]
    for rule in ("Same day", "Bed and breakfast (30 days)", "Section 104 pool"):
        assert rule in text


def test_file_names_carry_the_jurisdiction_once(uk_owner, uk_ledger, ecb_rates, django_capture_on_commit_callbacks):
    names = {f.filename for f in _files(_build(uk_owner, django_capture_on_commit_callbacks, year=2024)).values()}
    assert names == {"yieldledger-tax-2024-25-uk-disposals.csv", "yieldledger-tax-2024-25-uk-income.csv",
                     "yieldledger-tax-2024-25-uk-summary.pdf"}
    us = _build(uk_owner, django_capture_on_commit_callbacks, year=2024, jurisdiction="us", method="hifo")
    assert {f.filename for f in _files(us).values()} == {
        "yieldledger-tax-2024-us-hifo-disposals.csv", "yieldledger-tax-2024-us-hifo-income.csv",
        "yieldledger-tax-2024-us-hifo-summary.pdf"}


def test_an_lp_receipt_is_named_for_people_in_the_csv_and_pdf(owner, django_capture_on_commit_callbacks):
    owner.lp_treatment = "disposal"
    owner.save()
    portfolio = Portfolio.objects.create(owner=owner, name="Main")
    pool = PoolFactory(symbol="WETH-USDC", protocol=ProtocolFactory(slug="uniswap-v3"), kind="concentrated")
    position = Position.objects.create(portfolio=portfolio, pool=pool, kind="concentrated_lp",
                                       opened_at=datetime(2024, 3, 1, tzinfo=UTC),
                                       range_lower=D("1500"), range_upper=D("4000"))
    receipt = f"LP#{position.pk}"
    _record(portfolio, "2024-03-01T10:00", "buy", [("USD", "-2000", "2000"), ("ETH", "1", "2000")], "USD")
    _record(portfolio, "2024-03-01T10:00", "buy", [("USD", "-2000", "2000"), ("USDC", "2000", "2000")], "USD")
    _record(portfolio, "2024-03-02T10:00", "lp_deposit",
            [("ETH", "-1", "2000"), ("USDC", "-2000", "2000"), (receipt, "4000", "4000")], "USD", position)
    _record(portfolio, "2024-05-02T10:00", "lp_withdraw",
            [(receipt, "-4000", "4200"), ("ETH", "1.05", "2100"), ("USDC", "2100", "2100")], "USD", position)
    report = _build(owner, django_capture_on_commit_callbacks, year=2024)
    name = f"LP ETH/USDC v3 range #{position.pk}"
    files = _files(report)
    disposals = list(csv.DictReader(io.StringIO(bytes(files["csv-disposals"].content).decode("utf-8-sig"))))
    lp_rows = [r for r in disposals if r["Asset"] == name]
    assert [(r["(a) Description of property"], r["(d) Proceeds"], r["(e) Cost or other basis"], r["Currency"])
            for r in lp_rows] == [(f"4000 {name}", "4200.00", "4000.00", "USD")]
    assert not any("LP#" in r["(a) Description of property"] for r in disposals)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(bytes(files["pdf"].content))).pages)
    assert name in text and receipt not in text


def test_the_uk_report_page_shows_the_sa108_figures_in_pounds(
        uk_owner, uk_ledger, django_capture_on_commit_callbacks, client):
    from django.urls import reverse

    report = _build(uk_owner, django_capture_on_commit_callbacks, year=2024)
    client.force_login(uk_owner)
    html = client.get(reverse("tax:report", args=[report.pk])).content.decode()
    assert 'data-testid="report-currency">GBP<' in html
    assert "Capital gains summary (SA108)" in html
    for figure in ("£8,800.00", "£9,400.00", "£400.00", "£1,000.00"):
        assert figure in html
    assert "$" not in html.split('id="disposals"')[1].split("</section>")[0]  # the disposals table is in pounds
    assert "Section 104 pool" in html and "Bed and breakfast (30 days)" in html


def test_the_report_page_lists_the_rates_used_and_marks_a_weekend(owner, ecb_rates, client,
                                                                  django_capture_on_commit_callbacks):
    from django.urls import reverse

    owner.tax_jurisdiction, owner.cost_basis_method, owner.fiat_currency = "other", "fifo", "EUR"
    owner.save()
    portfolio = Portfolio.objects.create(owner=owner, name="Main")
    _record(portfolio, "2024-05-03T10:00", "buy", [("USD", "-1074.4", "1074.4"), ("ETH", "1", "1074.4")], "USD")
    _record(portfolio, "2024-06-08T10:00", "sell", [("ETH", "-1", "1089.8"), ("USD", "1089.8", "1089.8")], "USD")
    report = _build(owner, django_capture_on_commit_callbacks, year=2024)
    # 1074.40 USD / 1.0744 = 1000 EUR (3 May); 1089.80 USD / 1.0898 = 1000 EUR (Friday 7 June, for Saturday 8 June)
    assert (report.summary["totals"]["cost_basis"], report.summary["totals"]["proceeds"]) == ("1000.00", "1000.00")
    client.force_login(owner)
    html = client.get(reverse("tax:report", args=[report.pk])).content.decode()
    assert "Exchange rates used" in html
    assert "earlier day: no rate on 2024-06-08" in html and html.count('data-testid="fx-fallback"') == 1
    assert "€1,000.00" in html
