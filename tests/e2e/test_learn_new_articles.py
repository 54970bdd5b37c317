"""A new late-2026 article in a real browser at a laptop and a phone width:
it renders with its table of contents, glossary links to the new terms, the
sources and checked-on date, and no horizontal scrolling on a phone."""

import re

import pytest

from education.services import content_load

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

URL = "/learn/articles/loss-versus-rebalancing-and-mev/"


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_the_lvr_article_reads_well_on_a_laptop_and_a_phone(page, shot, width, height):
    content_load()
    page.set_viewport_size({"width": width, "height": height})
    page.goto(URL)

    assert page.inner_text("h1") == "Loss-versus-rebalancing and MEV: what arbitrage really costs an LP"
    meta = page.inner_text(".article-meta")
    assert "Advanced" in meta and "Facts checked 7 Dec 2026" in meta
    # The worked round trip is there as a table, with the total the tests recompute.
    assert "$930.75" in page.locator(".article-body table").first.inner_text()
    # First mentions of the new terms link the glossary.
    lvr = page.locator(".article-body a.glossary-link[href='/learn/glossary/loss-versus-rebalancing/']")
    assert lvr.count() == 1
    assert page.locator(".article-body a.glossary-link[href='/learn/glossary/mev/']").count() == 1
    sources = page.get_by_role("region", name="Sources")
    assert sources.get_by_role("link", name=re.compile("Loss-Versus-Rebalancing")).get_attribute(
        "href") == "https://arxiv.org/abs/2208.06046"
    assert "checked against these sources on 7 December 2026" in sources.inner_text()
    # Nothing wider than the screen (tables scroll inside the article, not the page).
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.js_errors == []
    shot(f"learn-article-lvr-{width}")
