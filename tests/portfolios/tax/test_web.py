"""/tax/: the form (defaults from preferences), progress, the report page, downloads."""

import re
from unittest.mock import patch

import pytest
from django.urls import reverse

from portfolios.tax.models import TaxReport

pytestmark = pytest.mark.django_db


def test_tax_pages_need_a_login(client):
    response = client.get(reverse("tax:home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_form_defaults_to_the_users_preferences_and_links_the_tax_article(owner_client, owner, ledger):
    owner.tax_jurisdiction, owner.cost_basis_method, owner.lp_treatment = "uk", "uk", "disposal"
    owner.save()
    html = owner_client.get(reverse("tax:home")).content.decode()
    assert re.search(r'<option value="uk" selected>United Kingdom', html)
    assert re.search(r'<option value="uk" selected>UK share pooling', html)
    assert re.search(r'<option value="disposal" selected>', html)
    assert '<option value="2024"' in html and '<option value="2023"' in html
    assert 'href="/learn/articles/defi-taxes/"' in html
    assert 'aria-current="page">Tax</a>' in html


def test_posting_the_form_builds_the_report_and_redirects_to_it(owner_client, owner, ledger,
                                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("tax:home"), {"year": 2024, "jurisdiction": "us", "method": "hifo",
                                                           "lp_treatment": "nontaxable", "portfolio": ""})
    report = TaxReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("tax:report", args=[report.pk])
    assert (report.status, report.method) == ("done", "hifo")


def test_choosing_the_uk_forces_uk_pooling(owner_client, ledger):
    with patch("portfolios.tax.tasks.build_tax_report.delay"):
        owner_client.post(reverse("tax:home"), {"year": 2024, "jurisdiction": "uk", "method": "fifo",
                                                "lp_treatment": "nontaxable"})
    assert TaxReport.objects.get().method == "uk"


def test_uk_pooling_outside_the_uk_is_an_error_on_the_form(owner_client, ledger):
    html = owner_client.post(reverse("tax:home"), {"year": 2024, "jurisdiction": "us", "method": "uk",
                                                   "lp_treatment": "nontaxable"}).content.decode()
    assert "UK share pooling applies only to the UK jurisdiction." in html
    assert not TaxReport.objects.exists()


def test_a_report_being_built_shows_its_progress_and_refreshes_itself(owner_client, ledger):
    with patch("portfolios.tax.tasks.build_tax_report.delay"):
        owner_client.post(reverse("tax:home"), {"year": 2024, "jurisdiction": "us", "method": "fifo",
                                                "lp_treatment": "nontaxable"})
    report = TaxReport.objects.get()
    TaxReport.objects.filter(pk=report.pk).update(status="running", progress=40)
    response = owner_client.get(reverse("tax:report", args=[report.pk]))
    html = response.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert '<progress max="100" value="40"' in html
    assert "<script" not in html.split("</head>")[0].replace('<script src="/static/', "")  # no inline script


def test_the_done_report_shows_totals_chart_tables_and_downloads(owner_client, owner, ledger, build):
    report = build(owner)
    response = owner_client.get(reverse("tax:report", args=[report.pk]))
    html = response.content.decode()
    assert 'http-equiv="refresh"' not in html
    assert "$9,080.00" in html and "$4,300.00" in html and "+$640.00" in html and "+$4,140.00" in html
    assert "$230.00" in html
    assert '<svg class="chart"' in html and "Income by month" in html
    assert "Liquidity mining" in html and "Staking" in html
    assert "0.55" in html and "$1,870.00" in html and "no price" in html  # holdings
    assert "Rewards over time" in html and "CRV" in html
    assert "1.5 ETH" in html and "03/01/2023" in html  # a disposal row from the CSV
    for kind in ("csv-disposals", "csv-income", "pdf"):
        assert reverse("tax:download", args=[report.pk, kind]) in html
    assert "changed since this report was built" not in html


def test_the_rewards_table_values_rewards_at_todays_price(owner_client, owner, ledger, build, tokens):
    report = build(owner)
    tokens["ETH"].last_price_usd = 4000
    tokens["ETH"].save()
    html = owner_client.get(reverse("tax:report", args=[report.pk])).content.decode()
    assert "$200.00" in html  # 0.05 ETH at 4,000 today (150 when received)
    assert "+$50.00" in html
    assert "$50.00" in html  # 100 CRV at 0.50 today (80 when received)


def test_a_report_whose_inputs_changed_offers_to_build_it_again(owner_client, owner, ledger, portfolio, tokens,
                                                                build, django_capture_on_commit_callbacks):
    from tests.portfolios.tax.handworked import record

    report = build(owner)
    record(portfolio, "2024-09-01T00:00", "reward", "staking", [("ETH", "0.01", "30", False)], tokens)
    html = owner_client.get(reverse("tax:report", args=[report.pk])).content.decode()
    assert "changed since this report was built" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("tax:rebuild", args=[report.pk]))
    fresh = TaxReport.objects.exclude(pk=report.pk).get()
    assert response["Location"] == reverse("tax:report", args=[fresh.pk])
    assert fresh.summary["totals"]["income_total"] == "260.00"


def test_a_failed_report_shows_the_error_and_a_retry_button(owner_client, owner, portfolio, tokens, build):
    from tests.portfolios.tax.handworked import record

    record(portfolio, "2024-02-01T00:00", "reward", "staking", [("ETH", "0.1", None, False)], tokens)
    report = build(owner)
    html = owner_client.get(reverse("tax:report", args=[report.pk])).content.decode()
    assert "could not be built" in html and "ETH leg needs a fiat_value" in html
    # the transaction the error names is a link to it (issue 11: "#16" must lead somewhere)
    from portfolios.models import Transaction

    reward = Transaction.objects.get(portfolio=portfolio)
    link = reverse("portfolios:transaction_edit", args=[reward.pk])
    assert f'href="{link}" data-testid="error-transaction">transaction #{reward.pk}</a>' in html
    assert owner_client.get(link).status_code == 200
    assert reverse("tax:rebuild", args=[report.pk]) in html


def test_downloads_are_attachments_with_the_right_type(owner_client, owner, ledger, build):
    report = build(owner)
    pdf = owner_client.get(reverse("tax:download", args=[report.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == 'attachment; filename="yieldledger-tax-2024-us-fifo-summary.pdf"'
    assert pdf.content.startswith(b"%PDF")
    income = owner_client.get(reverse("tax:download", args=[report.pk, "csv-income"]))
    assert income["Content-Type"] == "text/csv; charset=utf-8" and b"Fair market value" in income.content
    assert owner_client.get(reverse("tax:download", args=[report.pk, "xlsx"])).status_code == 404


def test_the_disposals_table_is_paginated(owner_client, owner, portfolio, tokens, build):
    from tests.portfolios.tax.handworked import record

    record(portfolio, "2024-01-01T00:00", "buy", "", [("USD", "-1000", "1000", False), ("ETH", "1", "1000", False)],
           tokens)
    for day in range(1, 131):
        record(portfolio, f"2024-05-{1 + day % 28:02d}T{day % 24:02d}:{day % 60:02d}", "sell", "",
               [("ETH", "-0.001", "3", False), ("USD", "3", "3", False)], tokens)
    report = build(owner)
    first = owner_client.get(reverse("tax:report", args=[report.pk])).content.decode()
    assert "Page 1 of 2" in first and "?page=2#disposals" in first
    second = owner_client.get(reverse("tax:report", args=[report.pk]) + "?page=2").content.decode()
    assert "Page 2 of 2" in second


def test_the_nav_tax_link_points_to_the_tax_home(owner_client):
    html = owner_client.get(reverse("portfolios:dashboard")).content.decode()
    assert '<a href="/tax/" >Tax</a>' in html or 'href="/tax/"' in html


def test_a_row_dated_year_1_from_before_the_input_rules_does_not_break_the_page_west_of_utc(owner_client, owner):
    from datetime import UTC, datetime

    from portfolios.models import Portfolio, Transaction

    owner.timezone = "America/New_York"
    owner.save()
    portfolio = Portfolio.objects.create(owner=owner, name="Old")
    Transaction.objects.create(portfolio=portfolio, kind="transfer_in", occurred_at=datetime(1, 1, 1, tzinfo=UTC))
    response = owner_client.get(reverse("tax:home"))
    assert response.status_code == 200
    years = response.context["form"].fields["year"].choices
    assert min(int(value) for value, _ in years) == 2008  # the UK's 2008/09 holds 2009-01-03


def test_the_transaction_a_failed_report_names_is_a_link_to_it(owner_client, owner, portfolio, tokens, build):
    from portfolios.models import Transaction
    from tests.portfolios.tax.handworked import record

    record(portfolio, "2024-05-02T09:30", "sell", "", [("ETH", "-1", "4000", False), ("USD", "4000", "4000", False)],
           tokens)
    sale = Transaction.objects.get(portfolio=portfolio, kind="sell")
    report = build(owner)
    html = owner_client.get(reverse("tax:report", args=[report.pk])).content.decode()
    link = f'<a href="{reverse("portfolios:transaction_edit", args=[sale.pk])}">#{sale.pk}</a>'
    assert link in html
    assert owner_client.get(reverse("portfolios:transaction_edit", args=[sale.pk])).status_code == 200


def test_the_transactions_column_of_the_disposals_table_links_each_transaction(owner_client, owner, ledger, build):
    from portfolios.models import Transaction

    report = build(owner)
    html = owner_client.get(reverse("tax:report", args=[report.pk])).content.decode()
    sells = Transaction.objects.filter(portfolio__owner=owner, kind="sell", occurred_at__year=report.tax_year)
    assert sells.exists()
    for sale in sells:
        assert f'<a href="/portfolios/transactions/{sale.pk}/edit/">#{sale.pk}</a>' in html
