"""The impermanent-loss calculator in a real browser: choose a concentrated range, submit the
GET form, read the result and the chart; the model switch (calculators.js) and the CSP hold."""

import re

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_concentrated_range_calculation_in_a_real_browser(page, shot):
    page.goto("/learn/calculators/impermanent-loss/")
    assert "Impermanent loss calculator" in page.inner_text("h1")
    # The worked example (constant product, price doubled) is there before any input.
    assert page.get_by_test_id("il-result").inner_text() == "−5.7191%"
    # calculators.js shows only the chosen model's parameters.
    assert not page.get_by_label("Lower bound").is_visible()

    page.get_by_label("Pool type").select_option("concentrated")
    assert page.get_by_label("Lower bound").is_visible()
    assert not page.get_by_label("Amplification (A)").is_visible()
    page.get_by_label("Price change (new price ÷ entry price)", exact=True).fill("1.2")
    page.get_by_label("Lower bound").fill("0.8")
    page.get_by_label("Upper bound").fill("0.5")
    page.get_by_role("button", name="Calculate").click()
    page.wait_for_url(re.compile(r"model=concentrated"))
    # The server's message sits next to the field it names.
    upper_field = page.locator(".field", has=page.get_by_label("Upper bound"))
    assert "Must be greater than lower." in upper_field.inner_text()
    shot("calculators-il-error")

    page.get_by_label("Upper bound").fill("1.25")
    page.get_by_role("button", name="Calculate").click()
    page.wait_for_url(re.compile(r"upper=1.25"))
    assert page.get_by_test_id("il-result").inner_text() == "−3.9222%"
    assert "In range" in page.get_by_test_id("in-range").inner_text()
    chart = page.locator("svg.chart")
    assert chart.is_visible()
    assert chart.locator("polyline").count() == 1
    assert "now 1.2×" in chart.inner_html()
    assert page.get_by_role("link", name="Impermanent loss explained").get_attribute("href") == (
        "/learn/articles/impermanent-loss/"
    )
    shot("calculators-il-concentrated")
    assert page.js_errors == []
