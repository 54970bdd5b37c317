"""Missing cost basis in a real browser (issue 11): a pool deposit of coins never
bought gives a finished report that lists the deposit, and its "#id" link opens
the transaction."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfolios.models import Portfolio, Transaction
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from tests.factories import UserFactory
from tests.pools.factories import ChainFactory, PoolFactory, TokenFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = Decimal


def test_a_deposit_never_bought_is_listed_and_its_link_opens_the_transaction(page, live_server, shot):
    user = UserFactory(email="lp@example.com")  # verified, password "a-strong-passphrase-42"
    chain = ChainFactory()
    weth = TokenFactory(chain=chain, symbol="WETH", price_symbol="ETH", last_price_usd=2500)
    usdc = TokenFactory(chain=chain, symbol="USDC", price_symbol="USDC", is_stablecoin=True, last_price_usd=1)
    portfolio = Portfolio.objects.create(owner=user, name="Main")
    position_open(portfolio=portfolio, pool=PoolFactory(chain=chain), kind="lp",
                  opened_at=datetime(2024, 3, 1, 12, tzinfo=UTC),
                  deposits=[LegInput(token=weth, quantity=D("1"), fiat_value=D("2500")),
                            LegInput(token=usdc, quantity=D("2500"), fiat_value=D("2500"))])
    deposit = Transaction.objects.get(portfolio=portfolio)

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("lp@example.com")
    page.get_by_label("Password").fill("a-strong-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portfolios/$"))
    page.goto("/tax/")
    page.get_by_label("Tax year").select_option("2024")
    page.get_by_label("Jurisdiction").select_option("us")
    page.get_by_role("button", name="Build report").click()

    page.wait_for_url(re.compile(r"/tax/reports/\d+/$"))
    page.get_by_test_id("missing-basis").wait_for()  # done, not failed
    section = page.get_by_test_id("missing-basis")
    assert "these totals are incomplete" in section.inner_text()
    assert page.get_by_test_id("incomplete").is_visible()
    links = page.get_by_test_id("missing-basis-link")
    assert links.count() == 2  # WETH and USDC of the same deposit
    assert links.first.inner_text().startswith(f"#{deposit.pk} (lp deposit on 2024-03-01")
    shot("tax-missing-basis")
    links.first.click()
    page.wait_for_url(re.compile(rf"/portfolios/transactions/{deposit.pk}/edit/$"))
    assert page.js_errors == []
