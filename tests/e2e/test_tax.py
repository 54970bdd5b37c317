"""The tax journey in a real browser: log in, open Tax, request the 2024 report of a
seeded ledger, see it done with its totals, and find the PDF to download."""

import re

import pytest

from portfolios.models import Portfolio
from tests.factories import UserFactory
from tests.pools.factories import ChainFactory, TokenFactory, TokenPriceFactory
from tests.portfolios.tax.handworked import LEDGER, at, record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def seed_ledger(user) -> None:
    chain = ChainFactory()
    tokens = {
        "ETH": TokenFactory(chain=chain, symbol="WETH", price_symbol="ETH", last_price_usd=3600),
        "CRV": TokenFactory(chain=chain, symbol="CRV", price_symbol="CRV", last_price_usd="0.5"),
        "USDC": TokenFactory(chain=chain, symbol="USDC", price_symbol="USDC", is_stablecoin=True, last_price_usd=1),
    }
    TokenPriceFactory(token=tokens["ETH"], timestamp=at("2024-12-31T00:00"), price_usd=3400)
    TokenPriceFactory(token=tokens["USDC"], timestamp=at("2024-12-31T00:00"), price_usd=1)
    portfolio = Portfolio.objects.create(owner=user, name="Main")
    for when, kind, income_type, legs in LEDGER:
        record(portfolio, when, kind, income_type, legs, tokens)


def test_a_user_requests_a_tax_report_and_downloads_the_pdf(page, live_server, shot):
    user = UserFactory(email="miner@example.com")  # verified, password "a-strong-passphrase-42"
    seed_ledger(user)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("miner@example.com")
    page.get_by_label("Password").fill("a-strong-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portfolios/$"))

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tax").click()
    page.wait_for_url(re.compile(r"/tax/$"))
    assert page.get_by_role("link", name="how DeFi is taxed").get_attribute("href") == "/learn/articles/defi-taxes/"
    page.get_by_label("Tax year").select_option("2024")
    page.get_by_label("Jurisdiction").select_option("uk")
    assert page.get_by_label("Cost-basis method").input_value() == "uk"  # tax.js keeps the UK on pooling
    page.get_by_label("Jurisdiction").select_option("us")
    page.get_by_label("Cost-basis method").select_option("fifo")
    shot("tax-form")
    page.get_by_role("button", name="Build report").click()

    page.wait_for_url(re.compile(r"/tax/reports/\d+/$"))
    page.get_by_test_id("total-proceeds").wait_for()  # built (or refreshed until built)
    assert page.get_by_test_id("total-proceeds").inner_text() == "$9,080.00"
    assert page.get_by_test_id("total-cost").inner_text() == "$4,300.00"
    assert page.get_by_test_id("gain-short").inner_text() == "+$640.00"
    assert page.get_by_test_id("gain-long").inner_text() == "+$4,140.00"
    assert page.get_by_test_id("total-income").inner_text() == "$230.00"
    assert page.locator("svg.chart").count() == 1
    pdf_link = page.get_by_test_id("download-pdf")
    assert re.search(r"/tax/reports/\d+/download/pdf/$", pdf_link.get_attribute("href"))
    response = page.request.get(pdf_link.get_attribute("href"))
    assert response.status == 200 and response.body().startswith(b"%PDF")
    shot("tax-report")
    assert page.js_errors == []


def test_a_report_being_built_shows_progress_and_turns_into_the_report_by_itself(page, live_server, shot):
    from unittest.mock import patch

    from portfolios.tax.build import tax_report_build
    from portfolios.tax.services import tax_report_request

    user = UserFactory(email="waiting@example.com")
    seed_ledger(user)
    with patch("portfolios.tax.tasks.build_tax_report.delay"):  # no worker yet
        report, _ = tax_report_request(owner=user, year=2024)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("waiting@example.com")
    page.get_by_label("Password").fill("a-strong-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portfolios/$"))

    page.goto(f"/tax/reports/{report.pk}/")
    assert "Waiting for a worker" in page.inner_text("main")
    assert page.get_by_test_id("progress").get_attribute("value") == "0"
    shot("tax-progress")
    assert tax_report_build(report_id=report.pk) == "done"  # the worker's turn
    page.get_by_test_id("total-proceeds").wait_for(timeout=10000)  # the page refreshed itself
    assert page.get_by_test_id("total-proceeds").inner_text() == "$9,080.00"
    assert page.js_errors == []
