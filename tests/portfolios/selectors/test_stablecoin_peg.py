"""Stablecoins without a recent price are valued at their peg (1.00 USD) and the user is told."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from portfolios.selectors import portfolio_summary, position_analytics, position_value_series
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from portfolios.services.transactions import transaction_record
from portfolios.services.valuation import portfolio_snapshots_write
from tests.portfolios.conftest import DEPOSIT_AT, at
from tests.portfolios.factories import TokenFactory, TokenPriceFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def usdt(chain):
    """A stablecoin whose bundled prices stop in 2022 (at 0.97, a bad day)."""
    token = TokenFactory(
        chain=chain,
        symbol="USDT",
        price_symbol="USDT",
        is_stablecoin=True,
        last_price_usd=D("0.97"),
        last_price_at=at("2022-06-30"),
    )
    TokenPriceFactory(token=token, timestamp=at("2022-06-30"), price_usd=D("0.97"))
    return token


@pytest.fixture
def held(portfolio, usdt):
    return transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[
            LegInput(asset="USD", quantity=D("-1000")),
            LegInput(token=usdt, quantity=D("1000"), fiat_value=D("1000")),
        ],
    )


def test_a_years_old_stablecoin_price_gives_way_to_the_peg_with_a_warning(held, portfolio):
    summary = portfolio_summary(portfolio=portfolio)
    [holding] = summary.holdings
    assert holding.price_now == D(1) and holding.value_now == D(1000)  # not 970 from 2022
    assert holding.assumed_peg is True
    assert summary.assumed_peg == ("USDT",)
    assert "USDT: no price from the last 7 days, so it is valued at $1.00 (assumed peg)." in summary.warnings


def test_a_recent_stablecoin_price_is_used_as_it_is(held, portfolio, usdt):
    type(usdt).objects.filter(pk=usdt.pk).update(last_price_at=timezone.now() - timedelta(days=6))
    summary = portfolio_summary(portfolio=portfolio)
    assert summary.holdings[0].price_now == D("0.97")  # a real de-peg is shown
    assert summary.assumed_peg == () and not any("peg" in w for w in summary.warnings)


def test_a_token_that_is_not_a_stablecoin_keeps_its_last_price(portfolio, eth, prices):
    transaction_record(
        portfolio=portfolio,
        kind="buy",
        occurred_at=DEPOSIT_AT,
        legs=[LegInput(asset="USD", quantity=D("-2000")), LegInput(token=eth, quantity=D("1"))],
    )
    summary = portfolio_summary(portfolio=portfolio)
    assert summary.holdings[0].price_now == D(3000) and summary.assumed_peg == ()


def test_a_position_values_its_stablecoin_at_the_peg_and_says_so(portfolio, amm_pool, eth, usdc, prices):
    position = position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    type(usdc).objects.filter(pk=usdc.pk).update(last_price_usd=D("0.9"))  # last quoted 2025-10-01
    result = position_analytics(position=position)
    assert {t.asset: t.price_now for t in result.tokens}["USDC"] == D(1)
    assert result.assumed_peg == ("USDC",)
    assert "No USDC price from the last 7 days: USDC is valued at $1.00, its assumed peg." in result.warnings


def test_a_past_valuation_pegs_a_stablecoin_whose_stored_price_is_too_old(held, portfolio):
    # 2025-07-01's close: the nearest stored USDT price is from 2022.
    portfolio_snapshots_write(day=at("2025-07-01").date(), portfolio_ids=[portfolio.pk])
    assert portfolio.snapshots.get().value == D(1000)


def test_the_value_series_pegs_a_stablecoin_without_recent_prices(portfolio, amm_pool, eth, usdc, prices):
    position = position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    usdc.prices.filter(timestamp__gt=DEPOSIT_AT).delete()  # USDC's stored closes stop at 06-01 ...
    usdc.prices.filter(timestamp=at("2025-06-01")).update(price_usd=D("0.9"))  # ... on a bad day
    series = {p.day: p for p in position_value_series(position=position, until=at("2025-09-30").date())}
    assert len(series) == 122  # every day from 06-01 to 09-30
    # Up to 7 days after its last close the real (de-pegged) price counts, then the peg.
    assert series[at("2025-06-08").date()].value_hodl == 2000 + 2000 * D("0.9")
    assert series[at("2025-06-09").date()].value_hodl == 2000 + 2000
    assert series[at("2025-09-30").date()].value_hodl == 3000 + 2000  # not 3000 + 1800 from June


def test_the_dashboard_tells_the_user(owner_client, held):
    html = owner_client.get(reverse("portfolios:dashboard")).content.decode()
    assert "USDT: no price from the last 7 days, so it is valued at $1.00 (assumed peg)." in html
    assert "Stale prices" not in html  # the peg warning covers it


def test_the_api_names_pegged_stablecoins_and_what_a_range_did_not_take(
    owner_api, portfolio, amm_pool, eth, usdc, prices
):
    position = position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    type(usdc).objects.filter(pk=usdc.pk).update(last_price_usd=D("0.9"))
    body = owner_api.get(f"/api/v1/positions/{position.pk}/analytics/").json()
    assert body["assumed_peg"] == ["USDC"]
    assert body["unused"] == []  # a constant-product deposit is taken whole
