"""A gift reaches the built report (issue 12): ``summary.gifts`` in the report's currency, the web
page's Gifts section, the PDF; hiding a transaction takes it out of the report's figures."""

import pytest
from django.urls import reverse

from portfolios.models import Transaction
from portfolios.tax.models import TaxReportFile
from tests.portfolios.tax.handworked import record

pytestmark = pytest.mark.django_db


def test_a_us_gift_is_listed_not_disposed_of_and_shown(owner, portfolio, build, client):
    record(portfolio, "2024-01-10T12:00:00Z", "buy", "", [("USD", "-1000", None, False), ("ETH", "1", "1000", False)])
    record(portfolio, "2024-02-10T12:00:00Z", "buy", "", [("USD", "-2000", None, False), ("ETH", "1", "2000", False)])
    gift = record(portfolio, "2024-03-10T12:00:00Z", "transfer_out", "", [("ETH", "-1", "2500", False)])
    Transaction.objects.filter(pk=gift.pk).update(category="gift")
    record(portfolio, "2024-04-10T12:00:00Z", "sell", "", [("ETH", "-1", "3000", False), ("USD", "3000", None, False)])
    report = build(owner)
    assert report.status == "done", report.error
    summary = report.summary
    assert (summary["totals"]["disposal_count"], summary["totals"]["gain"]) == (1, "1000.00")
    (row,) = summary["gifts"]
    assert (row["direction"], row["category"], row["asset"], row["quantity"]) == ("given", "gift", "ETH", "1")
    assert (row["cost_basis"], row["market_value"], row["disposal"]) == ("1000.00", "2500.00", False)
    assert (row["currency"], row["transaction_id"]) == ("USD", gift.pk)
    assert summary["counts"]["gifts"] == 1
    pdf = TaxReportFile.objects.get(report=report, kind="pdf")
    assert pdf.size > 0
    client.force_login(owner)
    page = client.get(reverse("tax:report", args=[report.pk])).content.decode()
    assert 'id="gifts-h"' in page and page.count('data-testid="gift-row"') == 1

    Transaction.objects.filter(pk=gift.pk).update(hidden=True)  # hidden: counted nowhere, the 2,000 lot sold
    again = build(owner)
    assert again.pk != report.pk and again.summary["gifts"] == []
    assert again.summary["totals"]["gain"] == "2000.00"
