"""Stale prices are labelled (issue 11 item 7): every "now" value carries its
price's date; past PRICE_STALE_AFTER_HOURS the page says so beside the number
(and the API says so too); the value chart ends at the last real price.

The fixtures' WETH price was last quoted on 2025-10-01 (``eth.last_price_at``)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from portfolios.selectors import position_value_series
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from tests.portfolios.conftest import DEPOSIT_AT

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def lp(portfolio, amm_pool, eth, usdc, prices):
    return position_open(portfolio=portfolio, pool=amm_pool, kind="lp", opened_at=DEPOSIT_AT,
                         deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))])


@pytest.fixture
def fresh(eth, usdc):
    now = timezone.now()
    for token in (eth, usdc):
        token.last_price_at = now - timedelta(hours=2)
        token.save(update_fields=["last_price_at"])
    return now


def _html(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_position_page_dates_the_price_and_says_it_is_stale_beside_the_value(owner_client, lp):
    html = _html(owner_client, reverse("portfolios:position_detail", args=[lp.pk]))
    value_card = html[html.index('data-testid="position-value"'):html.index("If held (HODL)")]
    assert "price of 2025-10-01" in value_card
    assert 'data-testid="stale-price"' in value_card and "stale price:" in value_card
    # the tokens table dates WETH's price; USDC is at its peg (no dated price: its own label)
    assert html.count("price of 2025-10-01") >= 2


def test_a_recent_price_is_dated_without_the_stale_label(owner_client, lp, fresh):
    html = _html(owner_client, reverse("portfolios:position_detail", args=[lp.pk]))
    assert 'data-testid="price-date"' in html
    assert 'data-testid="stale-price"' not in html


def test_the_threshold_is_a_setting(owner_client, lp, settings):
    settings.PRICE_STALE_AFTER_HOURS = 24 * 365 * 10  # ten years: the 2025 price is not stale
    html = _html(owner_client, reverse("portfolios:position_detail", args=[lp.pk]))
    assert "price of 2025-10-01" in html and 'data-testid="stale-price"' not in html


def test_the_dashboard_dates_the_total_and_flags_it(owner_client, lp):
    html = _html(owner_client, reverse("portfolios:dashboard"))
    total = html[html.index('data-testid="total-value"'):html.index("Deposited")]
    assert "price of 2025-10-01" in total and 'data-testid="stale-price"' in total


def test_the_api_carries_the_price_date_and_staleness(owner_api, lp, portfolio):
    analytics = owner_api.get(f"/api/v1/positions/{lp.pk}/analytics/").json()
    assert analytics["prices_as_of"].startswith("2025-10-01") and analytics["prices_stale"] is True
    weth = next(t for t in analytics["tokens"] if t["asset"] == "WETH")
    assert weth["priced_at"].startswith("2025-10-01")
    summary = owner_api.get(f"/api/v1/portfolios/{portfolio.pk}/summary/").json()
    assert summary["prices_as_of"].startswith("2025-10-01") and summary["prices_stale"] is True


def test_the_api_says_not_stale_for_a_recent_price(owner_api, lp, fresh):
    analytics = owner_api.get(f"/api/v1/positions/{lp.pk}/analytics/").json()
    assert analytics["prices_stale"] is False
    assert datetime.fromisoformat(analytics["prices_as_of"]) > fresh - timedelta(hours=3)


def test_the_value_chart_ends_at_the_last_real_price_not_today(lp):
    series = position_value_series(position=lp)
    assert series[-1].day == datetime(2025, 10, 1, tzinfo=UTC).date()  # the last stored WETH price
    assert timezone.now().date() > series[-1].day  # today is much later: no flat line up to it
