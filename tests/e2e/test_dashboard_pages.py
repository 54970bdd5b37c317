"""The other portfolio pages in a real browser: two portfolios with an
out-of-range position, form errors, the import preview, the transaction form
and the dashboard on a phone - no console errors, nothing wider than the screen."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from pools.models import Pool
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from tests.e2e.test_dashboard import seed_pool
from tests.factories import UserFactory
from tests.portfolios.factories import PoolFactory, PortfolioFactory, PortfolioSnapshotFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = Decimal
CSV = (
    b"tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
    b"t1,2025-06-01T12:00:00Z,buy,,USD,-2000,,false,,\n"
    b"t1,2025-06-01T12:00:00Z,buy,,WETH,1,2000,false,,\n"
    b"t3,2025-07-02T00:00:00Z,transfer_in,,NOPE,5,1,false,,\n"
)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_portfolio_pages_render_cleanly(page, live_server, shot):
    pool = seed_pool()
    weth, usdc = [link.token for link in pool.underlying_links.order_by("position")]
    v3 = PoolFactory(chain=pool.chain, symbol="WETH-USDC", kind=Pool.Kind.CONCENTRATED, meta="0.05%")
    v3.underlying_links.create(token=usdc, position=0)
    v3.underlying_links.create(token=weth, position=1)
    user = UserFactory(email="two.wallets@example.com")
    main = PortfolioFactory(owner=user, name="Main wallet")
    PortfolioFactory(owner=user, name="Ledger")
    when = timezone.now() - timedelta(days=20)
    lp = position_open(
        portfolio=main,
        pool=pool,
        kind="lp",
        opened_at=when,
        deposits=[LegInput(token=weth, quantity=D("1")), LegInput(token=usdc, quantity=D("2200"))],
    )
    position_open(
        portfolio=main,
        pool=v3,
        kind="concentrated_lp",
        opened_at=when,
        range_lower=D("1800"),
        range_upper=D("2300"),
        deposits=[LegInput(token=weth, quantity=D("1")), LegInput(token=usdc, quantity=D("2000"))],
    )
    for i in range(20):
        PortfolioSnapshotFactory(
            portfolio=main, day=(when + timedelta(days=i)).date(), value=D(8400 + 30 * i), deposited=D(8400)
        )

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("two.wallets@example.com")
    page.get_by_label("Password").fill("a-strong-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portfolios/$"))
    switcher = page.get_by_role("navigation", name="Portfolios")
    assert switcher.get_by_role("link", name="Ledger").is_visible()
    shot("dashboard-all")
    switcher.get_by_role("link", name="Main wallet").click()
    page.wait_for_url(re.compile(rf"/portfolios/{main.pk}/$"))
    assert "is out of range" in page.inner_text("main")
    assert page.locator(".badge", has_text="above range").is_visible()
    shot("dashboard-portfolio")

    page.goto(f"/portfolios/positions/new/?pool={pool.pk}")
    page.get_by_label("Amount 1").fill("-1")
    page.get_by_role("button", name="Add position").click()
    assert "Enter the amount as a positive number" in page.inner_text("main")
    assert page.get_by_label("Amount 1").input_value() == "-1"
    shot("position-form-error")

    page.goto(f"/portfolios/positions/{lp.pk}/remove/")
    page.get_by_label("Amount 1").fill("7")
    page.get_by_role("button", name="Remove liquidity").click()
    assert re.search(r"withdrawing 7 WETH but the position holds", page.inner_text("main"))
    shot("remove-liquidity-error")

    page.goto(f"/portfolios/{main.pk}/transactions/new/")
    assert page.get_by_label("Token 3").is_visible()  # three blank leg rows
    shot("transaction-form")

    page.goto(f"/portfolios/{main.pk}/import/")
    page.set_input_files("input[type=file]", files=[{"name": "t.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.get_by_role("button", name="Preview").click()
    assert "Unknown token 'NOPE'" in page.inner_text("main")
    # Only the explicit choice to leave the bad row out can import anything.
    assert page.get_by_role("button", name=re.compile("^Import")).inner_text() == (
        "Import 1 transaction, leave out 1 row error"
    )
    shot("import-preview")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/portfolios/{main.pk}/")
    assert no_horizontal_scroll(page)
    shot("dashboard-mobile")
    page.goto(f"/portfolios/positions/{lp.pk}/")
    assert no_horizontal_scroll(page)
    shot("position-mobile")
    assert page.js_errors == []
