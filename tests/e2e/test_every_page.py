"""Every main page at phone (390×844) and desktop (1366×900) size: nothing is
wider than the screen, the console stays clean, and a screenshot of each page
is kept as an artifact (E2E_SCREENSHOT_DIR, default artifacts/screenshots/)."""

import re
from datetime import timedelta
from decimal import Decimal
from typing import cast

import pytest
from django.utils import timezone

from education.models import GlossaryTerm
from education.services import content_load
from pools.models import Pool
from portfolios.models import Portfolio
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from portfolios.tax.services import tax_report_request
from tests.e2e.test_dashboard import seed_pool
from tests.e2e.test_tax import seed_ledger
from tests.factories import UserFactory
from tests.portfolios.factories import PoolFactory, PortfolioFactory, PortfolioSnapshotFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
D = Decimal
SIZES = {"phone": (390, 844), "desktop": (1366, 900)}

# The width check: the document may not be wider than the viewport. The offender
# list names the widest elements so a failure says where to look.
OVERFLOW_JS = """() => {
  const w = window.innerWidth;
  if (document.documentElement.scrollWidth <= w) return null;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && r.width > 0) {
      const cls = typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : '';
      wide.push(el.tagName.toLowerCase() + cls + ' right=' + Math.round(r.right));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, wide: wide.slice(0, 8)};
}"""


def seed() -> dict:
    """Learning content, two pools (one concentrated), a user with positions and history."""
    content_load()
    pool = seed_pool()
    weth, usdc = [link.token for link in pool.underlying_links.order_by("position")]
    v3 = cast(Pool, PoolFactory(chain=pool.chain, symbol="WETH-USDC", kind=Pool.Kind.CONCENTRATED, meta="0.05%"))
    v3.underlying_links.create(token=usdc, position=0)
    v3.underlying_links.create(token=weth, position=1)
    user = UserFactory(email="every.page@example.com")  # password "a-strong-passphrase-42"
    main = cast(Portfolio, PortfolioFactory(owner=user, name="Main wallet"))
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
    term = GlossaryTerm.objects.order_by("slug").first()
    seed_ledger(user)  # the hand-worked 2024 ledger of the tax tests, in a second portfolio
    report, _ = tax_report_request(owner=user, year=2024)  # built at once (eager tasks)
    return {"pool": pool, "v3": v3, "portfolio": main, "position": lp, "term": term, "report": report}


def anonymous_pages(data) -> list[tuple[str, str]]:
    return [
        ("landing", "/"),
        ("learn", "/learn/"),
        ("article", "/learn/articles/impermanent-loss/"),
        ("glossary", "/learn/glossary/"),
        ("term", f"/learn/glossary/{data['term'].slug}/"),
        ("learn-search", "/learn/search/?q=impermanent"),
        ("calculators", "/learn/calculators/"),
        ("calc-il", "/learn/calculators/impermanent-loss/?model=concentrated&price_ratio=1.2&lower=0.8&upper=1.25"),
        ("calc-apy", "/learn/calculators/apy/"),
        ("calc-break-even", "/learn/calculators/break-even/"),
        ("explorer", "/pools/"),
        ("pool", f"/pools/{data['pool'].pk}/"),
        ("pool-v3", f"/pools/{data['v3'].pk}/"),
        ("status", "/status/"),
        ("login", "/accounts/login/"),
        ("signup", "/accounts/signup/"),
        ("password-reset", "/accounts/password/reset/"),
    ]


def user_pages(data) -> list[tuple[str, str]]:
    portfolio, position = data["portfolio"], data["position"]
    return [
        ("dashboard", "/portfolios/"),
        ("portfolio", f"/portfolios/{portfolio.pk}/"),
        ("position", f"/portfolios/positions/{position.pk}/"),
        ("position-form", f"/portfolios/positions/new/?pool={data['v3'].pk}"),
        ("remove-liquidity", f"/portfolios/positions/{position.pk}/remove/"),
        ("claim", f"/portfolios/positions/{position.pk}/claim/"),
        ("close", f"/portfolios/positions/{position.pk}/close/"),
        ("transactions", f"/portfolios/{portfolio.pk}/transactions/"),
        ("transaction-form", f"/portfolios/{portfolio.pk}/transactions/new/"),
        ("portfolio-form", "/portfolios/new/"),
        ("import", f"/portfolios/{portfolio.pk}/import/"),
        ("tax", "/tax/"),
        ("tax-report", f"/tax/reports/{data['report'].pk}/"),
        ("account", "/account/"),
        ("settings", "/account/settings/"),
        ("emails", "/accounts/email/"),
        ("password-change", "/accounts/password/change/"),
    ]


def log_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("every.page@example.com")
    page.get_by_label("Password").fill("a-strong-passphrase-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portfolios/$"))


@pytest.mark.parametrize("size", list(SIZES))
def test_every_main_page_fits_the_screen_with_a_clean_console(page, shot, size):
    data = seed()
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    problems: list[str] = []

    def visit(name: str, url: str) -> None:
        response = page.goto(url)
        if response is None or response.status != 200:
            problems.append(f"{name} {url}: HTTP {response.status if response else '-'}")
        overflow = page.evaluate(OVERFLOW_JS)
        if overflow:
            problems.append(f"{name} {url}: {overflow['scrollWidth']}px wide at {width}px: {overflow['wide']}")
        if page.js_errors:
            problems.append(f"{name} {url}: console {page.js_errors[:]}")
            page.js_errors.clear()
        shot(f"{size}-{name}")

    for name, url in anonymous_pages(data):
        visit(name, url)
    log_in(page)
    for name, url in user_pages(data):
        visit(name, url)
    assert not problems, "\n".join(problems)


def test_a_tap_on_a_chart_shows_the_value_under_it_on_a_phone(page, shot):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/learn/calculators/impermanent-loss/?model=constant_product&price_ratio=2")
    chart = page.locator("svg.chart")
    # The log price axis: 1× sits in the middle, between 0.1× and 10×.
    labels = chart.locator("text").evaluate_all("els => els.map(e => e.textContent)")
    assert {"0.1×", "0.5×", "1×", "2×", "10×"} <= set(labels)
    # The y axis ends at 0: no positive percentage tick.
    assert "0.0%" in labels
    assert [t for t in labels if t.endswith("%") and t[0].isdigit() and t != "0.0%"] == []
    hits = chart.locator(".chart-hit")
    assert hits.count() > 10
    hits.nth(hits.count() - 1).click()  # the 10× end of the curve: IL of a 10× move is −42.5 %
    readout = page.locator(".chart-readout")
    assert readout.inner_text() == "10×: Impermanent loss vs holding −42.50%"
    shot("phone-chart-tap")
    assert page.js_errors == []


@pytest.mark.parametrize(("size", "folded"), [("phone", True), ("desktop", False)])
def test_the_explorer_filters_fold_away_on_a_phone_only(page, size, folded):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/pools/")
    chain = page.get_by_label("Chain")
    assert chain.is_visible() is not folded
    if folded:
        page.get_by_text("Filter and sort").click()
        assert chain.is_visible()
    page.goto("/pools/?stablecoin=on")  # a filter on: open at every size
    assert page.get_by_label("Chain").is_visible()
    assert page.js_errors == []
