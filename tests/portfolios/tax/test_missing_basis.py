"""Missing cost basis is a warning, not a failure (issue 11 item 4).

The issue's case: a position added from a pool page (deposit 1 WETH + 2,500
USDC, never bought), then withdrawn and the WETH sold.  The report completes;
the deposit is listed (linked to the transaction, with the quantity uncovered
and how to fix it); totals are marked incomplete on the page, in the PDF and
in the API."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from portfolios.models import Transaction
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from portfolios.tax.models import TaxReportFile
from tests.pools.factories import PoolFactory
from tests.portfolios.tax.handworked import record

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def pool_position(portfolio, tokens):
    pool = PoolFactory(chain=tokens["ETH"].chain, symbol="WETH-USDC")
    position = position_open(
        portfolio=portfolio, pool=pool, kind="lp", opened_at=datetime(2024, 3, 1, 12, tzinfo=UTC),
        deposits=[LegInput(token=tokens["ETH"], quantity=D("1"), fiat_value=D("2500")),
                  LegInput(token=tokens["USDC"], quantity=D("2500"), fiat_value=D("2500"))],
    )
    return position, Transaction.objects.get(position=position)


@pytest.fixture
def sold_later(portfolio, tokens):
    # 0.5 WETH bought, 1.5 sold: 1 WETH uncovered.  Proceeds 4500, cost 1000 (the 0.5 bought) -> gain 3500.
    record(portfolio, "2024-06-01T10:00", "buy", "", [("USD", "-1000", "1000", False), ("ETH", "0.5", "1000", False)],
           tokens)
    return record(portfolio, "2024-07-01T10:00", "sell", "",
                  [("ETH", "-1.5", "4500", False), ("USD", "4500", "4500", False)], tokens)


def test_a_pool_deposit_of_coins_never_bought_completes_the_report_with_the_deposit_listed(owner, pool_position,
                                                                                             build):
    _, deposit = pool_position
    report = build(owner)
    assert report.status == "done", report.error
    summary = report.summary
    assert summary["complete"] is False and summary["missing_basis_count"] == 2
    listed = [(m["transaction_id"], m["asset"], m["quantity_uncovered"], m["quantity_held"])
              for m in summary["missing_basis"]]
    assert listed == [(deposit.pk, "WETH", "1", "0"), (deposit.pk, "USDC", "2500", "0")]
    assert summary["missing_basis"][0]["transaction"].startswith(f"#{deposit.pk} (lp deposit on 2024-03-01")
    assert "Record how these WETH came in" in summary["missing_basis"][0]["fix"]


def test_a_short_sale_counts_the_uncovered_quantity_at_zero_cost(owner, sold_later, build):
    report = build(owner)
    assert report.status == "done"
    totals = report.summary["totals"]
    assert (totals["proceeds"], totals["cost_basis"], totals["gain"]) == ("4500.00", "1000.00", "3500.00")
    assert [(m["transaction_id"], m["quantity_uncovered"], m["quantity_held"])
            for m in report.summary["missing_basis"]] == [(sold_later.pk, "1", "0.5")]


def test_a_complete_ledger_is_marked_complete(owner, ledger, build):
    report = build(owner)
    assert report.summary["complete"] is True and report.summary["missing_basis"] == []


def test_the_page_lists_each_case_with_a_link_that_opens_the_transaction(owner_client, owner, pool_position, build):
    _, deposit = pool_position
    report = build(owner)
    html = owner_client.get(reverse("tax:report", args=[report.pk])).content.decode()
    assert "Missing cost basis: these totals are incomplete" in html
    link = reverse("portfolios:transaction_edit", args=[deposit.pk])
    assert html.count(f'href="{link}"') == 2  # one per asset uncovered
    assert 'data-testid="incomplete"' in html
    assert owner_client.get(link).status_code == 200  # "#16" is a link to something that exists


def test_the_pdf_says_the_totals_are_incomplete_and_lists_the_transaction(owner, pool_position, build):
    _, deposit = pool_position
    report = build(owner)
    content = TaxReportFile.objects.get(report=report, kind="pdf").content
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(bytes(content))).pages)
    assert "Missing cost basis: the totals are incomplete" in text
    assert "Totals (incomplete" in text
    assert f"#{deposit.pk}" in text and "2500" in text


def test_the_api_marks_the_totals_incomplete_and_lists_the_cases(owner_api, owner, pool_position, build):
    _, deposit = pool_position
    report = build(owner)
    body = owner_api.get(f"/api/v1/tax-reports/{report.pk}/").json()
    assert body["status"] == "done"
    assert body["summary"]["complete"] is False
    assert {m["transaction_id"] for m in body["summary"]["missing_basis"]} == {deposit.pk}
