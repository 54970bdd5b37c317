"""The whole journey of a new user in a real browser, at desktop and phone size:
read an article → sign up → confirm the email (the link read from Django's mail
outbox) → explore pools → add a position from a pool page → import a CSV → see
the dashboard → request a tax report → download it. Any console error fails it;
screenshots of every step are kept as artifacts (E2E_SCREENSHOT_DIR)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from education.services import content_load
from tests.e2e.test_dashboard import DAYS, seed_pool

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
PASSWORD = "Journey-Through-2026"
# 2025: buy 1 WETH for $2,000, sell half for $1,500. FIFO, US: proceeds $1,500, cost
# $1,000 (half the lot), a short-term gain of $500 (held under a year).
CSV = (
    b"tx_id,occurred_at,kind,income_type,asset,quantity,fiat_value,is_fee,position,note\n"
    b"buy1,2025-03-01T10:00:00Z,buy,,USD,-2000,,false,,\n"
    b"buy1,2025-03-01T10:00:00Z,buy,,WETH,1,2000,false,,\n"
    b"sell1,2025-09-01T10:00:00Z,sell,,WETH,-0.5,1500,false,,\n"
    b"sell1,2025-09-01T10:00:00Z,sell,,USD,1500,,false,,\n"
)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def nav(page, name: str):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


@pytest.mark.parametrize("size", list(SIZES))
def test_a_visitor_reads_signs_up_adds_a_position_imports_and_downloads_a_tax_report(page, shot, size):
    content_load()
    pool = seed_pool()
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    email = f"journey.{size}@example.com"

    # A visitor reads an article.
    page.goto("/")
    nav(page, "Learn").click()
    page.wait_for_url(re.compile(r"/learn/$"))
    page.get_by_role("link", name="Impermanent loss, with worked numbers").first.click()
    page.wait_for_url(re.compile(r"/learn/articles/impermanent-loss/$"))
    assert page.inner_text("h1") == "Impermanent loss, with worked numbers"
    assert page.get_by_test_id("article-calculator").is_visible()
    assert fits(page)
    shot(f"journey-{size}-01-article")

    # Signs up and confirms the address from the email.
    nav(page, "Sign up").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    shot(f"journey-{size}-02-signup")
    page.get_by_role("button", name="Sign up", exact=True).click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    assert page.inner_text("h1") == "Check your email"
    [message] = [m for m in mail.outbox if m.to == [email]]
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)
    page.goto(path)
    assert email in page.inner_text("main")
    shot(f"journey-{size}-03-confirm")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/portfolios/$"))
    assert page.get_by_role("button", name="Log out").is_visible()

    # Explores pools and adds a position from a pool page.
    nav(page, "Pools").click()
    page.wait_for_url(re.compile(r"/pools/"))
    assert fits(page)
    shot(f"journey-{size}-04-explorer")
    page.get_by_role("link", name="WETH-USDC").first.click()
    page.wait_for_url(re.compile(rf"/pools/{pool.pk}/$"))
    assert fits(page)
    shot(f"journey-{size}-05-pool")
    page.get_by_role("link", name="Add to my portfolio").click()
    page.wait_for_url(re.compile(rf"/portfolios/positions/new/\?pool={pool.pk}"))
    opened = (timezone.localtime() - timedelta(days=DAYS)).replace(hour=12, minute=0)
    page.get_by_label("Opened at").fill(opened.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Amount 1").fill("1")
    page.get_by_label("Amount 2").fill("2000")
    assert fits(page)
    shot(f"journey-{size}-06-position-form")
    page.get_by_role("button", name="Add position").click()
    page.wait_for_url(re.compile(r"/portfolios/positions/\d+/$"))
    assert "WETH rose 30% against USDC since you deposited." in page.inner_text("main")
    assert fits(page)
    shot(f"journey-{size}-07-position")

    # Imports a CSV into that portfolio.
    page.get_by_role("link", name="← My portfolio").click()
    page.wait_for_url(re.compile(r"/portfolios/\d+/$"))
    page.get_by_role("link", name="Import CSV").first.click()
    page.wait_for_url(re.compile(r"/portfolios/\d+/import/$"))
    page.set_input_files("input[type=file]", files=[{"name": "trades.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.get_by_role("button", name="Preview").click()
    assert "2 new transactions to import" in page.get_by_test_id("import-summary").inner_text()
    assert fits(page)
    shot(f"journey-{size}-08-import-preview")
    page.get_by_role("button", name="Import 2 transactions").click()
    page.wait_for_url(re.compile(r"/portfolios/\d+/$"))
    assert "Imported 2 transactions." in page.inner_text("main")

    # Sees the dashboard.
    nav(page, "Dashboard").click()
    page.wait_for_url(re.compile(r"/portfolios/$"))
    total = page.get_by_test_id("total-value").inner_text()
    assert re.fullmatch(r"\$[\d,]+\.\d\d", total), total
    assert fits(page)
    shot(f"journey-{size}-09-dashboard")

    # Requests the 2025 tax report and downloads it.
    nav(page, "Tax").click()
    page.wait_for_url(re.compile(r"/tax/$"))
    page.get_by_label("Tax year").select_option("2025")
    page.get_by_label("Jurisdiction").select_option("us")
    page.get_by_label("Cost-basis method").select_option("fifo")
    shot(f"journey-{size}-10-tax-form")
    page.get_by_role("button", name="Build report").click()
    page.wait_for_url(re.compile(r"/tax/reports/\d+/$"))
    page.get_by_test_id("total-proceeds").wait_for()
    assert page.get_by_test_id("total-proceeds").inner_text() == "$1,500.00"
    assert page.get_by_test_id("total-cost").inner_text() == "$1,000.00"
    assert page.get_by_test_id("gain-short").inner_text() == "+$500.00"
    assert fits(page)
    shot(f"journey-{size}-11-tax-report")
    pdf = page.request.get(page.get_by_test_id("download-pdf").get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    with page.expect_download() as download:
        page.get_by_test_id("download-pdf").click()
    assert download.value.suggested_filename.endswith(".pdf")

    assert page.js_errors == []
