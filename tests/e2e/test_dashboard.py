"""The portfolio journey in a real browser: log in, find a pool in the explorer,
"Add to my portfolio", enter the deposit, see the position valued on the
dashboard and open its page."""

import re
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pools.models import Pool
from tests.factories import UserFactory
from tests.pools.factories import (
    ChainFactory,
    PoolFactory,
    PoolSnapshotFactory,
    ProtocolFactory,
    TokenFactory,
    TokenPriceFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = Decimal
DAYS = 30


def seed_pool() -> Pool:
    """A WETH/USDC Uniswap V2 pool with 30 days of prices (ETH 2000 -> 2600) and yields."""
    chain = ChainFactory()
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    weth = TokenFactory.create(
        chain=chain, symbol="WETH", price_symbol="ETH", last_price_usd=D("2600"), last_price_at=timezone.now()
    )
    usdc = TokenFactory.create(
        chain=chain,
        symbol="USDC",
        price_symbol="USDC",
        is_stablecoin=True,
        last_price_usd=D("1"),
        last_price_at=timezone.now(),
    )
    pool = PoolFactory.create(
        chain=chain,
        protocol=ProtocolFactory(slug="uniswap-v2", name="Uniswap V2"),
        symbol="WETH-USDC",
        kind=Pool.Kind.AMM,
        tvl_usd=D("250000000"),
        apy=D("14"),
        apy_base=D("11"),
        apy_reward=D("3"),
        first_seen_at=today - timedelta(days=DAYS),
        last_seen_at=timezone.now(),
    )
    for i, token in enumerate([weth, usdc]):
        pool.underlying_links.create(token=token, position=i)
    for day in range(DAYS + 1):
        moment = today - timedelta(days=DAYS - day)
        TokenPriceFactory(token=weth, timestamp=moment, price_usd=D(2000) + D(20) * day)
        TokenPriceFactory(token=usdc, timestamp=moment, price_usd=D("1"))
        PoolSnapshotFactory(pool=pool, day=moment.date(), apy=D("14"), apy_base=D("11"), apy_reward=D("3"))
    return pool


def test_a_user_adds_a_pool_to_the_portfolio_and_sees_it_valued(page, live_server, shot):
    pool = seed_pool()
    UserFactory(email="lp.user@example.com")  # verified, password "a-strong-passphrase-42"

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("lp.user@example.com")
    page.get_by_label("Password").fill("a-strong-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portfolios/$"))
    assert "Nothing to show yet" in page.inner_text("main")
    shot("dashboard-empty")

    page.get_by_role("link", name="Pools", exact=True).click()
    page.wait_for_url(re.compile(r"/pools/"))
    page.get_by_role("link", name="WETH-USDC").first.click()
    page.wait_for_url(re.compile(rf"/pools/{pool.pk}/"))
    page.get_by_role("link", name="Add to my portfolio").click()
    page.wait_for_url(re.compile(rf"/portfolios/positions/new/\?pool={pool.pk}"))
    assert page.inner_text("h1") == "Add WETH-USDC to your portfolio"
    assert page.get_by_label("Kind").input_value() == "lp"

    opened = (timezone.localtime() - timedelta(days=DAYS)).replace(hour=12, minute=0)
    page.get_by_label("Opened at").fill(opened.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Amount 1").fill("1")
    page.get_by_label("Amount 2").fill("2000")
    shot("position-form")
    page.get_by_role("button", name="Add position").click()

    page.wait_for_url(re.compile(r"/portfolios/positions/\d+/$"))
    assert "added to My portfolio" in page.inner_text("main")
    value = page.get_by_test_id("position-value").inner_text()
    assert re.fullmatch(r"\$[\d,]+\.\d\d", value), value
    assert "What impermanent loss did to this position" in page.inner_text("main")
    assert "WETH rose 30% against USDC since you deposited." in page.inner_text("main")
    shot("position")

    page.get_by_role("link", name="Dashboard", exact=True).click()
    page.wait_for_url(re.compile(r"/portfolios/$"))
    total = page.get_by_test_id("total-value").inner_text()
    assert re.fullmatch(r"\$[\d,]+\.\d\d", total), total
    row = page.get_by_role("row", name=re.compile("WETH-USDC"))
    assert re.search(r"\$[\d,]+\.\d\d", row.inner_text())
    shot("dashboard")

    row.get_by_role("link", name="WETH-USDC").click()
    page.wait_for_url(re.compile(r"/portfolios/positions/\d+/$"))
    assert page.inner_text("h1").startswith("WETH-USDC")
    assert page.js_errors == []
