"""The reading journey in a real browser, on the real learning content:
Learn home → learning path → the impermanent-loss article (TOC, glossary
link) → the glossary term → search."""

import re

import pytest

from education.services import content_load

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reader_follows_the_learning_path_to_impermanent_loss_and_back_through_search(page, live_server, shot):
    content_load()

    page.goto("/learn/")
    assert page.inner_text("h1") == "Learn"
    path = page.get_by_role("region", name="Suggested learning path")
    steps = path.get_by_role("listitem")
    assert steps.count() >= 10
    assert "What liquidity mining really is" in steps.first.inner_text()
    shot("learn-home")

    # Start at the beginning of the path and follow "Next" until impermanent loss.
    steps.first.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/learn/articles/what-is-liquidity-mining/"))
    for _ in range(6):
        if "/impermanent-loss/" in page.url:
            break
        page.get_by_role("link", name=re.compile("Next in the learning path")).click()
        page.wait_for_load_state()
    assert page.url.endswith("/learn/articles/impermanent-loss/")

    assert page.inner_text("h1") == "Impermanent loss, with worked numbers"
    assert "Intermediate" in page.inner_text(".article-meta")
    assert re.search(r"\d+ min read", page.inner_text(".article-meta"))
    toc = page.get_by_role("navigation", name="On this page")
    assert toc.is_visible()
    toc.get_by_role("link", name="The formula").click()
    assert page.url.endswith("#the-formula")
    assert page.locator("h2#the-formula").is_visible()
    assert "Not financial advice." in page.inner_text("main")
    page.goto("/learn/articles/impermanent-loss/")
    shot("learn-article-impermanent-loss")

    glossary_link = page.locator(".article-body a.glossary-link", has_text=re.compile("^impermanent loss$", re.I))
    assert glossary_link.count() == 1
    glossary_link.click()
    page.wait_for_url(re.compile(r"/learn/glossary/impermanent-loss/"))
    assert page.inner_text("h1") == "Impermanent loss"
    assert "compared with simply holding" in page.inner_text(".term-definition")
    shot("learn-term")

    page.get_by_label("Search articles and glossary").fill("impermanent")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/learn/search/\?q=impermanent"))
    results = page.get_by_role("region", name=re.compile("Articles"))
    assert results.get_by_role("link", name="Impermanent loss, with worked numbers").is_visible()
    shot("learn-search")
    results.get_by_role("link", name="Impermanent loss, with worked numbers").click()
    page.wait_for_url(re.compile(r"/learn/articles/impermanent-loss/"))

    # Glossary A–Z with its letter navigation.
    page.goto("/learn/glossary/")
    shot("learn-glossary")
    page.get_by_role("navigation", name="Letters").get_by_role("link", name="S", exact=True).click()
    assert page.url.endswith("#letter-S")
    assert page.get_by_role("link", name="Slippage", exact=True).is_visible()

    # A phone-sized screen: the table of contents sits above the text.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/learn/articles/impermanent-loss/")
    toc_box = page.locator(".article-toc").bounding_box()
    body_box = page.locator(".article-body").bounding_box()
    assert toc_box["y"] < body_box["y"] and toc_box["width"] <= 390
    shot("learn-article-mobile")
    assert page.js_errors == []
